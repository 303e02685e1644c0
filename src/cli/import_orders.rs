//! `kulanz import orders FILE`: NDJSON or CSV by extension, `.gz` accepted, `-` is stdin,
//! field names configurable. Idempotent by order id: importing a file twice adds nothing.

use super::input::{detect, open, Format};
use crate::domain::FieldError;
use crate::service::order_parse::{Columns, CsvLayout};
use crate::service::orders::OrderIngest;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct OrdersArgs {
    /// `.ndjson`/`.jsonl`/`.csv`, optionally `.gz`; `-` reads stdin.
    file: PathBuf,
    /// Format when the extension does not tell (stdin defaults to NDJSON).
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    columns: Columns,
    #[command(flatten)]
    data: super::DataDir,
}

pub fn run(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_for_writes(&args.data.data_dir)?;
    let mut reader = open(&args.file)?;
    let mut ingest = OrderIngest::new(&store, args.columns.clone());
    match detect(&args.file, args.format) {
        Format::Ndjson => {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                ingest.ndjson_bytes(buf.get(..n).unwrap_or_default())?;
            }
        }
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
            let layout = CsvLayout::new(&args.columns, csv.headers()?)
                .map_err(|e| anyhow::anyhow!("line 1: {e}"))?;
            let mut row = csv::StringRecord::new();
            loop {
                match csv.read_record(&mut row) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = row.position().map(|p| p.line()).unwrap_or(0);
                        ingest.record(line, layout.parse(&args.columns, &row))?;
                    }
                    Err(e) => {
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        ingest.record(line, Err(FieldError::new("$", e.to_string())))?;
                        if !matches!(
                            e.kind(),
                            csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                        ) {
                            break;
                        }
                    }
                }
            }
        }
    }
    let report = ingest.finish()?;
    store.flush_blocking()?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "{} imported, {} duplicates, {} rejected",
        report.imported, report.duplicates, report.rejected
    );
    // Exit 3 when some lines were rejected, as `import customers` does.
    Ok(if report.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
