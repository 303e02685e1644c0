//! Locales: the BCP 47 tag a request may carry, the languages the engine speaks, and
//! money written the way each language writes it (`€450` in English, `450,00 €` in German).
//!
//! A policy declares its own locales (their texts live in the policy); the engine's own
//! sentences (authority, guards, ranking) exist in the languages of [`Lang`], and a locale
//! of another language gets them in English.

use super::FieldError;
use crate::money::{round_cents, Money};
use rust_decimal::Decimal;

/// A language the engine writes its own sentences and money in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The language of a BCP 47 tag by its primary subtag; English for any other.
    pub fn of(tag: &str) -> Lang {
        if primary(tag).eq_ignore_ascii_case("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    /// Append `money` to `out` in this language's prose form.
    pub fn write_money(self, money: Money, out: &mut String) {
        match self {
            Lang::En => money.write_display(out),
            Lang::De => write_money_de(money, out),
        }
    }

    /// [`Lang::write_money`] as a new string.
    pub fn money(self, money: Money) -> String {
        let mut out = String::with_capacity(24);
        self.write_money(money, &mut out);
        out
    }
}

/// The primary language subtag (`de` of `de-CH`).
pub fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// Longest tag accepted (RFC 5646 recommends room for 35 characters).
pub const MAX_TAG: usize = 35;

/// What [`parse_tag`] accepts, for the OpenAPI document (with `maxLength` [`MAX_TAG`]).
pub const TAG_PATTERN: &str = "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$";

/// Check a BCP 47 language tag's shape: a primary subtag of 2 to 8 letters, then
/// subtags of 1 to 8 letters or digits, joined by `-`. Validation of the shape only;
/// a well-formed tag the policy does not know falls back to the policy's default.
pub fn parse_tag(field: &str, tag: &str) -> Result<String, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!(
                "expected a BCP 47 language tag such as `de-DE`, got `{}`",
                crate::money::truncate(tag)
            ),
        )
    };
    if tag.is_empty() || tag.len() > MAX_TAG {
        return Err(bad());
    }
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    if !(2..=8).contains(&first.len()) || !first.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    for p in parts {
        if !(1..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
    }
    Ok(tag.to_string())
}

/// German prose money: `1.234,50 €`, always with cents; `450,00 CHF` for a currency
/// without a symbol after the amount.
fn write_money_de(money: Money, out: &mut String) {
    let r = round_cents(money.amount);
    if r.is_sign_negative() && !r.is_zero() {
        out.push('-');
    }
    let abs = r.abs();
    let whole = abs.trunc();
    let cents = ((abs - whole) * Decimal::ONE_HUNDRED).trunc();
    let digits = whole.to_string();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out.push(',');
    let c = cents.mantissa().unsigned_abs() % 100;
    out.push(char::from(b'0' + (c / 10) as u8));
    out.push(char::from(b'0' + (c % 10) as u8));
    out.push(' ');
    match money.currency.as_str() {
        "EUR" => out.push('€'),
        "USD" => out.push('$'),
        "GBP" => out.push('£'),
        code => out.push_str(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: &str, c: &str) -> Money {
        Money::new(a.parse().unwrap(), c.parse().unwrap())
    }

    #[test]
    fn german_money_has_cents_comma_and_the_symbol_after() {
        assert_eq!(Lang::De.money(m("450", "EUR")), "450,00 €");
        assert_eq!(Lang::De.money(m("10400.5", "EUR")), "10.400,50 €");
        assert_eq!(Lang::De.money(m("1234567.891", "CHF")), "1.234.567,89 CHF");
        assert_eq!(Lang::De.money(m("0.05", "EUR")), "0,05 €");
        assert_eq!(Lang::En.money(m("450", "EUR")), "€450");
    }

    #[test]
    fn tags_are_checked_for_shape_and_read_by_language() {
        assert!(parse_tag("locale", "de-DE").is_ok());
        assert!(parse_tag("locale", "gsw-CH-1996").is_ok());
        for bad in [
            "",
            "d",
            "de_DE",
            "de--DE",
            "de-DE-",
            "1e",
            "de-ÄÖ",
            &"x".repeat(40),
        ] {
            assert_eq!(
                parse_tag("locale", bad).unwrap_err().field,
                "locale",
                "{bad}"
            );
        }
        assert_eq!(Lang::of("de-CH"), Lang::De);
        assert_eq!(Lang::of("DE"), Lang::De);
        assert_eq!(Lang::of("fr-FR"), Lang::En);
    }

    #[test]
    fn the_documented_pattern_accepts_what_the_parser_accepts() {
        let schema =
            serde_json::json!({"type": "string", "pattern": TAG_PATTERN, "maxLength": MAX_TAG});
        let v = jsonschema::validator_for(&schema).unwrap();
        for tag in [
            "de",
            "de-DE",
            "gsw-CH-1996",
            "en-GB",
            "de_DE",
            "",
            "d",
            "de--DE",
            "de-",
            "1e",
            "de-ÄÖ",
            "de-DE\n",
        ] {
            let tag = tag.to_string();
            assert_eq!(
                v.is_valid(&serde_json::json!(tag)),
                parse_tag("locale", &tag).is_ok(),
                "{tag:?}"
            );
        }
        let long = format!("de-{}", ["abcdefgh"; 4].join("-"));
        assert_eq!(
            v.is_valid(&serde_json::json!(long)),
            parse_tag("l", &long).is_ok()
        );
    }
}
