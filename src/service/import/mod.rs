//! Bulk import of customer records (NDJSON or CSV), shared by `POST /v1/customers/import`
//! and `kulanz import customers`. Streams: memory stays constant whatever the input size.
//! Records are written in batches; a bad line is reported with its number and skipped,
//! and never stops or corrupts the rest.
//!
//! The caller's thread splits and parses lines (`ndjson`, `csv_rows`) and validates them
//! here, in line order, so the summary lists errors exactly as they come; full batches
//! are written by a second thread (`writer`) meanwhile.

mod csv_rows;
mod ndjson;
mod writer;

pub use csv_rows::{check_csv_header, parse_csv_row, CSV_COLUMNS};
pub use ndjson::parse_ndjson;

use super::customers::normalise;
use super::ndjson_lines::{Line, LineSplitter};
use crate::domain::customer::CustomerRecordDto;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::store::customers::StoredCustomer;
use crate::store::Store;
use serde::Serialize;
use utoipa::ToSchema;
use writer::BatchWriter;

/// Records per hand-over to the writer thread: enough to make hand-overs rare. (When
/// each batch was one sled batch, sled's memory grew with it: 1.5 GB for 1M records at
/// 4,096 per batch, 3.1 GB at 16,384, ~270-300 MB at 128 to 1,000.) Below ~128 the
/// hand-overs cost more system time.
const BATCH: usize = 512;
/// Errors listed in the summary; the count goes on past it.
const MAX_LISTED_ERRORS: usize = 100;
pub use super::ndjson_lines::{LineError, MAX_LINE};

/// What an import did.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    pub imported: u64,
    pub rejected: u64,
    /// The first 100 rejected lines.
    pub errors: Vec<LineError>,
}

/// Accumulates records and writes them in batches.
pub struct Importer {
    writer: BatchWriter,
    now: String,
    batch: Vec<(String, StoredCustomer)>,
    summary: ImportSummary,
    /// NDJSON: the line not yet ended and the lines seen so far.
    lines: LineSplitter,
}

impl Importer {
    /// Starts the writer thread; records are written to `store` as batches fill.
    pub fn new(store: &Store, now: chrono::DateTime<chrono::Utc>) -> Result<Self, AppError> {
        Ok(Importer {
            writer: BatchWriter::spawn(store.clone())?,
            now: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            batch: Vec::with_capacity(BATCH),
            summary: ImportSummary::default(),
            lines: LineSplitter::default(),
        })
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

    /// Take one NDJSON line (or why the splitter refused it).
    fn ndjson_line(&mut self, line: u64, bytes: Line<'_>) -> Result<(), AppError> {
        let parsed = bytes.and_then(parse_ndjson);
        self.record(line, parsed)
    }

    /// Take the next chunk of an NDJSON stream, wherever it splits lines.
    pub fn ndjson_bytes(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        // Out of `self` while it runs, so each line can be recorded on `self`.
        let mut lines = std::mem::take(&mut self.lines);
        let fed = lines.feed(chunk, |n, l| self.ndjson_line(n, l));
        self.lines = lines;
        fed
    }

    /// Hand the batch to the writer; a store error of an earlier batch surfaces here.
    fn write_batch(&mut self) -> Result<(), AppError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let customers = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.writer.send(customers)?;
        Ok(())
    }

    /// Write what is left and wait until every batch is written. The caller flushes
    /// before acknowledging.
    pub fn finish(mut self) -> Result<ImportSummary, AppError> {
        let mut lines = std::mem::take(&mut self.lines);
        lines.finish(|n, l| self.ndjson_line(n, l))?;
        self.write_batch()?;
        let Importer {
            writer,
            mut summary,
            ..
        } = self;
        summary.imported = writer.finish()?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several batches through the writer thread, bad lines among them: the summary counts
    /// and lists by line number as a single-threaded import did, and every good record is
    /// stored once `finish` returns.
    #[test]
    fn bad_lines_across_batches_are_listed_in_order_and_the_rest_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut importer = Importer::new(&store, chrono::Utc::now()).unwrap();
        let n = 3 * BATCH as u64 + 7;
        let mut input = Vec::new();
        for i in 1..=n {
            let line = if i % 97 == 0 {
                format!("{{\"customer_id\":\"c{i}\",\"currency\":\"EUR\"}}\n")
            } else {
                format!("{{\"customer_id\":\"c{i}\",\"currency\":\"EUR\",\"lifetime_revenue\":{{\"amount\":\"{i}\",\"currency\":\"EUR\"}}}}\n")
            };
            input.extend_from_slice(line.as_bytes());
        }
        // Chunks that split lines anywhere, as a streamed body does.
        for chunk in input.chunks(1000) {
            importer.ndjson_bytes(chunk).unwrap();
        }
        let summary = importer.finish().unwrap();
        let bad = n / 97;
        assert_eq!(summary.rejected, bad);
        assert_eq!(summary.imported, n - bad);
        let lines: Vec<u64> = summary.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, (1..=bad).map(|k| k * 97).collect::<Vec<_>>());
        assert_eq!(
            summary.errors.first().unwrap().message,
            ".: missing field `lifetime_revenue`"
        );
        let last = store.get_customer(&format!("c{n}")).unwrap().unwrap();
        assert_eq!(last.record.lifetime_revenue.amount, format!("{n}.00"));
        assert!(store.get_customer("c97").unwrap().is_none());
        assert_eq!(store.customer_count() as u64, n - bad);
    }
}
