//! The customer value record of the contract: wire form and validated form.

use super::{check_id, FieldError};
use crate::money::{parse_amount, Currency, MoneyDto};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Last Net Promoter Score answer of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NpsDto {
    /// 0 to 10; 0–6 is a detractor.
    #[serde(deserialize_with = "super::integer::integer")]
    #[schema(minimum = 0, maximum = 10)]
    pub score: i64,
    /// Date of the answer, `YYYY-MM-DD`.
    #[schema(value_type = super::schema::Day)]
    pub at: String,
}

/// Body of `PUT /v1/customers/{id}`; one import line is this plus `customer_id`.
/// Only `currency` and `lifetime_revenue` are required. Every amount is in `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerRecordDto {
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    #[schema(value_type = super::schema::NonNegativeMoney)]
    pub lifetime_revenue: MoneyDto,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::integer::optional_integer"
    )]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub orders: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::Day>)]
    pub first_order_at: Option<String>,
    /// Not before `first_order_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::Day>)]
    pub last_order_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::NonNegativeMoney>)]
    pub predicted_value: Option<MoneyDto>,
    /// Revenue of the last 12 months, when the desk knows it (extension); the goodwill
    /// guard otherwise estimates it from lifetime revenue and tenure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::NonNegativeMoney>)]
    pub revenue_12m: Option<MoneyDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 32)]
    pub peak_tier: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::integer::optional_integer"
    )]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub referrals: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<NpsDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schema::NonNegativeMoney>)]
    pub goodwill_12m: Option<MoneyDto>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::integer::optional_integer"
    )]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub claims_90d: Option<i64>,
}

/// A validated customer record, as the engine reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRecord {
    pub currency: Currency,
    pub lifetime_revenue: Decimal,
    pub orders: Option<u32>,
    pub first_order_at: Option<NaiveDate>,
    pub last_order_at: Option<NaiveDate>,
    pub predicted_value: Option<Decimal>,
    pub revenue_12m: Option<Decimal>,
    pub tier: Option<String>,
    pub peak_tier: Option<String>,
    pub referrals: u32,
    pub nps: Option<(u8, NaiveDate)>,
    pub goodwill_12m: Decimal,
    pub claims_90d: u32,
}

fn money_in(
    field: &str,
    dto: &MoneyDto,
    currency: Currency,
    allow_negative: bool,
) -> Result<Decimal, FieldError> {
    let m = dto
        .parse()
        .map_err(|e| FieldError::new(format!("{field}.{}", e_field(&e)), e_msg(&e)))?;
    if m.currency != currency {
        return Err(FieldError::new(
            format!("{field}.currency"),
            format!(
                "`{}` differs from the record currency `{currency}`",
                m.currency
            ),
        ));
    }
    if !allow_negative && m.amount.is_sign_negative() && !m.amount.is_zero() {
        return Err(FieldError::new(
            format!("{field}.amount"),
            "must not be negative",
        ));
    }
    Ok(m.amount)
}

// `MoneyDto::parse` answers "amount: ..." or "currency: ..."; split it into path and message.
fn e_field(e: &str) -> &str {
    e.split_once(": ").map(|(f, _)| f).unwrap_or("amount")
}
fn e_msg(e: &str) -> String {
    e.split_once(": ")
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| e.to_string())
}

/// Parse a money field of a request, e.g. `complaint.amount_at_stake`.
pub fn parse_money_field(field: &str, dto: &MoneyDto) -> Result<crate::money::Money, FieldError> {
    dto.parse()
        .map_err(|e| FieldError::new(format!("{field}.{}", e_field(&e)), e_msg(&e)))
}

fn date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    // The usual exact form is read by hand: chrono's format parser costs more than the
    // rest of a record's validation, which a bulk import pays a million times. Anything
    // else, an impossible date included, goes to chrono and gets its answer as before.
    if let Some(d) = plain_ymd(s) {
        return Ok(d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        FieldError::new(
            field,
            format!(
                "expected a date `YYYY-MM-DD`, got `{}`",
                crate::money::truncate(s)
            ),
        )
    })
}

/// `YYYY-MM-DD` with exactly those digits, when it is a real date.
fn plain_ymd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(0, 4)?).ok()?,
        digits(5, 7)?,
        digits(8, 10)?,
    )
}

fn count(field: &str, v: Option<i64>) -> Result<Option<u32>, FieldError> {
    match v {
        None => Ok(None),
        Some(n) if (0..=1_000_000_000).contains(&n) => Ok(Some(n as u32)),
        Some(_) => Err(FieldError::new(field, "must be between 0 and 1000000000")),
    }
}

fn tier(field: &str, v: &Option<String>) -> Result<Option<String>, FieldError> {
    match v.as_deref() {
        None => Ok(None),
        Some(t) if !t.is_empty() && !super::too_long(t, 32) => Ok(Some(t.to_ascii_lowercase())),
        Some(_) => Err(FieldError::new(field, "must be 1 to 32 characters")),
    }
}

impl CustomerRecordDto {
    /// Validate into the engine's form; `prefix` is prepended to field paths (import lines).
    pub fn validate(&self) -> Result<CustomerRecord, FieldError> {
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|e: String| FieldError::new("currency", e))?;
        let lifetime_revenue =
            money_in("lifetime_revenue", &self.lifetime_revenue, currency, false)?;
        let first_order_at = self
            .first_order_at
            .as_deref()
            .map(|s| date("first_order_at", s))
            .transpose()?;
        let last_order_at = self
            .last_order_at
            .as_deref()
            .map(|s| date("last_order_at", s))
            .transpose()?;
        if let (Some(f), Some(l)) = (first_order_at, last_order_at) {
            if l < f {
                return Err(FieldError::new(
                    "last_order_at",
                    "must not be before first_order_at",
                ));
            }
        }
        let opt_money = |field: &str, v: &Option<MoneyDto>| {
            v.as_ref()
                .map(|m| money_in(field, m, currency, false))
                .transpose()
        };
        let nps = match &self.nps {
            None => None,
            Some(n) => {
                if !(0..=10).contains(&n.score) {
                    return Err(FieldError::new("nps.score", "must be between 0 and 10"));
                }
                Some((n.score as u8, date("nps.at", &n.at)?))
            }
        };
        Ok(CustomerRecord {
            currency,
            lifetime_revenue,
            orders: count("orders", self.orders)?,
            first_order_at,
            last_order_at,
            predicted_value: opt_money("predicted_value", &self.predicted_value)?,
            revenue_12m: opt_money("revenue_12m", &self.revenue_12m)?,
            tier: tier("tier", &self.tier)?,
            peak_tier: tier("peak_tier", &self.peak_tier)?,
            referrals: count("referrals", self.referrals)?.unwrap_or(0),
            nps,
            goodwill_12m: opt_money("goodwill_12m", &self.goodwill_12m)?.unwrap_or_default(),
            claims_90d: count("claims_90d", self.claims_90d)?.unwrap_or(0),
        })
    }
}

/// Validate a customer id taken from a path or an import line.
pub fn check_customer_id(field: &str, id: &str) -> Result<(), FieldError> {
    check_id(field, id)
}

/// Parse a decimal string that must be a non-negative money amount (CSV import cells).
pub fn parse_plain_amount(field: &str, s: &str) -> Result<Decimal, FieldError> {
    parse_amount(s).map_err(|e| FieldError::new(field, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dto(v: serde_json::Value) -> CustomerRecordDto {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn minimal_record_needs_only_currency_and_revenue() {
        let r = dto(
            json!({"currency": "EUR", "lifetime_revenue": {"amount": "10.00", "currency": "EUR"}}),
        )
        .validate()
        .unwrap();
        assert_eq!(r.lifetime_revenue.to_string(), "10.00");
        assert_eq!(r.claims_90d, 0);
    }

    #[test]
    fn dates_read_by_hand_match_chrono() {
        for s in [
            "2026-09-12",
            "0000-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-1-5",
            "2026-01-5 ",
            " 2026-01-05",
            "+2026-01-05",
            "2026/01/05",
            "2026-0a-05",
            "20260-1-05",
            "",
        ] {
            assert_eq!(
                date("d", s).ok(),
                NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
                "`{s}`"
            );
        }
    }

    #[test]
    fn mixed_currencies_and_bad_dates_are_named() {
        let e = dto(
            json!({"currency": "EUR", "lifetime_revenue": {"amount": "10.00", "currency": "USD"}}),
        )
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "lifetime_revenue.currency");
        let e = dto(
            json!({"currency": "EUR", "lifetime_revenue": {"amount": "1", "currency": "EUR"},
            "first_order_at": "2020-05-01", "last_order_at": "2019-01-01"}),
        )
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "last_order_at");
        let e = dto(
            json!({"currency": "EUR", "lifetime_revenue": {"amount": "-1", "currency": "EUR"}}),
        )
        .validate()
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lifetime_revenue.amount: must not be negative"
        );
    }
}
