//! `kulanz import orders` and `kulanz value fit|predict`, run as the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flate2::write::GzEncoder;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output};

fn kulanz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A gzipped CSV export with its own column names: 300 simulated customers.
fn export(path: &std::path::Path) -> usize {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut csv = String::from("client,invoice,date,total\n");
    let mut rows = 0;
    for i in 0..300 {
        let rate = [0.005, 0.01, 0.03, 0.08, 0.2][(uniform() * 5.0) as usize];
        let drop_out = [0.05, 0.15, 0.4, 0.8][(uniform() * 4.0) as usize];
        let amount = 15.0 + 90.0 * uniform();
        let mut t = uniform() * 400.0;
        let mut k = 0;
        while t < 545.0 {
            let day = day0 + chrono::Days::new(t as u64);
            let spend = amount * (0.5 + uniform());
            csv.push_str(&format!("p{i},p{i}-{k},{day} 12:00:00,{spend:.2}\n"));
            rows += 1;
            k += 1;
            if uniform() < drop_out {
                break;
            }
            t += -(1.0 - uniform()).ln() / rate;
        }
    }
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
    rows
}

#[test]
fn orders_import_idempotently_and_a_fit_caches_predictions_and_survives_a_failed_refit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = dir.path().join("export.csv.gz");
    let rows = export(&file);
    let import = [
        "import",
        "orders",
        file.to_str().unwrap(),
        "--customer-column",
        "client",
        "--order-column",
        "invoice",
        "--at-column",
        "date",
        "--amount-column",
        "total",
        "--default-currency",
        "EUR",
        "--data-dir",
        data,
    ];
    let first = kulanz(&import);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(json(&first)["imported"], rows as u64);
    let again = json(&kulanz(&import));
    assert_eq!(
        (again["imported"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(rows as u64))
    );

    let predict = ["value", "predict", "--customer", "p1", "--data-dir", data];
    assert!(json(&kulanz(&predict))["prediction"].is_null());

    let fit = kulanz(&[
        "value",
        "fit",
        "--time-unit",
        "week",
        "--observation-end",
        "2026-07-01",
        "--horizon",
        "6",
        "--data-dir",
        data,
    ]);
    assert!(
        fit.status.success(),
        "{}",
        String::from_utf8_lossy(&fit.stderr)
    );
    let report = json(&fit);
    assert_eq!(report["version"], 1);
    assert_eq!(report["bgnbd_fit"]["customers"], 300);
    for p in ["r", "alpha", "a", "b"] {
        assert!(report["bgnbd"][p].as_f64().unwrap() > 0.0, "{report:#}");
    }
    let p = json(&kulanz(&predict));
    assert_eq!(p["prediction"]["model_version"], 1);
    assert_eq!(p["prediction"]["horizon_months"], 6);

    let failed = kulanz(&["value", "fit", "--currency", "USD", "--data-dir", data]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("too few customers") && err.contains("previous model is kept"),
        "{err}"
    );
    assert_eq!(json(&kulanz(&predict))["prediction"]["model_version"], 1);

    let bad = kulanz(&["value", "fit", "--horizon", "0", "--data-dir", data]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("horizon must be 1 to 120 months"));
}

#[test]
fn a_csv_without_the_needed_columns_is_refused_on_line_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("o.csv");
    std::fs::write(&file, "customer_id,order_id,amount\nc1,o1,5.00\n").unwrap();
    let out = kulanz(&[
        "import",
        "orders",
        file.to_str().unwrap(),
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1: missing column `currency` (or pass --default-currency)"),
        "{err}"
    );
}
