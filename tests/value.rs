//! Reference agreement: the Rust fits and predictions on the CDNOW sample against the
//! `lifetimes` library (fixtures made once by `scripts/cdnow_reference.sh`) and the
//! published BG/NBD estimates (Fader, Hardie & Lee 2005). Tolerance: 0.5 % relative.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kulanz::value::bgnbd::Rfm;
use kulanz::value::fit::{fit_bgnbd, fit_gamma_gamma};
use kulanz::value::predict::estimate;
use kulanz::value::TimeUnit;
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

const TOLERANCE: f64 = 0.005;

struct Customer {
    x: f64,
    t_x: f64,
    t: f64,
    m: f64,
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn cdnow() -> Vec<Customer> {
    let mut r = csv::Reader::from_path(fixture("cdnow_summary.csv")).unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            let f = |i: usize| row.get(i).unwrap().parse::<f64>().unwrap();
            Customer {
                x: f(1),
                t_x: f(2),
                t: f(3),
                m: f(4),
            }
        })
        .collect()
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("cdnow_reference.json")).unwrap())
        .unwrap()
}

fn rfm(c: &Customer) -> Rfm {
    Rfm {
        x: c.x,
        t_x: c.t_x,
        t: c.t,
    }
}

struct Fitted {
    bg: kulanz::value::bgnbd::BgNbd,
    bg_ll: f64,
    gg: kulanz::value::gamma_gamma::GammaGamma,
    gg_ll: f64,
    gg_customers: usize,
}

// Fitting takes a moment; every test shares one fit.
fn fitted() -> &'static Fitted {
    static FIT: OnceLock<Fitted> = OnceLock::new();
    FIT.get_or_init(|| {
        let data = cdnow();
        let all: Vec<Rfm> = data.iter().map(rfm).collect();
        let (bg, bg_stats) = fit_bgnbd(&all).unwrap();
        let returning: Vec<(f64, f64)> = data
            .iter()
            .filter(|c| c.x > 0.0 && c.m > 0.0)
            .map(|c| (c.x, c.m))
            .collect();
        let (gg, gg_stats) = fit_gamma_gamma(&returning).unwrap();
        Fitted {
            bg,
            bg_ll: bg_stats.log_likelihood,
            gg,
            gg_ll: gg_stats.log_likelihood,
            gg_customers: gg_stats.customers,
        }
    })
}

fn rel(ours: f64, theirs: f64) -> f64 {
    ((ours - theirs) / theirs).abs()
}

fn close(what: &str, ours: f64, theirs: f64) {
    eprintln!(
        "{what}: ours {ours:.6}, reference {theirs:.6}, relative error {:.2e}",
        rel(ours, theirs)
    );
    assert!(
        rel(ours, theirs) <= TOLERANCE,
        "{what}: ours {ours}, reference {theirs} ({:.4} % apart)",
        100.0 * rel(ours, theirs)
    );
}

#[test]
fn bgnbd_parameters_match_lifetimes_and_the_paper() {
    let f = fitted();
    let r = &reference()["bgnbd"];
    for (name, ours) in [
        ("r", f.bg.r),
        ("alpha", f.bg.alpha),
        ("a", f.bg.a),
        ("b", f.bg.b),
    ] {
        close(name, ours, r[name].as_f64().unwrap());
    }
    close(
        "log-likelihood",
        f.bg_ll,
        r["log_likelihood"].as_f64().unwrap(),
    );
    // The paper: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    for (name, ours, paper) in [
        ("r", f.bg.r, 0.243),
        ("alpha", f.bg.alpha, 4.414),
        ("a", f.bg.a, 0.793),
        ("b", f.bg.b, 2.426),
        ("LL", f.bg_ll, -9582.4),
    ] {
        close(&format!("paper {name}"), ours, paper);
    }
}

#[test]
fn gamma_gamma_parameters_match_lifetimes() {
    let f = fitted();
    let r = &reference()["gamma_gamma"];
    for (name, ours) in [("p", f.gg.p), ("q", f.gg.q), ("v", f.gg.v)] {
        close(name, ours, r[name].as_f64().unwrap());
    }
    close(
        "log-likelihood",
        f.gg_ll,
        r["log_likelihood"].as_f64().unwrap(),
    );
    assert_eq!(f.gg_customers as u64, r["customers"].as_u64().unwrap());
}

#[test]
fn per_customer_predictions_match_lifetimes() {
    let f = fitted();
    let reference = reference();
    let horizon = reference["horizon_weeks"].as_f64().unwrap();
    let months = reference["clv_months"].as_u64().unwrap() as u32;
    let rate = reference["discount_monthly"].as_f64().unwrap();
    let customers = reference["customers"].as_array().unwrap();
    assert!(customers.len() >= 40);
    let mut worst = [0.0f64; 4];
    for c in customers {
        let g = |k: &str| c[k].as_f64().unwrap();
        let who = c["customer_id"].as_str().unwrap();
        let cust = Customer {
            x: g("frequency"),
            t_x: g("recency"),
            t: g("t"),
            m: g("monetary_value"),
        };
        let e = estimate(
            &f.bg,
            &f.gg,
            TimeUnit::Week,
            months,
            rate,
            rfm(&cust),
            cust.m,
        );
        let purchases = f.bg.expected_purchases(rfm(&cust), horizon);
        let pairs = [
            ("p_alive", e.p_alive),
            ("expected_purchases", purchases),
            ("expected_spend", e.expected_spend),
            ("clv", e.value),
        ];
        for (i, (name, ours)) in pairs.iter().enumerate() {
            close(&format!("customer {who} {name}"), *ours, g(name));
            worst[i] = worst[i].max(rel(*ours, g(name)));
        }
    }
    eprintln!(
        "max relative error: p_alive {:.2e}, expected purchases {:.2e}, expected spend {:.2e}, clv {:.2e}",
        worst[0], worst[1], worst[2], worst[3]
    );
}

/// The raw CDNOW orders, summarised as of the calibration end the way the store does,
/// fitted, and each customer's expected holdout purchases against lifetimes'
/// `conditional_expected_number_of_purchases_up_to_time` on its own calibration/holdout
/// split (tests/fixtures/cdnow_holdout_reference.json).
#[test]
fn holdout_predictions_from_raw_orders_match_lifetimes_customer_by_customer() {
    use chrono::NaiveDate;
    use kulanz::value::summary::summary_as_of;
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;

    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("cdnow_holdout_reference.json")).unwrap(),
    )
    .unwrap();
    let cal_end = NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
    let mut orders: BTreeMap<String, Vec<(NaiveDate, Decimal)>> = BTreeMap::new();
    let mut r = csv::Reader::from_path(fixture("cdnow_orders.csv")).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        let day = NaiveDate::parse_from_str(&row[1], "%Y-%m-%d").unwrap();
        orders
            .entry(row[0].to_string())
            .or_default()
            .push((day, row[2].parse().unwrap()));
    }
    let rfm: BTreeMap<&str, Rfm> = orders
        .iter()
        .map(|(id, o)| {
            let s = summary_as_of("USD", o.iter().copied(), cal_end);
            (id.as_str(), s.rfm(TimeUnit::Week, cal_end).unwrap())
        })
        .collect();
    let all: Vec<Rfm> = rfm.values().copied().collect();
    let (bg, _) = fit_bgnbd(&all).unwrap();
    let c = &reference["customers"];
    let duration = reference["holdout_duration"].as_f64().unwrap();
    let mut worst = 0.0f64;
    for (i, id) in c["customer_id"].as_array().unwrap().iter().enumerate() {
        let ours = bg.expected_purchases(rfm[id.as_str().unwrap()], duration);
        let theirs = c["predicted_holdout"][i].as_f64().unwrap();
        assert_eq!(
            rfm[id.as_str().unwrap()].x,
            c["frequency_cal"][i].as_f64().unwrap()
        );
        worst = worst.max(rel(ours, theirs));
        assert!(
            rel(ours, theirs) <= 1e-5,
            "customer {id}: ours {ours}, lifetimes {theirs}"
        );
    }
    eprintln!("expected holdout purchases, 2357 customers: max relative error {worst:.2e}");
}
