//! Orders for tests: one order line, posting NDJSON, and a simulated population for the
//! value models (shared by the HTTP tests and the console's browser test).

use crate::helpers::{eur, TestApp};
use serde_json::{json, Value};

pub(crate) fn order(id: &str, customer: &str, at: &str, amount: &str) -> Value {
    json!({"order_id": id, "customer_id": customer, "at": at, "amount": eur(amount)})
}

pub(crate) async fn post_ndjson(app: &TestApp, lines: &[Value]) -> Value {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let r = app
        .client
        .post(app.url("/v1/orders"))
        .bearer_auth(&app.ingest_key)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// A deterministic population of 300 customers simulated from a BG/NBD-like process
/// (a small xorshift generator; rates and drop-out chances drawn from spreads), so the
/// fit has heterogeneous data with an interior optimum.
pub(crate) fn population() -> Vec<Value> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut lines = Vec::new();
    for i in 0..300 {
        let rate_per_day = [0.005, 0.01, 0.03, 0.08, 0.2][(uniform() * 5.0) as usize];
        let drop_out = [0.05, 0.15, 0.4, 0.8][(uniform() * 4.0) as usize];
        let amount = 15.0 + 90.0 * uniform();
        let mut t = uniform() * 400.0;
        let mut k = 0;
        while t < 545.0 {
            let day = day0 + chrono::Days::new(t as u64);
            let spend = amount * (0.5 + uniform());
            lines.push(order(
                &format!("p{i}-{k}"),
                &format!("p{i}"),
                &day.to_string(),
                &format!("{spend:.2}"),
            ));
            k += 1;
            if uniform() < drop_out {
                break;
            }
            t += -(1.0 - uniform()).ln() / rate_per_day;
        }
    }
    lines
}
