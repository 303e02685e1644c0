//! `kulanz backup FILE` and `kulanz restore FILE`. Both open the store, so they run while
//! the server is stopped; a running server is backed up online with `GET /v1/backup`.

use crate::store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn backup(file: &PathBuf, data: &super::DataDir) -> anyhow::Result<ExitCode> {
    let store = Store::open(&data.data_dir)?;
    let tmp = file.with_extension("partial");
    let copied = store.backup(std::io::BufWriter::new(std::fs::File::create(&tmp)?))?;
    // Rename last, so a half-written file never has the final name.
    std::fs::rename(&tmp, file)?;
    eprintln!(
        "backed up {} entries from {} trees to {}",
        copied.entries,
        copied.trees,
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(file: &PathBuf, data: &super::DataDir) -> anyhow::Result<ExitCode> {
    let input = std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot open `{}`: {e}", file.display()))?;
    let store = super::open_for_writes(&data.data_dir)?;
    let copied = store.restore(std::io::BufReader::new(input))?;
    eprintln!(
        "restored {} entries into {} trees in {}",
        copied.entries,
        copied.trees,
        data.data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
