//! `kulanz audit verify`: walk the audit chain and report the first break.

use crate::store::Store;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute every link of the chain of decisions and outcomes; exit 1 at a break.
    Verify {
        #[command(flatten)]
        data: super::DataDir,
    },
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { data } = cmd;
    let store = Store::open(&data.data_dir)?;
    let v = store.verify_audit()?;
    match &v.first_break {
        None => {
            println!("audit chain intact: {} entries", v.entries);
            Ok(ExitCode::SUCCESS)
        }
        Some(why) => {
            println!("audit chain broken at {why}");
            // 3, not 1: a broken chain is a finding, not a failure to run the check.
            Ok(ExitCode::from(3))
        }
    }
}
