//! Criterion benches of the pure engine (`policy::evaluate`): the shipped policy on the
//! benchmark scenarios, and generated policies of 20, 30 (the target's size), 200 and 2,000 rules
//! (`bench/gen_policy.py`) on the same scenarios, to show what rule count costs.
//!
//! Run with `cargo bench --bench engine`; `cargo test` never runs them. Each iteration
//! evaluates the whole scenario list once, so the reported time is per list; the group's
//! throughput is set to the list length, so criterion also prints decisions per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kulanz::cli::bench::{bench_now, parse_scenarios, run_once};
use kulanz::policy::{load, CompiledPolicy};
use std::hint::black_box;

const SCENARIOS: &str = include_str!("../bench/scenarios.ndjson");
const GENERATED: [(usize, &str); 4] = [
    (20, include_str!("../bench/policies/rules-20.json")),
    (30, include_str!("../bench/policies/rules-30.json")),
    (200, include_str!("../bench/policies/rules-200.json")),
    (2000, include_str!("../bench/policies/rules-2000.json")),
];

fn compile(json: &str) -> Result<CompiledPolicy, String> {
    let value = load::parse_json(json.as_bytes()).map_err(|e| e.to_string())?;
    load::compile_value(value).map_err(|e| e.to_string())
}

fn engine(c: &mut Criterion) {
    let mut policies = Vec::new();
    match load::from_slice(load::DEFAULT_POLICY.as_bytes()) {
        Ok(p) => policies.push(("shipped".to_string(), p)),
        Err(e) => eprintln!("shipped policy: {e}"),
    }
    for (n, json) in GENERATED {
        match compile(json) {
            Ok(p) => policies.push((format!("rules-{n}"), p)),
            Err(e) => eprintln!("generated policy of {n} rules: {e}"),
        }
    }
    let mut group = c.benchmark_group("evaluate");
    for (name, policy) in &policies {
        let scenarios = match parse_scenarios(SCENARIOS, policy) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let now = bench_now(policy);
        group.throughput(Throughput::Elements(scenarios.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| run_once(black_box(policy), &scenarios, now))
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
