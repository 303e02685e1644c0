//! CSV rows of a customer import: the header check and one row to one record.

use crate::domain::customer::{check_customer_id, CustomerRecordDto, NpsDto};
use crate::domain::FieldError;
use crate::money::MoneyDto;

/// CSV columns, in the order written by `docs/operations.md`; amounts are plain decimals
/// in the record's `currency`.
pub const CSV_COLUMNS: &[&str] = &[
    "customer_id",
    "currency",
    "lifetime_revenue",
    "orders",
    "first_order_at",
    "last_order_at",
    "predicted_value",
    "revenue_12m",
    "tier",
    "peak_tier",
    "referrals",
    "nps_score",
    "nps_at",
    "goodwill_12m",
    "claims_90d",
];

/// Check a CSV header: `customer_id`, `currency` and `lifetime_revenue` are required,
/// unknown columns are refused (every row would be misread).
pub fn check_csv_header(header: &csv::StringRecord) -> Result<(), String> {
    for h in header.iter() {
        if !CSV_COLUMNS.contains(&h) {
            return Err(format!(
                "unknown column `{h}`; known: {}",
                CSV_COLUMNS.join(", ")
            ));
        }
    }
    for required in ["customer_id", "currency", "lifetime_revenue"] {
        if !header.iter().any(|h| h == required) {
            return Err(format!("missing column `{required}`"));
        }
    }
    Ok(())
}

/// Turn one CSV row into a record; empty cells are absent fields.
pub fn parse_csv_row(
    header: &csv::StringRecord,
    row: &csv::StringRecord,
) -> Result<(String, CustomerRecordDto), FieldError> {
    let cell = |name: &str| -> Option<String> {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let id = cell("customer_id").ok_or_else(|| FieldError::new("customer_id", "is required"))?;
    check_customer_id("customer_id", &id)?;
    let currency = cell("currency").ok_or_else(|| FieldError::new("currency", "is required"))?;
    let money = |name: &str| {
        cell(name).map(|amount| MoneyDto {
            amount,
            currency: currency.clone(),
        })
    };
    let int = |name: &str| -> Result<Option<i64>, FieldError> {
        cell(name)
            .map(|s| {
                s.parse::<i64>().map_err(|_| {
                    FieldError::new(
                        name,
                        format!(
                            "expected a whole number, got `{}`",
                            crate::money::truncate(&s)
                        ),
                    )
                })
            })
            .transpose()
    };
    let nps = match (int("nps_score")?, cell("nps_at")) {
        (Some(score), Some(at)) => Some(NpsDto { score, at }),
        (None, None) => None,
        _ => {
            return Err(FieldError::new(
                "nps_score",
                "nps_score and nps_at go together",
            ))
        }
    };
    let dto = CustomerRecordDto {
        lifetime_revenue: money("lifetime_revenue")
            .ok_or_else(|| FieldError::new("lifetime_revenue", "is required"))?,
        currency: currency.clone(),
        orders: int("orders")?,
        first_order_at: cell("first_order_at"),
        last_order_at: cell("last_order_at"),
        predicted_value: money("predicted_value"),
        revenue_12m: money("revenue_12m"),
        tier: cell("tier"),
        peak_tier: cell("peak_tier"),
        referrals: int("referrals")?,
        nps,
        goodwill_12m: money("goodwill_12m"),
        claims_90d: int("claims_90d")?,
    };
    Ok((id, dto))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_records() {
        let header =
            csv::StringRecord::from(vec!["customer_id", "currency", "lifetime_revenue", "tier"]);
        assert!(check_csv_header(&header).is_ok());
        let row = csv::StringRecord::from(vec!["c9", "EUR", "120.50", "Gold"]);
        let (id, dto) = parse_csv_row(&header, &row).unwrap();
        assert_eq!(id, "c9");
        assert_eq!(dto.lifetime_revenue.amount, "120.50");
        let bad = csv::StringRecord::from(vec!["customer_id", "colour"]);
        assert!(check_csv_header(&bad)
            .unwrap_err()
            .contains("unknown column `colour`"));
    }
}
