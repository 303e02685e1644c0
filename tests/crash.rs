//! Crash test: the real binary under concurrent writes, killed with SIGKILL at a random
//! moment, restarted over the same data directory, several rounds. Every write whose 2xx
//! answer reached the client must be there and equal to what was answered; a write that
//! got no answer may be missing but, when present, must be whole.
//!
//! `KULANZ_CRASH_ROUNDS` sets the number of rounds (default 6) and `KULANZ_CRASH_SEED` the
//! seed (printed at the start; the test output shows it on failure). The timing of the
//! kill against the requests in flight is not reproducible from the seed; what the seed
//! fixes is the kill delays and the contents sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "process/mod.rs"]
mod process;

use process::{Server, BIN};
const WRITERS: usize = 4;
const CATEGORIES: [&str; 4] = [
    "late_delivery",
    "damaged_item",
    "cancellation_refund",
    "billing_error",
];
const ROLES: [&str; 3] = ["agent", "senior", "lead"];
const TIERS: [&str; 3] = ["bronze", "silver", "gold"];
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const FAULTS: [&str; 4] = ["ours", "partner", "customer", "unclear"];

/// What the client sent, and what it was answered when an answer came.
#[derive(Default)]
struct Ledger {
    /// customer id -> (record sent, answer body when acknowledged)
    customers: BTreeMap<String, (Value, Option<Value>)>,
    /// decision id -> (request sent, answer body); only acknowledged decisions have an id
    decisions: BTreeMap<String, (Value, Value)>,
    /// decision id -> (outcome sent, answer body when acknowledged)
    outcomes: BTreeMap<String, (Value, Option<Value>)>,
    acknowledged: usize,
}

fn create_key(data_dir: &Path) -> String {
    let out = Command::new(BIN)
        .args([
            "keys",
            "add",
            "--name",
            "crash",
            "--scopes",
            "decide,ingest",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().last().unwrap().to_string()
}

fn customer_record(rng: &mut StdRng) -> Value {
    let money = |rng: &mut StdRng| json!({"amount": format!("{}.{:02}", rng.gen_range(0..20_000), rng.gen_range(0..100)), "currency": "EUR"});
    json!({
        "currency": "EUR",
        "lifetime_revenue": money(rng),
        "orders": rng.gen_range(0..500),
        "tier": TIERS[rng.gen_range(0..TIERS.len())],
        "referrals": rng.gen_range(0..20),
        "claims_90d": rng.gen_range(0..5),
        "goodwill_12m": money(rng),
    })
}

/// One writer: random writes until the server stops answering.
async fn writer(
    base: String,
    key: String,
    tag: String,
    mut rng: StdRng,
    ledger: Arc<Mutex<Ledger>>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut mine: Vec<String> = Vec::new(); // decisions of this writer without an outcome
    let mut customers: Vec<String> = Vec::new();
    for n in 0.. {
        let op = rng.gen_range(0..10);
        let sent = if op < 4 || customers.is_empty() {
            let id = format!("c-{tag}-{n}");
            let record = customer_record(&mut rng);
            ledger
                .lock()
                .unwrap()
                .customers
                .insert(id.clone(), (record.clone(), None));
            let r = client
                .put(format!("{base}/v1/customers/{id}"))
                .bearer_auth(&key)
                .json(&record)
                .send()
                .await;
            let Ok(r) = r else { return };
            assert_eq!(r.status(), 201, "put customer {id}");
            let Ok(body) = r.json::<Value>().await else {
                return;
            };
            let mut l = ledger.lock().unwrap();
            l.customers.get_mut(&id).unwrap().1 = Some(body);
            l.acknowledged += 1;
            customers.push(id);
            continue;
        } else if op < 8 || mine.is_empty() {
            let customer = customers[rng.gen_range(0..customers.len())].clone();
            let request = json!({
                "ticket_id": format!("T-{tag}-{n}"),
                "customer_id": customer,
                "agent": {"id": format!("a-{tag}"), "role": ROLES[rng.gen_range(0..ROLES.len())]},
                "complaint": {
                    "category": CATEGORIES[rng.gen_range(0..CATEGORIES.len())],
                    "severity": SEVERITIES[rng.gen_range(0..SEVERITIES.len())],
                    "channel": "email",
                    "fault": FAULTS[rng.gen_range(0..FAULTS.len())],
                    "amount_at_stake": {"amount": format!("{}.00", rng.gen_range(0..800)), "currency": "EUR"},
                },
            });
            let r = client
                .post(format!("{base}/v1/decisions"))
                .bearer_auth(&key)
                .json(&request)
                .send()
                .await;
            (request, r)
        } else {
            let id = mine.swap_remove(rng.gen_range(0..mine.len()));
            let gesture =
                ledger.lock().unwrap().decisions[&id].1["recommendation"]["gesture"].clone();
            let outcome = json!({
                "granted": {"gesture": gesture},
                "customer_accepted": rng.gen_bool(0.5),
                "note": format!("note {tag} {n}"),
            });
            ledger
                .lock()
                .unwrap()
                .outcomes
                .insert(id.clone(), (outcome.clone(), None));
            let r = client
                .post(format!("{base}/v1/decisions/{id}/outcome"))
                .bearer_auth(&key)
                .json(&outcome)
                .send()
                .await;
            let Ok(r) = r else { return };
            assert_eq!(r.status(), 201, "outcome of {id}");
            let Ok(body) = r.json::<Value>().await else {
                return;
            };
            let mut l = ledger.lock().unwrap();
            l.outcomes.get_mut(&id).unwrap().1 = Some(body);
            l.acknowledged += 1;
            continue;
        };
        let (request, r) = sent;
        let Ok(r) = r else { return };
        assert_eq!(r.status(), 200, "decision");
        let Ok(body) = r.json::<Value>().await else {
            return;
        };
        let id = body["decision_id"].as_str().unwrap().to_string();
        let mut l = ledger.lock().unwrap();
        l.decisions.insert(id.clone(), (request, body));
        l.acknowledged += 1;
        mine.push(id);
    }
}

async fn get(client: &reqwest::Client, url: String, key: &str) -> (u16, Value) {
    let r = client.get(url).bearer_auth(key).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Check every entry of the ledger against the restarted server; returns writes checked.
async fn verify(base: &str, key: &str, ledger: &Ledger, seed: u64) -> usize {
    let client = reqwest::Client::new();
    let mut checked = 0;
    for (id, (sent, answer)) in &ledger.customers {
        let (status, stored) = get(&client, format!("{base}/v1/customers/{id}"), key).await;
        match answer {
            Some(answer) => {
                assert_eq!(status, 200, "seed {seed}: acknowledged customer {id} lost");
                assert_eq!(&stored, answer, "seed {seed}: customer {id} changed");
                checked += 1;
            }
            None if status == 404 => continue,
            None => assert_eq!(status, 200, "seed {seed}: customer {id}: {stored}"),
        }
        // Present, acknowledged or not: every field sent is stored as sent.
        for (field, value) in sent.as_object().unwrap() {
            assert_eq!(&stored[field], value, "seed {seed}: customer {id}.{field}");
        }
        assert_eq!(stored["customer_id"], id.as_str(), "seed {seed}");
    }
    for (id, (request, answer)) in &ledger.decisions {
        let (status, mut stored) = get(&client, format!("{base}/v1/decisions/{id}"), key).await;
        assert_eq!(status, 200, "seed {seed}: acknowledged decision {id} lost");
        assert_eq!(
            &stored["request"], request,
            "seed {seed}: decision {id} request"
        );
        let outcome = stored.as_object_mut().unwrap().remove("outcome");
        match (ledger.outcomes.get(id), outcome) {
            (Some((_, Some(answer))), Some(got)) => {
                assert_eq!(&got, answer, "seed {seed}: outcome of {id}");
                checked += 1;
            }
            (Some((_, Some(_))), None) => panic!("seed {seed}: acknowledged outcome of {id} lost"),
            (Some((sent, None)), Some(got)) => {
                assert_eq!(
                    got["granted"], sent["granted"],
                    "seed {seed}: outcome of {id}"
                );
                assert_eq!(got["note"], sent["note"], "seed {seed}: outcome of {id}");
            }
            (None, Some(got)) => panic!("seed {seed}: outcome of {id} never sent: {got}"),
            (_, None) => {}
        }
        for extra in ["request", "customer_snapshot"] {
            stored.as_object_mut().unwrap().remove(extra);
        }
        assert_eq!(&stored, answer, "seed {seed}: decision {id} changed");
        checked += 1;
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_sigkill_and_restart() {
    let rounds: u64 = std::env::var("KULANZ_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let seed: u64 = std::env::var("KULANZ_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("crash test: seed {seed}, {rounds} rounds (KULANZ_CRASH_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path());
    let mut done: Vec<Ledger> = Vec::new();
    let mut checked = 0;
    for round in 0..rounds {
        let server = Server::start(
            dir.path(),
            // Explicit, so a `KULANZ_DURABILITY` in the environment cannot weaken the test;
            // the writers hammer one key on purpose: the rate limit is not under test.
            &["--durability", "strict", "--rate-limit-per-sec", "0"],
            None,
        );
        server.wait_ready(&reqwest::Client::new()).await;
        // The store reopened after the kill: the last round's writes are the ones the
        // kill could have cut; every round is checked again at the end.
        if let Some(last) = done.last() {
            checked += verify(&server.base, &key, last, seed).await;
        }
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    server.base.clone(),
                    key.clone(),
                    format!("r{round}w{w}"),
                    StdRng::seed_from_u64(rng.gen()),
                    ledger.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1500))).await;
        server.kill();
        for t in tasks {
            t.await.unwrap();
        }
        done.push(std::mem::take(&mut *ledger.lock().unwrap()));
    }
    let server = Server::start(
        dir.path(),
        // Explicit, so a `KULANZ_DURABILITY` in the environment cannot weaken the test;
        // the writers hammer one key on purpose: the rate limit is not under test.
        &["--durability", "strict", "--rate-limit-per-sec", "0"],
        None,
    );
    server.wait_ready(&reqwest::Client::new()).await;
    for ledger in &done {
        checked += verify(&server.base, &key, ledger, seed).await;
    }
    server.kill();
    let acknowledged: usize = done.iter().map(|l| l.acknowledged).sum();
    eprintln!(
        "crash test: {rounds} rounds, {acknowledged} writes acknowledged, {checked} checks of acknowledged writes"
    );
    assert!(acknowledged > 0, "seed {seed}: no write was acknowledged");
}
