//! `kulanz store compact`: rewrite sled's files so erased customers are gone from the disk.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Rewrite the store's sled files with only their live entries, so records removed by
    /// erasure are no longer in them. The server must be stopped.
    Compact {
        #[command(flatten)]
        data: super::DataDir,
    },
}

pub fn run(cmd: StoreCommand) -> anyhow::Result<ExitCode> {
    let StoreCommand::Compact { data } = cmd;
    let c = crate::store::compact::compact(&data.data_dir)?;
    eprintln!(
        "compacted {} in {} ms: {} entries in {} trees; sled's files {} -> {} bytes; erasures made final: {}",
        data.data_dir.display(),
        c.millis,
        c.entries,
        c.trees,
        c.bytes_before,
        c.bytes_after,
        c.erasures
    );
    Ok(ExitCode::SUCCESS)
}
