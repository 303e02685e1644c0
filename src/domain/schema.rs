//! The domain's input rules as OpenAPI schemas, for fields whose rule lives in code
//! (`check_id`, the date parsers, the money parser) rather than in their Rust type.
//! Each type here is never built: a field names it with `#[schema(value_type = ...)]` so the
//! document states what the validation accepts, exactly, and a client generated from it
//! sends what the server takes.

use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaFormat};
use utoipa::openapi::{KnownFormat, RefOr, Type};
use utoipa::{PartialSchema, ToSchema};

/// The characters `check_id` refuses: Unicode control characters (`char::is_control`, the
/// `Cc` category) and `/`.
pub const ID_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F/]+$";
/// The most characters (not bytes) an identifier may have.
pub const ID_MAX_CHARS: usize = 128;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// An identifier as `check_id` accepts it: 1 to 128 characters, no control character and
/// no `/`.
pub struct Id;

impl PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some("1 to 128 characters, none a control character or `/`"))
            .min_length(Some(1))
            .max_length(Some(ID_MAX_CHARS))
            .pattern(Some(ID_PATTERN))
            .into()
    }
}
impl ToSchema for Id {}

/// A calendar day, `YYYY-MM-DD`.
pub struct Day;

impl PartialSchema for Day {
    fn schema() -> RefOr<Schema> {
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("`YYYY-MM-DD`"))
            .into()
    }
}
impl ToSchema for Day {}

fn date_time() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

/// A day (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub struct DayOrTime;

impl PartialSchema for DayOrTime {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Day::schema())
            .item(date_time())
            .description(Some("`YYYY-MM-DD` (midnight UTC) or an RFC 3339 time"))
            .into()
    }
}
impl ToSchema for DayOrTime {}

/// An order's time: RFC 3339 or `YYYY-MM-DD`.
pub struct OrderTime;

impl PartialSchema for OrderTime {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(date_time())
            .item(Day::schema())
            // `YYYY-MM-DD HH:MM:SS` (UTC) is read too, for imports from other systems; no
            // format states it, and a pattern would also allow impossible dates.
            .description(Some(
                "RFC 3339 or `YYYY-MM-DD` (midnight UTC); `YYYY-MM-DD HH:MM:SS` (UTC) is read too",
            ))
            .into()
    }
}
impl ToSchema for OrderTime {}

/// A value model's time unit (`value::model::TimeUnit`).
pub struct TimeUnit;

impl PartialSchema for TimeUnit {
    fn schema() -> RefOr<Schema> {
        string().enum_values(Some(["day", "week", "month"])).into()
    }
}
impl ToSchema for TimeUnit {}

/// What `parse_amount` takes: up to 15 integer digits and 2 decimals, a minus sign allowed.
pub const AMOUNT_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$";
/// An amount that must not be negative: no minus sign, but on a zero.
const NON_NEGATIVE_AMOUNT_PATTERN: &str = r"^([0-9]{1,15}(\.[0-9]{1,2})?|-0{1,15}(\.0{1,2})?)$";
/// A currency as `Currency` parses it.
pub const CURRENCY_PATTERN: &str = "^[A-Z]{3}$";

/// Money that must not be negative (an amount at stake, a customer's revenue): the form of
/// `MoneyDto`, its amount without a minus sign.
pub struct NonNegativeMoney;

impl PartialSchema for NonNegativeMoney {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "amount",
                string()
                    .pattern(Some(NON_NEGATIVE_AMOUNT_PATTERN))
                    .description(Some("Decimal string, at most 2 decimals; not negative")),
            )
            .property(
                "currency",
                string()
                    .pattern(Some(CURRENCY_PATTERN))
                    .description(Some("Three-letter currency code")),
            )
            .required("amount")
            .required("currency")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ))
            .into()
    }
}
impl ToSchema for NonNegativeMoney {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `s` matches `pattern`, as a JSON Schema validator reads it.
    fn matches(pattern: &str, s: &str) -> bool {
        let schema = serde_json::json!({"type": "string", "pattern": pattern});
        jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&serde_json::json!(s))
    }

    /// The patterns are written for the document; the parsers are the rule. They agree on
    /// the edges.
    #[test]
    fn the_patterns_accept_what_the_parsers_accept() {
        for s in [
            "0",
            "-0.00",
            "1.5",
            "999999999999999.99",
            "-12.30",
            "1",
            "x",
            "1.234",
            "1e3",
            "",
            "1.",
            "1000000000000000",
        ] {
            let parsed = crate::money::parse_amount(s).is_ok();
            assert_eq!(matches(AMOUNT_PATTERN, s), parsed, "{s}");
            let non_negative = parsed && !s.starts_with('-')
                || s.starts_with("-0") && parsed && !s.bytes().any(|b| (b'1'..=b'9').contains(&b));
            assert_eq!(matches(NON_NEGATIVE_AMOUNT_PATTERN, s), non_negative, "{s}");
        }
        for s in [
            "c-10442", "ZD-48213", "ü", "a b", "/", "a/b", "\u{7}", "\u{85}", "",
        ] {
            let ok = crate::domain::check_id("id", s).is_ok();
            assert_eq!(
                matches(ID_PATTERN, s) && s.chars().count() <= ID_MAX_CHARS,
                ok,
                "{s:?}"
            );
        }
        for s in ["EUR", "eur", "EURO", "E1R"] {
            assert_eq!(
                matches(CURRENCY_PATTERN, s),
                s.parse::<crate::money::Currency>().is_ok(),
                "{s}"
            );
        }
    }
}
