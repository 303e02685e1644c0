//! The command line of the contract: `serve`, `keys add`, `policy validate|test`,
//! `import customers`. Every flag also reads its `KULANZ_*` environment variable.

mod audit;
mod backtest;
mod backup;
pub mod bench;
mod import;
mod import_orders;
mod input;
mod keys;
mod policy;
mod report;
mod serve;
mod store;
mod value;

pub use keys::create as create_key;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "kulanz",
    version,
    about = "Goodwill decision engine for support desks"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the store lives; shared by every command that opens it.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// Directory of the sled store.
    #[arg(long, env = "KULANZ_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(Box<serve::ServeArgs>),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Check and test policies.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
    /// Write a consistent snapshot of the store to FILE (gzip NDJSON). The server must be
    /// stopped; back up a running server with `GET /v1/backup`.
    Backup {
        file: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Restore a snapshot into an empty data directory.
    Restore {
        file: PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
    /// Maintain the data directory (the server must be stopped).
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Check the audit chain of decisions and outcomes.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Bulk-import data into the store.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Fit the customer value models on the stored orders; show a customer's prediction.
    Value {
        #[command(subcommand)]
        command: value::ValueCommand,
    },
    /// Print the goodwill report (recommended vs granted, rates, NPS, fairness, retention
    /// after a gesture) as JSON.
    Report {
        /// Decisions made at or after: `YYYY-MM-DD` or RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// Decisions made before: `YYYY-MM-DD` or RFC 3339.
        #[arg(long)]
        to: Option<String>,
        /// Days after a complaint in which an order counts as retained (1 to 730).
        #[arg(long, default_value_t = crate::service::report::DEFAULT_RETENTION_DAYS)]
        retention_days: u32,
        #[command(flatten)]
        data: DataDir,
    },
    /// Measure the engine in-process (see `docs/performance.md`).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

/// Parse the command line and run; the exit code says whether it worked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Keys { command } => keys::run(command),
        Command::Policy { command } => policy::run(command),
        Command::Import { command } => import::run(command),
        Command::Audit { command } => audit::run(command),
        Command::Store { command } => store::run(command),
        Command::Backup { file, data } => backup::backup(&file, &data),
        Command::Restore { file, data } => backup::restore(&file, &data),
        Command::Value { command } => value::run(command),
        Command::Report {
            from,
            to,
            retention_days,
            data,
        } => report::run(from, to, retention_days, &data),
        Command::Bench { command } => bench::run(command),
    };
    // Here, after `serve` dropped its runtime, so the lines its tasks logged while they
    // stopped, and those before a failed start, are written before the process ends.
    crate::telemetry::flush();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Open the store in `dir` for a command that writes to it. A cluster replica's store is
/// refused: a write made here would reach this replica alone, not the log the others
/// apply (docs/cluster.md says how to write to a cluster).
fn open_for_writes(dir: &std::path::Path) -> anyhow::Result<crate::store::Store> {
    let store = crate::store::Store::open(dir)?;
    if let Some(name) = store.replica_of()? {
        anyhow::bail!(
            "`{}` is a replica of cluster `{name}`: write through any replica's HTTP API \
             (POST /v1/keys, /v1/customers/import, /v1/orders, /v1/value/fit), which puts \
             the write in the cluster's log",
            dir.display()
        );
    }
    Ok(store)
}
