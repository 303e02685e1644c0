//! Bulk import of customer records (NDJSON or CSV), shared by `POST /v1/customers/import`
//! and `kulanz import customers`. Streams: memory stays constant whatever the input size.
//! Records are written in batches; a bad line is reported with its number and skipped,
//! and never stops or corrupts the rest.

use super::customers::normalise;
use crate::domain::customer::{check_customer_id, CustomerRecordDto, NpsDto};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::money::MoneyDto;
use crate::store::customers::StoredCustomer;
use crate::store::{Command, Store};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Records per sled batch: large enough to amortise, small enough to keep memory flat.
const BATCH: usize = 1000;
/// Errors listed in the summary; the count goes on past it.
const MAX_LISTED_ERRORS: usize = 100;
/// Longest accepted line.
pub const MAX_LINE: usize = 64 * 1024;

/// One rejected line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    pub imported: u64,
    pub rejected: u64,
    /// The first 100 rejected lines.
    pub errors: Vec<LineError>,
}

/// Accumulates records and writes them in batches.
pub struct Importer<'a> {
    store: &'a Store,
    now: String,
    batch: Vec<(String, StoredCustomer)>,
    summary: ImportSummary,
    /// NDJSON: the part of a line not yet ended by a newline, and lines seen so far.
    pending: Vec<u8>,
    lines: u64,
}

impl<'a> Importer<'a> {
    pub fn new(store: &'a Store, now: chrono::DateTime<chrono::Utc>) -> Self {
        Importer {
            store,
            now: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            batch: Vec::with_capacity(BATCH),
            summary: ImportSummary::default(),
            pending: Vec::new(),
            lines: 0,
        }
    }

    /// Take one parsed line (or its error).
    pub fn record(
        &mut self,
        line: u64,
        parsed: Result<(String, CustomerRecordDto), FieldError>,
    ) -> Result<(), AppError> {
        let checked = parsed.and_then(|(id, dto)| match normalise(dto) {
            Ok(record) => Ok((id, record)),
            Err(AppError::Invalid(f)) => Err(f),
            Err(other) => Err(FieldError::new("$", other.to_string())),
        });
        match checked {
            Ok((id, record)) => {
                self.batch.push((
                    id,
                    StoredCustomer {
                        record,
                        updated_at: self.now.clone(),
                    },
                ));
                if self.batch.len() >= BATCH {
                    self.write_batch()?;
                }
            }
            Err(e) => {
                self.summary.rejected += 1;
                if self.summary.errors.len() < MAX_LISTED_ERRORS {
                    self.summary.errors.push(LineError {
                        line,
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Take one NDJSON line; blank lines are skipped.
    pub fn ndjson_line(&mut self, line: u64, bytes: &[u8]) -> Result<(), AppError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let parsed = if bytes.len() > MAX_LINE {
            Err(FieldError::new(
                "$",
                format!("line longer than {MAX_LINE} bytes"),
            ))
        } else {
            parse_ndjson(bytes)
        };
        self.record(line, parsed)
    }

    /// Take the next chunk of an NDJSON stream, wherever it splits lines.
    pub fn ndjson_bytes(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        for part in chunk.split_inclusive(|b| *b == b'\n') {
            // An over-long line is kept only up to the limit: enough to refuse it.
            if self.pending.len() <= MAX_LINE {
                self.pending.extend_from_slice(part);
            }
            if part.ends_with(b"\n") {
                self.end_line()?;
            }
        }
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), AppError> {
        self.lines += 1;
        let line = std::mem::take(&mut self.pending);
        self.ndjson_line(self.lines, &line)?;
        self.pending = line;
        self.pending.clear();
        Ok(())
    }

    fn write_batch(&mut self) -> Result<(), AppError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let customers = std::mem::take(&mut self.batch);
        let n = customers.len() as u64;
        self.store.apply(&Command::PutCustomers { customers })?;
        self.summary.imported += n;
        self.batch = Vec::with_capacity(BATCH);
        Ok(())
    }

    /// Write what is left. The caller flushes before acknowledging.
    pub fn finish(mut self) -> Result<ImportSummary, AppError> {
        if !self.pending.is_empty() {
            self.end_line()?;
        }
        self.write_batch()?;
        Ok(self.summary)
    }
}

/// Parse one NDJSON record: the contract's customer record plus `customer_id`.
pub fn parse_ndjson(bytes: &[u8]) -> Result<(String, CustomerRecordDto), FieldError> {
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
