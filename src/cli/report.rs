//! `kulanz report`: the goodwill report over the store, as JSON (the server must be
//! stopped; a running server answers `GET /v1/reports/goodwill`).

use crate::service::report::{build, check_retention_days, parse_time};
use crate::store::Store;
use std::process::ExitCode;

/// Print the report over the decisions made in `[from, to)`.
pub fn run(
    from: Option<String>,
    to: Option<String>,
    retention_days: u32,
    data: &super::DataDir,
) -> anyhow::Result<ExitCode> {
    let retention_days = check_retention_days("--retention-days", retention_days)?;
    let from = from.as_deref().map(|s| parse_time("from", s)).transpose()?;
    let to = to.as_deref().map(|s| parse_time("to", s)).transpose()?;
    let store = Store::open(&data.data_dir)?;
    let report = build(&store, from, to, retention_days, chrono::Utc::now())?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
