//! `kulanz bench engine --scenarios FILE [--policy FILE] [--seconds N]`: the pure engine in a
//! loop on one thread, no HTTP and no store, so its cost can be compared with other engines.
//!
//! Scenarios are NDJSON lines `{"request": <decision request>, "customer": <record or null>}`.
//! Every line is parsed and validated once, before the clock starts: the loop measures
//! `policy::evaluate` and nothing else.
//!
//! Latency is measured per *batch*, not per call: reading the clock costs 20–40 ns, which
//! is a large share of a decision of a microsecond or less, so the loop times batches of
//! `BATCH` decisions and divides. p50/p99 are percentiles of those per-batch means; they
//! hide variation inside a batch, but not slow stretches (preemption, cache misses).
//!
//! On a shared machine the thread is not on a core all the time, so besides wall-clock
//! decisions/s the command reports decisions per second *of CPU time* of the measuring
//! thread (Linux `/proc/thread-self/schedstat`), which is the per-core figure.

use crate::domain::customer::{CustomerRecord, CustomerRecordDto};
use crate::domain::request::{DecisionInput, DecisionRequestDto, Vocab};
use crate::policy::{evaluate, load, CompiledPolicy};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Decisions per timed batch.
pub const BATCH: usize = 64;

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Evaluate scenarios in a loop on one thread; prints decisions/s and p50/p99.
    Engine {
        /// NDJSON scenarios: `{"request": ..., "customer": ... | null}` per line.
        #[arg(long)]
        scenarios: PathBuf,
        /// A policy file; default: the shipped `policies/goodwill.json`.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// How long to measure, after a warm-up of a tenth of it.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Evaluate exactly this many decisions (rounded up to whole batches) with no
        /// warm-up, instead of `--seconds`: a fixed amount of work, so that two runs
        /// under `valgrind --tool=callgrind` give instructions per decision.
        #[arg(long, conflicts_with = "seconds")]
        decisions: Option<u64>,
        /// Also write each scenario's answer, as one JSON line, to this file (before the
        /// measurement): two builds given the same scenarios must write the same bytes.
        #[arg(long)]
        answers: Option<PathBuf>,
    },
}

#[derive(Deserialize)]
struct Line {
    request: DecisionRequestDto,
    #[serde(default)]
    customer: Option<CustomerRecordDto>,
}

/// One validated scenario, ready for the engine.
pub struct Scenario {
    pub input: DecisionInput,
    pub customer: Option<CustomerRecord>,
}

/// Parse and validate NDJSON scenarios against `policy`'s vocabulary; errors name the line.
pub fn parse_scenarios(text: &str, policy: &CompiledPolicy) -> anyhow::Result<Vec<Scenario>> {
    let vocab = Vocab {
        categories: &policy.categories,
        roles: &policy.roles,
        currency: policy.currency,
    };
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw)
            .map_err(|e| anyhow::anyhow!("scenarios line {}: {e}", n + 1))?;
        let input = line
            .request
            .validate(&vocab)
            .map_err(|e| anyhow::anyhow!("scenarios line {}: request.{e}", n + 1))?;
        let customer = match line.customer {
            None => None,
            Some(c) => Some(
                c.validate()
                    .map_err(|e| anyhow::anyhow!("scenarios line {}: customer.{e}", n + 1))?,
            ),
        };
        out.push(Scenario { input, customer });
    }
    if out.is_empty() {
        anyhow::bail!("no scenarios");
    }
    Ok(out)
}

/// The decision time: the policy's `test_clock` when it has one, so the scenarios give the
/// same answers as the policy's examples; else a fixed date.
pub fn bench_now(policy: &CompiledPolicy) -> DateTime<Utc> {
    policy.test_clock.unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Evaluate every scenario once, in order; the number of decisions made.
pub fn run_once(policy: &CompiledPolicy, scenarios: &[Scenario], now: DateTime<Utc>) -> usize {
    for s in scenarios {
        black_box(evaluate(
            policy,
            black_box(&s.input),
            s.customer.as_ref(),
            now,
        ));
    }
    scenarios.len()
}

/// Each scenario's answer as one JSON line, in scenario order.
fn write_answers(
    path: &std::path::Path,
    policy: &CompiledPolicy,
    scenarios: &[Scenario],
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let now = bench_now(policy);
    let file = std::fs::File::create(path)
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for s in scenarios {
        serde_json::to_writer(
            &mut out,
            &evaluate(policy, &s.input, s.customer.as_ref(), now),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Nanoseconds the calling thread has spent on a CPU (Linux only).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

struct Report {
    decisions: u64,
    elapsed: Duration,
    cpu: Option<Duration>,
    /// Mean nanoseconds per decision of each batch, sorted.
    batch_ns: Vec<f64>,
}

/// How long the measuring loop runs.
#[derive(Clone, Copy)]
enum Budget {
    /// A tenth of it warming up first.
    Seconds(f64),
    Decisions(u64),
}

fn measure(policy: &CompiledPolicy, scenarios: &[Scenario], budget: Budget) -> Report {
    let now = bench_now(policy);
    let warm = Instant::now();
    let mut i = 0usize;
    let mut step = || {
        let s = scenarios.get(i % scenarios.len());
        i = i.wrapping_add(1);
        if let Some(s) = s {
            black_box(evaluate(
                policy,
                black_box(&s.input),
                s.customer.as_ref(),
                now,
            ));
        }
    };
    let warm_up = match budget {
        Budget::Seconds(s) => s / 10.0,
        Budget::Decisions(_) => 0.0,
    };
    while warm.elapsed().as_secs_f64() < warm_up {
        for _ in 0..BATCH {
            step();
        }
    }
    let mut batch_ns = Vec::new();
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    let mut decisions = 0u64;
    loop {
        let t = Instant::now();
        for _ in 0..BATCH {
            step();
        }
        let end = Instant::now();
        batch_ns.push((end - t).as_nanos() as f64 / BATCH as f64);
        decisions += BATCH as u64;
        let done = match budget {
            Budget::Seconds(s) => (end - start).as_secs_f64() >= s,
            Budget::Decisions(n) => decisions >= n,
        };
        if done {
            break;
        }
    }
    let elapsed = start.elapsed();
    let cpu = cpu_start
        .zip(thread_cpu_ns())
        .map(|(a, b)| Duration::from_nanos(b.saturating_sub(a)));
    batch_ns.sort_by(f64::total_cmp);
    Report {
        decisions,
        elapsed,
        cpu,
        batch_ns,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(0.0)
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Engine {
            scenarios,
            policy,
            seconds,
            decisions,
            answers,
        } => {
            let policy = match policy {
                // `compile_value`: schema, semantic checks and compilation; a generated
                // policy has no example cases to run.
                Some(p) => load::read_file(&p)
                    .and_then(load::compile_value)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                None => load::from_slice(load::DEFAULT_POLICY.as_bytes())
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            let text = std::fs::read_to_string(&scenarios)
                .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", scenarios.display()))?;
            let list = parse_scenarios(&text, &policy)?;
            if let Some(path) = answers {
                write_answers(&path, &policy, &list)?;
            }
            let budget = match decisions {
                Some(n) => Budget::Decisions(n.max(1)),
                None => Budget::Seconds(seconds.max(0.1)),
            };
            let r = measure(&policy, &list, budget);
            let per_s = r.decisions as f64 / r.elapsed.as_secs_f64();
            println!(
                "policy {} {} ({} rules), {} scenarios, {:.1} s, batches of {BATCH}",
                policy.id,
                policy.version,
                policy.rules.len(),
                list.len(),
                r.elapsed.as_secs_f64()
            );
            println!("decisions/s (wall clock): {per_s:.0}");
            if let Some(cpu) = r.cpu.filter(|c| !c.is_zero()) {
                println!(
                    "decisions/s per core (CPU time of the thread, {:.0}% of wall): {:.0}",
                    100.0 * cpu.as_secs_f64() / r.elapsed.as_secs_f64(),
                    r.decisions as f64 / cpu.as_secs_f64()
                );
            }
            println!(
                "per decision: p50 {:.0} ns, p99 {:.0} ns, mean {:.0} ns",
                percentile(&r.batch_ns, 0.5),
                percentile(&r.batch_ns, 0.99),
                1e9 / per_s
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
