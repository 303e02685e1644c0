//! NDJSON lines of a customer import: one line to one record.

use crate::domain::customer::{check_customer_id, CustomerRecordDto, NpsDto};
use crate::domain::FieldError;
use crate::money::MoneyDto;
use serde::Deserialize;
use serde_json::Value;

/// Parse one NDJSON record: the contract's customer record plus `customer_id`.
///
/// A well-formed line is read in one pass straight into its fields. Any line that pass
/// refuses (bad JSON, a wrong type, an unknown or repeated field, a bad id) is read again
/// by `parse_checked`, whose error names the field exactly as before; so the fast pass
/// decides nothing, it only skips the intermediate JSON tree for the lines that are fine.
pub fn parse_ndjson(bytes: &[u8]) -> Result<(String, CustomerRecordDto), FieldError> {
    if let Ok(line) = serde_json::from_slice::<Line>(bytes) {
        if check_customer_id("customer_id", &line.customer_id).is_ok() {
            return Ok(line.into_parts());
        }
    }
    parse_checked(bytes)
}

/// One import line as the fast pass reads it: `customer_id` plus every field of
/// `CustomerRecordDto`, with the same names, types and defaults. A field added to the
/// record and not here only makes such lines take the slower pass (an unknown field).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    customer_id: String,
    currency: String,
    lifetime_revenue: MoneyDto,
    #[serde(default)]
    orders: Option<i64>,
    #[serde(default)]
    first_order_at: Option<String>,
    #[serde(default)]
    last_order_at: Option<String>,
    #[serde(default)]
    predicted_value: Option<MoneyDto>,
    #[serde(default)]
    revenue_12m: Option<MoneyDto>,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    peak_tier: Option<String>,
    #[serde(default)]
    referrals: Option<i64>,
    #[serde(default)]
    nps: Option<NpsDto>,
    #[serde(default)]
    goodwill_12m: Option<MoneyDto>,
    #[serde(default)]
    claims_90d: Option<i64>,
}

impl Line {
    fn into_parts(self) -> (String, CustomerRecordDto) {
        let dto = CustomerRecordDto {
            currency: self.currency,
            lifetime_revenue: self.lifetime_revenue,
            orders: self.orders,
            first_order_at: self.first_order_at,
            last_order_at: self.last_order_at,
            predicted_value: self.predicted_value,
            revenue_12m: self.revenue_12m,
            tier: self.tier,
            peak_tier: self.peak_tier,
            referrals: self.referrals,
            nps: self.nps,
            goodwill_12m: self.goodwill_12m,
            claims_90d: self.claims_90d,
        };
        (self.customer_id, dto)
    }
}

/// The careful pass: a JSON tree first, so each error names its field path.
fn parse_checked(bytes: &[u8]) -> Result<(String, CustomerRecordDto), FieldError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| FieldError::new("$", format!("not valid JSON: {e}")))?;
    let Value::Object(mut obj) = v else {
        return Err(FieldError::new("$", "expected a JSON object"));
    };
    let id = match obj.remove("customer_id") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(FieldError::new("customer_id", "must be a string")),
        None => return Err(FieldError::new("customer_id", "is required")),
    };
    check_customer_id("customer_id", &id)?;
    let dto: CustomerRecordDto = serde_path_to_error::deserialize(Value::Object(obj))
        .map_err(|e| FieldError::new(e.path().to_string(), e.inner().to_string()))?;
    Ok((id, dto))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_lines_name_the_bad_field() {
        let ok = parse_ndjson(br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#);
        assert_eq!(ok.unwrap().0, "c1");
        let e = parse_ndjson(br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":5,"currency":"EUR"}}"#)
            .unwrap_err();
        assert_eq!(e.field, "lifetime_revenue.amount");
        assert_eq!(parse_ndjson(b"[1]").unwrap_err().field, "$");
        assert_eq!(
            parse_ndjson(br#"{"currency":"EUR"}"#).unwrap_err().field,
            "customer_id"
        );
    }

    /// Every line gets the same answer from the fast pass (when it takes it) and the
    /// careful one: same record, or the careful pass's error.
    #[test]
    fn both_passes_agree() {
        let lines: &[&[u8]] = &[
            br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#,
            br#"{"customer_id":"c-2","currency":"EUR","lifetime_revenue":{"amount":"10400.00","currency":"EUR"},"orders":38,"first_order_at":"2019-03-02","last_order_at":"2026-10-30","predicted_value":{"amount":"12000.00","currency":"EUR"},"revenue_12m":{"amount":"1.00","currency":"EUR"},"tier":"silver","peak_tier":"gold","referrals":3,"nps":{"score":4,"at":"2026-09-12"},"goodwill_12m":{"amount":"35.00","currency":"EUR"},"claims_90d":1}"#,
            br#"  {"lifetime_revenue":{"currency":"EUR","amount":"1"},"currency":"EUR","customer_id":"c\u0031","tier":null,"nps":null}  "#,
            // Refused by the fast pass, for the careful one to judge or name.
            br#"{"customer_id":"c1","customer_id":"c2","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#,
            br#"{"customer_id":"c1","currency":"EUR","currency":"USD","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#,
            br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"},"colour":"red"}"#,
            br#"{"customer_id":7,"currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#,
            br#"{"customer_id":"","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}}"#,
            br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"},"orders":1.0}"#,
            br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"},"orders":1e2}"#,
            br#"{"customer_id":"c1","currency":"EUR","lifetime_revenue":{"amount":"5.00","currency":"EUR"}} x"#,
            br#"{"customer_id":"c1","currency":"EUR"}"#,
            b"null",
            b"{",
        ];
        for line in lines {
            assert_eq!(
                parse_ndjson(line),
                parse_checked(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
