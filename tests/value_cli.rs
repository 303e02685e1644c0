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

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("cdnow_holdout_reference.json")).unwrap())
        .unwrap()
}

/// Relative difference within `tol`.
fn close(what: &str, ours: &Value, theirs: &Value, tol: f64) {
    let (a, b) = (ours.as_f64().unwrap(), theirs.as_f64().unwrap());
    let rel = ((a - b) / b).abs();
    assert!(
        rel <= tol,
        "{what}: ours {a}, reference {b} ({rel:e} apart)"
    );
}

/// The raw CDNOW sample (6,919 purchases through June 1998, no order ids), imported into
/// a fresh store.
fn cdnow_store(dir: &std::path::Path) -> String {
    let data = dir.join("data").to_str().unwrap().to_string();
    let import = [
        "import",
        "orders",
        &fixture("cdnow_orders.csv"),
        "--order-column",
        "none",
        "--at-column",
        "date",
        "--default-currency",
        "USD",
        "--data-dir",
        &data,
    ];
    let first = json(&kulanz(&import));
    // 19 lines repeat another line of the same customer and day: still separate orders.
    assert_eq!(first["imported"], 6919, "{first:#}");
    let again = json(&kulanz(&import));
    assert_eq!(
        (again["imported"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(6919))
    );
    data
}

#[test]
fn raw_cdnow_orders_fit_as_of_the_calibration_end_and_validate_like_lifetimes() {
    let dir = tempfile::tempdir().unwrap();
    let data = cdnow_store(dir.path());
    let reference = reference();

    let fit = json(&kulanz(&[
        "value",
        "fit",
        "--time-unit",
        "week",
        "--observation-end",
        "1997-09-30",
        "--data-dir",
        &data,
    ]));
    // The paper's estimates (Fader, Hardie & Lee 2005), and lifetimes' on the same split.
    for (p, paper) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        close(p, &fit["bgnbd"][p], &Value::from(paper), 0.005);
        close(p, &fit["bgnbd"][p], &reference["bgnbd"][p], 1e-4);
    }
    for p in ["p", "q", "v"] {
        close(
            p,
            &fit["gamma_gamma"][p],
            &reference["gamma_gamma"][p],
            1e-4,
        );
    }
    assert_eq!(fit["bgnbd_fit"]["customers"], 2357);
    assert_eq!(
        fit["gamma_gamma_fit"]["customers"],
        reference["gamma_gamma"]["customers"]
    );

    let plots = dir.path().join("plots");
    let out = kulanz(&[
        "value",
        "validate",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--time-unit",
        "week",
        "--plot",
        plots.to_str().unwrap(),
        "--data-dir",
        &data,
    ]);
    let v = json(&out);
    assert_eq!(v["customers"], 2357);
    assert_eq!(v["holdout_duration"], 39.0);
    close(
        "log-likelihood",
        &v["bgnbd_fit"]["log_likelihood"],
        &reference["bgnbd"]["log_likelihood"],
        1e-6,
    );
    let (ours, theirs) = (&v["purchases"], &reference["purchases"]);
    assert_eq!(ours["actual_total"], theirs["actual_total"]);
    for k in ["predicted_total", "mean_absolute_error", "correlation"] {
        close(k, &ours[k], &theirs[k], 1e-5);
    }
    for (row, theirs) in v["by_calibration_frequency"]
        .as_array()
        .unwrap()
        .iter()
        .zip(reference["by_calibration_frequency"].as_array().unwrap())
    {
        assert_eq!(row["customers"], theirs["customers"]);
        assert_eq!(row["actual_mean"], theirs["actual_mean"]);
        close(
            "row",
            &row["predicted_mean"],
            &theirs["predicted_mean"],
            1e-5,
        );
    }
    let (ours, theirs) = (&v["spend"]["spend"], &reference["spend"]);
    assert_eq!(ours["customers"], theirs["customers"]);
    for k in [
        "actual_total",
        "predicted_total",
        "mean_absolute_error",
        "correlation",
    ] {
        close(k, &ours[k], &theirs[k], 1e-5);
    }
    let tracking = v["tracking"].as_array().unwrap();
    let (actual, predicted) = (
        &reference["tracking"]["actual"],
        &reference["tracking"]["predicted"],
    );
    assert_eq!(tracking.len(), actual.as_array().unwrap().len());
    for (i, point) in tracking.iter().enumerate() {
        assert_eq!(point["actual"], actual[i], "week {}", i + 1);
        close("tracking", &point["predicted"], &predicted[i], 1e-5);
    }
    for chart in ["tracking.svg", "conditional_expectations.svg"] {
        let svg = std::fs::read_to_string(plots.join(chart)).unwrap();
        assert!(
            svg.starts_with("<svg ") && svg.contains("<polyline"),
            "{chart}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(chart));
    }
}

/// Every command that prints JSON prints the JSON alone: `| jq` and `| python3 -m
/// json.tool` work on the CDNOW data.
#[test]
fn every_json_printing_command_prints_json_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = cdnow_store(dir.path());
    let customers = dir.path().join("customers.ndjson");
    std::fs::write(
        &customers,
        "{\"customer_id\":\"1\",\"currency\":\"USD\",\"lifetime_revenue\":{\"amount\":\"120.00\",\"currency\":\"USD\"}}\n",
    )
    .unwrap();
    let policy = format!("{}/policies/goodwill.json", env!("CARGO_MANIFEST_DIR"));
    let commands: Vec<Vec<&str>> = vec![
        vec!["import", "customers", customers.to_str().unwrap()],
        vec!["value", "fit", "--observation-end", "1998-06-30"],
        vec![
            "value",
            "validate",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
        ],
        vec!["value", "predict", "--customer", "1"],
        vec!["report"],
        vec!["policy", "backtest", &policy, "--json"],
    ];
    for mut args in commands {
        args.extend(["--data-dir", &data]);
        let out = kulanz(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parsed: Result<Value, _> = serde_json::from_slice(&out.stdout);
        assert!(
            parsed.as_ref().is_ok_and(|v| v.is_object()),
            "{args:?} printed more than JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
