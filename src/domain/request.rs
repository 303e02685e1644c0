//! The decision request: its wire form and the validated input the engine evaluates.

use super::complaint::{Channel, Fault, Severity};
use super::customer::parse_money_field;
use super::{check_id, too_long, FieldError};
use crate::money::{truncate, Currency, MoneyDto};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Type};
use utoipa::{PartialSchema, ToSchema};

/// Who is asking: the agent handling the ticket and their role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDto {
    #[schema(value_type = super::schema::Id)]
    pub id: String,
    /// One of the active policy's roles, e.g. `agent`, `senior`, `lead`, `manager`.
    pub role: String,
}

/// What the customer complains about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintDto {
    /// One of the active policy's categories.
    pub category: String,
    /// `low`, `medium`, `high` or `critical`.
    #[schema(value_type = super::complaint::Severity)]
    pub severity: String,
    /// `email`, `chat`, `phone`, `social`, `web` or `in_person`.
    #[schema(value_type = super::complaint::Channel)]
    pub channel: String,
    /// `ours`, `partner`, `customer` or `unclear`.
    #[schema(value_type = super::complaint::Fault)]
    pub fault: String,
    /// What the complaint is about in money, in the policy currency; zero when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::NonNegativeMoney>)]
    pub amount_at_stake: Option<MoneyDto>,
    /// Free text, at most 10,000 characters; stored with the decision, never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
}

/// Body of `POST /v1/decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequestDto {
    #[schema(value_type = super::schema::Id)]
    pub ticket_id: String,
    #[schema(value_type = super::schema::Id)]
    pub customer_id: String,
    pub agent: AgentDto,
    pub complaint: ComplaintDto,
    /// Extra facts the policy may test: strings, numbers or booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Attributes>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// The agent's language as a BCP 47 tag, e.g. `de-DE`: the answer's texts are in the
    /// policy locale of this tag, else of its language, else the policy's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // No `example`: schemathesis would send it with the rest of the body unfilled.
    #[schema(max_length = 35, pattern = "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
    pub locale: Option<String>,
    /// The market to decide in (docs/policy.md, "Markets"): its active policy decides.
    /// Absent: the market `default`, or the only market there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32, pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub market: Option<String>,
}

/// A decision request's `attributes`: at most 64, named by 1 to 64 characters, each a
/// string of at most 256 characters, a number or a boolean.
pub struct Attributes;

impl PartialSchema for Attributes {
    fn schema() -> RefOr<Schema> {
        let value = AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(MAX_ATTR_TEXT)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .max_properties(Some(MAX_ATTRIBUTES))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_ATTR_NAME)),
            ))
            .additional_properties(Some(Schema::AnyOf(value.build())))
            .description(Some(
                "Extra facts the policy may test: strings, numbers or booleans",
            ))
            .into()
    }
}
impl ToSchema for Attributes {}

/// A scalar fact from `attributes`.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// Limits on free-form input, so one request cannot carry unbounded work.
pub const MAX_ATTRIBUTES: usize = 64;
/// Characters of free text (a description, a note, a comment).
pub const MAX_TEXT: usize = 10_000;
/// Characters of an attribute's text value, and of its name.
pub const MAX_ATTR_TEXT: usize = 256;
pub const MAX_ATTR_NAME: usize = 64;

/// The vocabulary a request is checked against: the active policy's.
pub struct Vocab<'a> {
    pub categories: &'a [String],
    pub roles: &'a [String],
    pub currency: Currency,
}

/// A validated decision request.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub ticket_id: String,
    pub customer_id: String,
    pub agent_id: String,
    /// Index into the policy's roles (rising authority).
    pub role: usize,
    /// Index into the policy's categories.
    pub category: usize,
    pub severity: Severity,
    pub channel: Channel,
    pub fault: Fault,
    /// Amount at stake in the policy currency, never negative.
    pub claim: Decimal,
    /// Sorted by name for binary search.
    pub attributes: BTreeMap<String, AttrValue>,
    /// The requested BCP 47 locale, well-formed; the engine picks the policy's texts by it.
    pub locale: Option<String>,
}

fn pick(field: &str, value: &str, allowed: &[String]) -> Result<usize, FieldError> {
    allowed.iter().position(|a| a == value).ok_or_else(|| {
        FieldError::new(
            field,
            format!(
                "expected one of {}, got `{}`",
                allowed.join(", "),
                truncate(value)
            ),
        )
    })
}

impl DecisionRequestDto {
    /// Validate against the active policy's vocabulary and currency.
    pub fn validate(&self, vocab: &Vocab<'_>) -> Result<DecisionInput, FieldError> {
        check_id("ticket_id", &self.ticket_id)?;
        check_id("customer_id", &self.customer_id)?;
        check_id("agent.id", &self.agent.id)?;
        let role = pick("agent.role", &self.agent.role, vocab.roles)?;
        let c = &self.complaint;
        let category = pick("complaint.category", &c.category, vocab.categories)?;
        let severity = Severity::parse("complaint.severity", &c.severity)?;
        let channel = Channel::parse("complaint.channel", &c.channel)?;
        let fault = Fault::parse("complaint.fault", &c.fault)?;
        let claim = match &c.amount_at_stake {
            None => Decimal::ZERO,
            Some(m) => {
                let m = parse_money_field("complaint.amount_at_stake", m)?;
                if m.currency != vocab.currency {
                    return Err(FieldError::new(
                        "complaint.amount_at_stake.currency",
                        format!(
                            "`{}` is not the policy currency `{}`",
                            m.currency, vocab.currency
                        ),
                    ));
                }
                if m.amount.is_sign_negative() && !m.amount.is_zero() {
                    return Err(FieldError::new(
                        "complaint.amount_at_stake.amount",
                        "must not be negative",
                    ));
                }
                m.amount
            }
        };
        if c.description
            .as_ref()
            .is_some_and(|d| too_long(d, MAX_TEXT))
        {
            return Err(FieldError::new(
                "complaint.description",
                format!("must be at most {MAX_TEXT} characters"),
            ));
        }
        Ok(DecisionInput {
            ticket_id: self.ticket_id.clone(),
            customer_id: self.customer_id.clone(),
            agent_id: self.agent.id.clone(),
            role,
            category,
            severity,
            channel,
            fault,
            claim,
            attributes: parse_attributes(self.attributes.as_ref())?,
            locale: self
                .locale
                .as_deref()
                .map(|l| super::locale::parse_tag("locale", l))
                .transpose()?,
        })
    }
}

fn parse_attributes(
    raw: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<BTreeMap<String, AttrValue>, FieldError> {
    let mut out = BTreeMap::new();
    let Some(raw) = raw else { return Ok(out) };
    if raw.len() > MAX_ATTRIBUTES {
        return Err(FieldError::new(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (k, v) in raw {
        let field = format!("attributes.{}", truncate(k));
        if k.is_empty() || too_long(k, MAX_ATTR_NAME) {
            return Err(FieldError::new(field, "names must be 1 to 64 characters"));
        }
        let value = match v {
            serde_json::Value::String(s) if !too_long(s, MAX_ATTR_TEXT) => {
                AttrValue::Text(s.clone())
            }
            serde_json::Value::String(_) => {
                return Err(FieldError::new(
                    field,
                    format!("text must be at most {MAX_ATTR_TEXT} characters"),
                ))
            }
            serde_json::Value::Bool(b) => AttrValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() => AttrValue::Number(f),
                _ => return Err(FieldError::new(field, "number out of range")),
            },
            _ => {
                return Err(FieldError::new(
                    field,
                    "must be a string, number or boolean",
                ))
            }
        };
        out.insert(k.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vocab_parts() -> (Vec<String>, Vec<String>) {
        (
            vec!["late_delivery".into(), "other".into()],
            vec!["agent".into(), "lead".into()],
        )
    }

    fn request(v: serde_json::Value) -> Result<DecisionInput, FieldError> {
        let (categories, roles) = vocab_parts();
        let vocab = Vocab {
            categories: &categories,
            roles: &roles,
            currency: "EUR".parse().unwrap(),
        };
        serde_json::from_value::<DecisionRequestDto>(v)
            .unwrap()
            .validate(&vocab)
    }

    fn base() -> serde_json::Value {
        json!({"ticket_id": "T-1", "customer_id": "c-1", "agent": {"id": "a", "role": "agent"},
            "complaint": {"category": "late_delivery", "severity": "low", "channel": "email", "fault": "ours",
            "amount_at_stake": {"amount": "12.50", "currency": "EUR"}}})
    }

    #[test]
    fn a_well_formed_request_is_accepted() {
        let i = request(base()).unwrap();
        assert_eq!(i.claim.to_string(), "12.50");
        assert_eq!(i.role, 0);
    }

    #[test]
    fn unknown_category_lists_the_allowed_ones() {
        let mut v = base();
        v["complaint"]["category"] = json!("lost_luggage");
        let e = request(v).unwrap_err();
        assert_eq!(e.field, "complaint.category");
        assert!(e.message.contains("late_delivery, other"), "{}", e.message);
    }

    #[test]
    fn the_locale_is_shape_checked_and_documented_with_the_parsers_pattern() {
        let mut v = base();
        v["locale"] = json!("de-DE");
        assert_eq!(request(v).unwrap().locale.as_deref(), Some("de-DE"));
        let mut v = base();
        v["locale"] = json!("de_DE");
        assert_eq!(request(v).unwrap_err().field, "locale");
        let schema = serde_json::to_value(<DecisionRequestDto as PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["properties"]["locale"]["pattern"],
            json!(crate::domain::locale::TAG_PATTERN)
        );
    }

    #[test]
    fn foreign_currency_and_nested_attributes_are_refused() {
        let mut v = base();
        v["complaint"]["amount_at_stake"]["currency"] = json!("USD");
        assert_eq!(
            request(v).unwrap_err().field,
            "complaint.amount_at_stake.currency"
        );
        let mut v = base();
        v["attributes"] = json!({"deep": {"x": 1}});
        assert_eq!(request(v).unwrap_err().field, "attributes.deep");
    }
}
