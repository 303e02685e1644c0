//! `kulanz policy backtest VERSION|FILE`: replay the stored decision log under a candidate.

use crate::policy::{load, CompiledPolicy};
use crate::service::backtest::{self, BacktestReport};
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

fn day(s: &Option<String>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    s.as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
                .map_err(|_| anyhow::anyhow!("expected a date `YYYY-MM-DD`, got `{d}`"))
        })
        .transpose()
}

/// A candidate is a policy file, or a version stored in the data directory.
fn candidate(store: &Store, what: &str) -> anyhow::Result<CompiledPolicy> {
    let path = Path::new(what);
    if path.is_file() {
        return load::read_file(path)
            .and_then(load::compile_value)
            .map_err(|e| anyhow::anyhow!("{what}: {}", lines(&e.problems())));
    }
    crate::service::policies::compile_candidate(store, what).map_err(|e| anyhow::anyhow!("{e}"))
}

fn lines(problems: &[crate::policy::Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn run(
    what: &str,
    since: &Option<String>,
    until: &Option<String>,
    data_dir: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (since, until) = (day(since)?, day(until)?);
    let store = Store::open(data_dir)?;
    let policy = candidate(&store, what)?;
    // Offline, without the server's markets: every outcome teaches the candidate.
    let evidence =
        crate::service::retention::evidence_for(&policy, &store, chrono::Utc::now(), None)?;
    let report = backtest::run(&store, &policy, &evidence, since, until)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Which market's decisions were replayed; said only when it is not the market `default`,
/// so a deployment of one market reads as before markets.
fn market_note(market: &str) -> String {
    if market == crate::domain::market::DEFAULT_MARKET {
        String::new()
    } else {
        format!(" of market `{market}`")
    }
}

/// The report in words, for a support-operations lead.
pub fn render(r: &BacktestReport) -> String {
    let mut out = format!(
        "backtest of {} over {} stored decisions{} ({} evaluated, {} not evaluable)\n\
         changed: {} decisions\n\
         goodwill recommended: {} -> {} {} (change {})\n\
         cost to the company: {} -> {} (change {})\n\
         above the deciding role's authority: {:.1}% -> {:.1}%\n",
        r.candidate,
        r.decisions,
        market_note(&r.market),
        r.evaluated,
        r.not_evaluable,
        r.changed,
        r.total_before.amount,
        r.total_after.amount,
        r.total_after.currency,
        r.total_delta.amount,
        r.cost_before.amount,
        r.cost_after.amount,
        r.cost_delta.amount,
        r.above_authority.before * 100.0,
        r.above_authority.after * 100.0,
    );
    for (title, groups) in [("by segment", &r.by_segment), ("by gesture", &r.by_gesture)] {
        out.push_str(&format!("{title}:\n"));
        for g in groups.iter() {
            out.push_str(&format!(
                "  {:<16} {:>12} -> {:>12} ({})\n",
                g.key, g.before.amount, g.after.amount, g.delta.amount
            ));
        }
    }
    if !r.largest_changes.is_empty() {
        out.push_str("largest changes:\n");
    }
    for c in &r.largest_changes {
        out.push_str(&format!(
            "  {} {} [{}]: {} {} ({}) -> {} {} ({}), {}\n",
            c.decision_id,
            c.ticket_id,
            c.segment,
            c.before.gesture,
            c.before.amount.amount,
            c.before.rule,
            c.after.gesture,
            c.after.amount.amount,
            c.after.rule,
            if c.after.within_authority {
                "within authority"
            } else {
                "needs approval"
            },
        ));
    }
    out
}
