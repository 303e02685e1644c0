//! Reading an import file: a path or `-` for stdin, gzip recognised by its magic number,
//! and the format told by the extension unless given. Shared by the customer and the
//! order imports.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

/// The format of an import file.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Ndjson,
    Csv,
}

/// Open `file` (`-`: stdin), decompressing gzip.
pub(super) fn open(file: &PathBuf) -> anyhow::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| anyhow::anyhow!("cannot open `{}`: {e}", file.display()))?,
        )
    };
    // Sniff the gzip magic number rather than trusting the name, so stdin works too.
    let mut reader = BufReader::with_capacity(256 * 1024, raw);
    let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// The format of `file`: `explicit` when given, else CSV for `.csv` (`.csv.gz`), else NDJSON.
pub(super) fn detect(file: &std::path::Path, explicit: Option<Format>) -> Format {
    if let Some(f) = explicit {
        return f;
    }
    let name = file.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".csv") {
        Format::Csv
    } else {
        Format::Ndjson
    }
}
