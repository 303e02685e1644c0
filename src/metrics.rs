//! Prometheus metrics: decisions by gesture, request latency by route, errors by code.
//!
//! One process-wide registry (like the `prometheus` crate's default one): metrics are
//! counters that every part of the service bumps, and `/metrics` renders them.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;

struct Metrics {
    registry: Registry,
    decisions: IntCounterVec,
    errors: IntCounterVec,
    requests: HistogramVec,
    shadow: IntCounterVec,
    flushes: prometheus::Histogram,
    at_risk_pushes: IntCounterVec,
    /// Cluster mode: this replica's applied log position and its lag behind the log.
    cluster: prometheus::GaugeVec,
}

#[expect(
    clippy::expect_used,
    reason = "metric names and labels are constants; a failure is a programming error that every test run would show"
)]
static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let decisions = IntCounterVec::new(
        Opts::new(
            "kulanz_decisions_total",
            "Decisions made, by recommended gesture",
        ),
        &["gesture", "within_authority"],
    )
    .expect("valid metric");
    let errors = IntCounterVec::new(
        Opts::new("kulanz_errors_total", "Error responses, by error code"),
        &["code"],
    )
    .expect("valid metric");
    let requests = HistogramVec::new(
        HistogramOpts::new(
            "kulanz_http_request_duration_seconds",
            "HTTP request latency, by route template, method and status",
        )
        .buckets(vec![
            0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ]),
        &["route", "method", "status"],
    )
    .expect("valid metric");
    registry
        .register(Box::new(decisions.clone()))
        .expect("unique metric");
    registry
        .register(Box::new(errors.clone()))
        .expect("unique metric");
    registry
        .register(Box::new(requests.clone()))
        .expect("unique metric");
    let shadow = IntCounterVec::new(
        Opts::new(
            "kulanz_shadow_decisions_total",
            "Live decisions also evaluated under the shadow version, by whether its answer differs",
        ),
        &["result"],
    )
    .expect("valid metric");
    registry
        .register(Box::new(shadow.clone()))
        .expect("unique metric");
    let flushes = prometheus::Histogram::with_opts(
        HistogramOpts::new(
            "kulanz_store_flush_batch_size",
            "Writes made durable by one flush (group commit); the count is the number of flushes",
        )
        .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
    )
    .expect("valid metric");
    registry
        .register(Box::new(flushes.clone()))
        .expect("unique metric");
    let at_risk_pushes = IntCounterVec::new(
        Opts::new(
            "kulanz_at_risk_pushes_total",
            "At-risk customers sent to the outreach webhook, by result (accepted, failed)",
        ),
        &["result"],
    )
    .expect("valid metric");
    registry
        .register(Box::new(at_risk_pushes.clone()))
        .expect("unique metric");
    let cluster = prometheus::GaugeVec::new(
        Opts::new(
            "kulanz_cluster_log",
            "Cluster mode: applied log position (what=applied), entries not yet applied \
             (what=lag_entries) and their age in seconds (what=lag_seconds)",
        ),
        &["what"],
    )
    .expect("valid metric");
    registry
        .register(Box::new(cluster.clone()))
        .expect("unique metric");
    Metrics {
        registry,
        cluster,
        at_risk_pushes,
        decisions,
        errors,
        requests,
        shadow,
        flushes,
    }
});

pub fn record_decision(gesture: &str, within_authority: bool) {
    METRICS
        .decisions
        .with_label_values(&[gesture, if within_authority { "true" } else { "false" }])
        .inc();
}

/// Cluster mode: where this replica's applier stands (cluster/applier.rs).
pub fn record_cluster_progress(applied: u64, lag_entries: u64, lag_seconds: f64) {
    let g = &METRICS.cluster;
    g.with_label_values(&["applied"]).set(applied as f64);
    g.with_label_values(&["lag_entries"])
        .set(lag_entries as f64);
    g.with_label_values(&["lag_seconds"]).set(lag_seconds);
}

pub fn record_flush(waiters: usize) {
    METRICS.flushes.observe(waiters as f64);
}

pub fn record_shadow(differs: bool) {
    METRICS
        .shadow
        .with_label_values(&[if differs { "different" } else { "same" }])
        .inc();
}

pub fn record_at_risk_push(accepted: bool) {
    METRICS
        .at_risk_pushes
        .with_label_values(&[if accepted { "accepted" } else { "failed" }])
        .inc();
}

pub fn record_error(code: &str) {
    METRICS.errors.with_label_values(&[code]).inc();
}

pub fn observe_request(route: &str, method: &str, status: &str, seconds: f64) {
    METRICS
        .requests
        .with_label_values(&[route, method, status])
        .observe(seconds);
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&METRICS.registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
