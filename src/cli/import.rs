//! `kulanz import customers FILE`: NDJSON or CSV by extension, `.gz` accepted, `-` is stdin.

use super::input::{detect, open, Format};
use crate::service::import::{check_csv_header, parse_csv_row, Importer};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import customer value records; prints a JSON summary.
    Customers {
        /// `.ndjson`/`.jsonl`/`.csv`, optionally `.gz`; `-` reads stdin.
        file: PathBuf,
        /// Format when the extension does not tell (stdin defaults to NDJSON).
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[command(flatten)]
        data: super::DataDir,
    },
    /// Import orders (idempotent by order id); prints a JSON summary.
    Orders(super::import_orders::OrdersArgs),
}

pub fn run(cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    let (file, format, data) = match cmd {
        ImportCommand::Customers { file, format, data } => (file, format, data),
        ImportCommand::Orders(args) => return super::import_orders::run(args),
    };
    let store = super::open_for_writes(&data.data_dir)?;
    let reader = open(&file)?;
    let mut importer = Importer::new(&store, chrono::Utc::now())?;
    match detect(&file, format) {
        Format::Ndjson => {
            let mut reader = reader;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                importer.ndjson_bytes(buf.get(..n).unwrap_or_default())?;
            }
        }
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
            let header = csv.headers()?.clone();
            check_csv_header(&header).map_err(|e| anyhow::anyhow!("line 1: {e}"))?;
            let mut row = csv::StringRecord::new();
            loop {
                match csv.read_record(&mut row) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = row.position().map(|p| p.line()).unwrap_or(0);
                        importer.record(line, parse_csv_row(&header, &row))?
                    }
                    Err(e) => {
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        let err = crate::domain::FieldError::new("$", e.to_string());
                        importer.record(line, Err(err))?;
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
    let summary = importer.finish()?;
    store.flush_blocking()?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!(
        "{} imported, {} rejected",
        summary.imported, summary.rejected
    );
    // Exit 3 when some lines were rejected: the good ones are stored, but a script
    // should notice.
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
