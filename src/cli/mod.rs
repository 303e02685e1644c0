//! The command line of the contract: `serve`, `keys add`, `policy validate|test`,
//! `import customers`. Every flag also reads its `KULANZ_*` environment variable.

mod audit;
mod backtest;
pub mod bench;
mod import;
mod keys;
mod policy;
mod serve;

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
    Serve(serve::ServeArgs),
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
        Command::Serve(args) => serve::run(args),
        Command::Keys { command } => keys::run(command),
        Command::Policy { command } => policy::run(command),
        Command::Import { command } => import::run(command),
        Command::Audit { command } => audit::run(command),
        Command::Bench { command } => bench::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
