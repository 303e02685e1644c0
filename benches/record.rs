//! Criterion benches of the work a stored decision costs besides the engine: its canonical
//! audit form (`audit::decision_canonical`, written on every decision), the link over it
//! (SHA-256) and, for comparison, the same record through the `Value` path the form
//! replaced and plain `serde_json::to_vec`. The record is the demo's decision in
//! `tests/fixtures/stored_decision.json` (2.7 KB of JSON).
//!
//! Run with `cargo bench --bench record`; compare two builds with `-- --save-baseline old`
//! on the first and `-- --baseline old` on the second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kulanz::store::audit::{canonical, decision_canonical, decision_form, link_canonical, GENESIS};
use kulanz::store::decisions::StoredDecision;
use std::hint::black_box;

const RECORD: &str = include_str!("../tests/fixtures/stored_decision.json");
const KEY: &[u8] = b"bench key";

fn record(c: &mut Criterion) {
    let d: StoredDecision = match serde_json::from_str(RECORD) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("fixture does not parse: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    group.bench_function("canonical_form", |b| {
        b.iter(|| decision_canonical(black_box(KEY), black_box(&d)))
    });
    group.bench_function("canonical_form_via_value", |b| {
        b.iter(|| canonical(&decision_form(black_box(KEY), black_box(&d))))
    });
    let form = decision_canonical(KEY, &d);
    group.bench_function("link", |b| {
        b.iter(|| link_canonical(black_box(GENESIS), black_box(&form)))
    });
    group.bench_function("serde_json_to_vec", |b| {
        b.iter(|| serde_json::to_vec(black_box(&d)))
    });
    group.finish();
}

criterion_group!(benches, record);
criterion_main!(benches);
