//! Cluster mode end to end: a real 3-node NATS JetStream cluster (the shipped
//! configuration, tests/cluster_support/nats.rs) and real `kulanz serve --cluster`
//! replicas, killed and restarted with SIGKILL while clients write through all of them.
//! Everything waits for events with a deadline; nothing sleeps for a fixed time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cluster_support/nats.rs"]
mod nats;

use nats::NatsCluster;
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kulanz");
const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
/// A guard against hanging, not a timing claim.
const DEADLINE: Duration = Duration::from_secs(60);
/// The tests run one after the other: each starts three NATS nodes and several replicas,
/// and two such clusters at once on a 2-core machine made NATS miss its first answers.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One `kulanz serve --cluster` process.
struct Replica {
    id: String,
    child: Child,
    base: String,
    /// The demo key, when started with `--demo`.
    key: Option<String>,
}

impl Replica {
    fn start(nats: &NatsCluster, id: &str, data: &Path, demo: bool) -> Replica {
        Replica::start_with(nats, id, data, demo, &[])
    }

    /// `start`, with more `serve` flags.
    fn start_with(
        nats: &NatsCluster,
        id: &str,
        data: &Path,
        demo: bool,
        extra: &[&str],
    ) -> Replica {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(extra)
            .arg("--data-dir")
            .arg(data)
            .args(["--policy-dir", POLICIES])
            .args(["--cluster", &nats.cluster_arg(), "--replica-id", id])
            .args(["--rate-limit-per-sec", "0"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Result<String, String>>();
        let stderr = child.stderr.take().unwrap();
        let log_path = data.with_extension("log");
        // Drain the log so the server never blocks on it; keep it in a file for failures.
        std::thread::spawn(move || {
            let mut file = std::fs::File::create(&log_path).ok();
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = file.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(f, "{line}");
                }
                if let Some(t) = tx.as_ref() {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if v["fields"]["message"] == "kulanz listening" {
                            let _ = t.send(Ok(v["fields"]["addr"].as_str().unwrap_or("").into()));
                            tx = None;
                        }
                    }
                }
            }
            if let Some(t) = tx {
                let _ = t.send(Err("exited before listening".into()));
            }
        });
        let (ktx, krx) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(k) = line.split_whitespace().find(|w| w.starts_with("kz_")) {
                    let _ = ktx.send(k.trim_matches('\'').to_string());
                }
            }
        });
        let addr = match rx.recv_timeout(DEADLINE) {
            Ok(Ok(a)) => a,
            other => panic!(
                "replica {id} did not start ({other:?}):\n{}",
                std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
            ),
        };
        let key = demo.then(|| krx.recv_timeout(DEADLINE).expect("the demo prints its key"));
        Replica {
            id: id.to_string(),
            child,
            base: format!("http://{addr}"),
            key,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// A complaint from the demo's customers: `n` picks one.
fn complaint(n: usize) -> Value {
    let customers = ["c-10442", "c-30303", "c-40404", "c-50505", "c-60606"];
    json!({
        "ticket_id": format!("ZD-{n}"),
        "customer_id": customers[n % customers.len()],
        "agent": {"id": "a-17", "role": "agent"},
        "complaint": {"category": "cancellation_refund", "severity": "medium",
            "channel": "email", "fault": "unclear",
            "amount_at_stake": {"amount": "40.00", "currency": "EUR"}}
    })
}

fn outcome() -> Value {
    json!({"granted": {"gesture": "apology"}, "customer_accepted": true})
}

/// `GET url` with `key`, its body as JSON.
async fn get_json(http: &reqwest::Client, url: String, key: &str) -> Value {
    let r = http.get(url).bearer_auth(key).send().await.unwrap();
    r.json().await.unwrap()
}

/// Wait until every replica is ready.
async fn wait_ready(http: &reqwest::Client, replicas: &[&Replica]) {
    let deadline = Instant::now() + DEADLINE;
    for r in replicas {
        loop {
            if let Ok(resp) = http.get(format!("{}/readyz", r.base)).send().await {
                if resp.status() == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "replica {} never became ready",
                r.id
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// `GET /v1/replica` of every replica, once all have applied the same position and no
/// entry is pending: the state they converged to.
async fn converged(http: &reqwest::Client, key: &str, replicas: &[&Replica]) -> Vec<Value> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let mut states = Vec::new();
        for r in replicas {
            let s: Value = get_json(http, format!("{}/v1/replica", r.base), key).await;
            states.push(s);
        }
        let positions: Vec<&Value> = states.iter().map(|s| &s["cluster"]["applied"]).collect();
        let same = positions.windows(2).all(|w| w[0] == w[1]);
        let idle = states.iter().all(|s| s["cluster"]["lag_entries"] == 0);
        if same && idle {
            return states;
        }
        assert!(
            Instant::now() < deadline,
            "replicas did not converge: {positions:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What clients were told succeeded: decision ids, and the decisions whose outcome got a 201.
#[derive(Default)]
struct Acked {
    decisions: Vec<String>,
    outcomes: Vec<String>,
    failed: usize,
}

/// Decide and record outcomes through every replica in turn until `stop` is set.
async fn load(
    http: reqwest::Client,
    key: String,
    bases: Arc<Mutex<Vec<String>>>,
    worker: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
    acked: Arc<Mutex<Acked>>,
) {
    let mut n = worker * 100_000;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        n += 1;
        let urls = bases.lock().unwrap().clone();
        let base = &urls[n % urls.len()];
        let r = http
            .post(format!("{base}/v1/decisions"))
            .bearer_auth(&key)
            .json(&complaint(n))
            .send()
            .await;
        let id = match r {
            Ok(r) if r.status().is_success() => {
                let v: Value = r.json().await.unwrap();
                v["decision_id"].as_str().unwrap().to_string()
            }
            Ok(r) => {
                assert!(
                    r.status().is_server_error() || r.status() == 409,
                    "unexpected {}",
                    r.status()
                );
                acked.lock().unwrap().failed += 1;
                continue;
            }
            Err(_) => {
                acked.lock().unwrap().failed += 1;
                continue;
            }
        };
        acked.lock().unwrap().decisions.push(id.clone());
        // The outcome through the next replica: it may not have applied the decision yet.
        let other = &urls[(n + 1) % urls.len()];
        let r = http
            .post(format!("{other}/v1/decisions/{id}/outcome"))
            .bearer_auth(&key)
            .json(&outcome())
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 201 => acked.lock().unwrap().outcomes.push(id),
            _ => acked.lock().unwrap().failed += 1,
        }
    }
}

/// Every acknowledged write is on every replica after NATS and kulanz nodes die, and the
/// replicas converge to one state; a replica started empty catches up to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_node_failures_and_replicas_converge() {
    let _one_at_a_time = SERIAL.lock().await;
    let mut nats = tokio::task::block_in_place(|| NatsCluster::start(3));
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let r1 = Replica::start(&nats, "r1", &dir.path().join("r1"), true);
    let key = r1.key.clone().unwrap();
    let r2 = Replica::start(&nats, "r2", &dir.path().join("r2"), false);
    let r3 = Replica::start(&nats, "r3", &dir.path().join("r3"), false);
    wait_ready(&http, &[&r1, &r2, &r3]).await;
    let bases = Arc::new(Mutex::new(vec![
        r1.base.clone(),
        r2.base.clone(),
        r3.base.clone(),
    ]));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(load(
                http.clone(),
                key.clone(),
                bases.clone(),
                w,
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    let wait_for_more = |at_least: usize| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + DEADLINE;
            while acked.lock().unwrap().outcomes.len() < at_least {
                assert!(Instant::now() < deadline, "writes stopped going through");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for_more(30).await;
    // A NATS node dies without warning, and comes back.
    tokio::task::block_in_place(|| nats.kill(0));
    let before = acked.lock().unwrap().outcomes.len();
    wait_for_more(before + 30).await;
    tokio::task::block_in_place(|| nats.restart(0));
    // A replica dies without warning, and comes back on its data.
    let mut r2 = r2;
    r2.kill();
    let before = acked.lock().unwrap().outcomes.len();
    wait_for_more(before + 30).await;
    let r2 = Replica::start(&nats, "r2", &dir.path().join("r2"), false);
    wait_ready(&http, &[&r2]).await;
    bases.lock().unwrap()[1] = r2.base.clone();
    let before = acked.lock().unwrap().outcomes.len();
    wait_for_more(before + 30).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    println!(
        "acknowledged: {} decisions, {} outcomes; failed requests: {}",
        acked.decisions.len(),
        acked.outcomes.len(),
        acked.failed
    );

    // A replica started empty catches up from the log.
    let r4 = Replica::start(&nats, "r4", &dir.path().join("r4"), false);
    wait_ready(&http, &[&r4]).await;
    let all = [&r1, &r2, &r3, &r4];
    let states = converged(&http, &key, &all).await;
    for (r, s) in all.iter().zip(&states) {
        assert_eq!(
            s["digest"], states[0]["digest"],
            "replica {} differs from r1",
            r.id
        );
    }
    assert!(
        states[0]["digest"]["decision_count"].as_u64().unwrap() as usize >= acked.decisions.len()
    );
    // Every acknowledged write is on every replica.
    for r in all {
        let mut missing = Vec::new();
        for id in &acked.decisions {
            let resp = http
                .get(format!("{}/v1/decisions/{id}", r.base))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let d: Value = resp.json().await.unwrap();
            if d["decision_id"] != id.as_str() {
                missing.push(format!("{id}: {status} {d}"));
                continue;
            }
            if acked.outcomes.contains(id) {
                assert!(
                    d["outcome"].is_object(),
                    "{} lacks the outcome of {id}",
                    r.id
                );
            }
        }
        assert!(
            missing.is_empty(),
            "{} lacks {} of {} acknowledged decisions: {missing:#?}",
            r.id,
            missing.len(),
            acked.decisions.len()
        );
        let v: Value = get_json(&http, format!("{}/v1/audit/verify", r.base), &key).await;
        assert_eq!(v["intact"], true, "{}: {v}", r.id);
    }
    // The same answer from the caught-up replica as from the first.
    let id = &acked.decisions[0];
    let a: Value = get_json(&http, format!("{}/v1/decisions/{id}", r1.base), &key).await;
    let b: Value = get_json(&http, format!("{}/v1/decisions/{id}", r4.base), &key).await;
    assert_eq!(a, b);
}

/// The log settles races between replicas, a quorum loss refuses writes (never a 2xx that
/// is not in the log) and heals by itself, and an erasure leaves every replica and the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn races_quorum_loss_and_erasure_across_replicas() {
    let _one_at_a_time = SERIAL.lock().await;
    let mut nats = tokio::task::block_in_place(|| NatsCluster::start(3));
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let r1 = Replica::start(&nats, "r1", &dir.path().join("r1"), true);
    let key = r1.key.clone().unwrap();
    let r2 = Replica::start(&nats, "r2", &dir.path().join("r2"), false);
    wait_ready(&http, &[&r1, &r2]).await;

    // One outcome for a decision, sent to two replicas at once: one 201, one 409.
    let d: Value = http
        .post(format!("{}/v1/decisions", r1.base))
        .bearer_auth(&key)
        .json(&complaint(1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = d["decision_id"].as_str().unwrap().to_string();
    let send = |base: String| {
        let (http, key, id) = (http.clone(), key.clone(), id.clone());
        async move {
            let r = http
                .post(format!("{base}/v1/decisions/{id}/outcome"))
                .bearer_auth(&key)
                .json(&outcome())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (a, b) = tokio::join!(send(r1.base.clone()), send(r2.base.clone()));
    let mut statuses = [a.0, b.0];
    println!("outcome race: {a:?} {b:?}");
    statuses.sort();
    assert_eq!(
        statuses,
        [201, 409],
        "one outcome wins, the other is refused"
    );

    // Two tickets of one customer with three claims in 90 days (the policy allows four),
    // decided at once, their grants recorded on two replicas at once: the ledger guard is
    // checked in log order, so one grant is recorded and the other refused. Whether the
    // loser is refused by its own replica's check or by the applier (its check overtaken,
    // then checked again) depends on timing; both must end the same.
    for round in 0..4 {
        let (one, other) = ledger_race(&http, &key, &r1, &r2, &format!("c-twice-{round}")).await;
        println!("ledger race {round}: {one:?} {other:?}");
        let mut statuses = [one.0, other.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [201, 409],
            "one grant is recorded, the other refused"
        );
        let refused = if one.0 == 409 { &one.1 } else { &other.1 };
        assert!(refused.contains("ledger_changed"), "{refused}");
    }
    let overtaken = ["r1", "r2"]
        .iter()
        .map(|id| std::fs::read_to_string(dir.path().join(format!("{id}.log"))).unwrap())
        .map(|log| {
            log.matches("the ledger changed while the outcome was checked")
                .count()
        })
        .sum::<usize>();
    println!("ledger races settled by the applier after an overtaken check: {overtaken} of 4");

    // One Idempotency-Key sent to both replicas at once: one decision.
    let decide = |base: String| {
        let (http, key) = (http.clone(), key.clone());
        async move {
            let deadline = Instant::now() + DEADLINE;
            loop {
                let r = http
                    .post(format!("{base}/v1/decisions"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", "race-1")
                    .json(&complaint(7))
                    .send()
                    .await
                    .unwrap();
                if r.status() == 200 {
                    let v: Value = r.json().await.unwrap();
                    return v["decision_id"].as_str().unwrap().to_string();
                }
                // 409 idempotency_in_flight: the other replica holds the key; retry.
                assert_eq!(r.status(), 409);
                assert!(Instant::now() < deadline, "the key stayed in flight");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let (x, y) = tokio::join!(decide(r1.base.clone()), decide(r2.base.clone()));
    assert_eq!(x, y, "one Idempotency-Key, one decision");

    // A key made on one replica works on the other once applied there, and so does its
    // revocation: measured here without Kulanz-After (how long a desk would see a 401).
    let made: Value = http
        .post(format!("{}/v1/keys", r1.base))
        .bearer_auth(&key)
        .json(&json!({"name": "desk-2", "scopes": ["decide"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = made["secret"].as_str().unwrap().to_string();
    let started = Instant::now();
    let status_on_r2 = |secret: String| {
        let (http, base) = (http.clone(), r2.base.clone());
        async move {
            http.get(format!("{base}/v1/tickets/ZD-none/decision"))
                .bearer_auth(&secret)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    while status_on_r2(secret.clone()).await == 401 {
        assert!(started.elapsed() < DEADLINE, "the key never reached r2");
    }
    let valid_after = started.elapsed();
    let r = http
        .delete(format!("{}/v1/keys/desk-2", r1.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let started = Instant::now();
    while status_on_r2(secret.clone()).await != 401 {
        assert!(
            started.elapsed() < DEADLINE,
            "the revocation never reached r2"
        );
    }
    println!(
        "a key made on r1 was valid on r2 after {valid_after:?}; its revocation took {:?}",
        started.elapsed()
    );

    // A cluster's first admin key comes from the CLI, written to the log: valid everywhere.
    let out = Command::new(BIN)
        .args(["keys", "add", "--name", "ops", "--scopes", "admin"])
        .args(["--cluster", &nats.cluster_arg()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ops = String::from_utf8(out.stdout).unwrap().trim().to_string();
    for base in [&r1.base, &r2.base] {
        let started = Instant::now();
        loop {
            let r = http
                .get(format!("{base}/v1/replica"))
                .bearer_auth(&ops)
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                break;
            }
            assert_eq!(r.status(), 401);
            assert!(
                started.elapsed() < DEADLINE,
                "the CLI's key never reached {base}"
            );
        }
    }

    // A read after a write on another replica: Kulanz-After waits for the position.
    let r = http.put(format!("{}/v1/customers/c-ryw", r1.base)).bearer_auth(&key)
        .json(&json!({"currency": "EUR", "lifetime_revenue": {"amount": "900.00", "currency": "EUR"}, "orders": 3}))
        .send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let pos = r.headers()["kulanz-position"].to_str().unwrap().to_string();
    let r = http
        .get(format!("{}/v1/customers/c-ryw", r2.base))
        .bearer_auth(&key)
        .header("Kulanz-After", &pos)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Erasure: gone from both replicas and from the log; the chains still verify.
    let r = http
        .delete(format!("{}/v1/customers/c-ryw", r2.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let pos = r.headers()["kulanz-position"].to_str().unwrap().to_string();
    for base in [&r1.base, &r2.base] {
        let r = http
            .get(format!("{base}/v1/customers/c-ryw"))
            .bearer_auth(&key)
            .header("Kulanz-After", &pos)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{base}");
        let v: Value = get_json(&http, format!("{base}/v1/audit/verify"), &key).await;
        assert_eq!(v["intact"], true, "{v}");
    }
    let nc = async_nats::connect(nats.client_urls()[0].as_str())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nc);
    let stream = js.get_stream("kulanz").await.unwrap();
    let subject = format!("kulanz.customer.{}", hex_token("c-ryw"));
    assert!(
        stream
            .get_last_raw_message_by_subject(&subject)
            .await
            .is_err(),
        "the erased customer's record is still in the log"
    );

    // Two of three NATS nodes gone: no quorum, writes are refused with 503, reads work.
    tokio::task::block_in_place(|| {
        nats.kill(1);
        nats.kill(2);
    });
    let deadline = Instant::now() + DEADLINE;
    let refused = loop {
        let r = http
            .post(format!("{}/v1/decisions", r1.base))
            .bearer_auth(&key)
            .json(&complaint(9))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        if status == 503 {
            break body;
        }
        // A write that raced the kill may still have reached the quorum.
        assert_eq!(status, 200, "{body}");
        assert!(
            Instant::now() < deadline,
            "writes kept succeeding without a quorum"
        );
    };
    assert_eq!(refused["error"]["code"], "cluster_unavailable", "{refused}");
    let r = http
        .get(format!("{}/v1/decisions/{id}", r2.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "reads of what is applied keep working");
    // They come back; writes go through again without any manual step.
    tokio::task::block_in_place(|| {
        nats.restart(1);
        nats.restart(2);
    });
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = http
            .post(format!("{}/v1/decisions", r2.base))
            .bearer_auth(&key)
            .json(&complaint(10))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(
            Instant::now() < deadline,
            "writes did not resume after the quorum returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let states = converged(&http, &key, &[&r1, &r2]).await;
    assert_eq!(states[0]["digest"], states[1]["digest"]);
}

/// Put customer `id` with three claims in 90 days, decide two tickets for them on r1, and
/// record both grants at once, one on each replica: each side's status and body.
async fn ledger_race(
    http: &reqwest::Client,
    key: &str,
    r1: &Replica,
    r2: &Replica,
    id: &str,
) -> ((u16, String), (u16, String)) {
    let customer = json!({"currency": "EUR", "lifetime_revenue": {"amount": "3000.00", "currency": "EUR"},
        "orders": 20, "first_order_at": "2022-01-01", "last_order_at": "2026-11-01",
        "predicted_value": {"amount": "3000.00", "currency": "EUR"}, "claims_90d": 3});
    let r = http
        .put(format!("{}/v1/customers/{id}", r1.base))
        .bearer_auth(key)
        .json(&customer)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut grants = Vec::new();
    for agent in ["a-1", "b-2"] {
        let d: Value = http
            .post(format!("{}/v1/decisions", r1.base))
            .bearer_auth(key)
            .json(
                &json!({"ticket_id": format!("ZD-{id}-{agent}"), "customer_id": id,
                "agent": {"id": agent, "role": "agent"},
                "complaint": {"category": "late_delivery", "severity": "medium", "channel": "email",
                    "fault": "ours", "amount_at_stake": {"amount": "40.00", "currency": "EUR"}}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(d["guards"], json!([]), "{d:#}");
        let rec = &d["recommendation"];
        assert_ne!(rec["amount"]["amount"], "0.00", "{d:#}");
        let body = json!({"granted": {"gesture": rec["gesture"], "amount": rec["amount"]}});
        grants.push((d["decision_id"].as_str().unwrap().to_string(), body));
    }
    // The second replica has the decision it will record against.
    let on_r2 = format!("{}/v1/decisions/{}", r2.base, grants[1].0);
    let deadline = Instant::now() + DEADLINE;
    while http
        .get(&on_r2)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(Instant::now() < deadline, "r2 never applied {on_r2}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let grant = |base: String, (decision, body): (String, Value)| async move {
        let r = http
            .post(format!("{base}/v1/decisions/{decision}/outcome"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    tokio::join!(
        grant(r1.base.clone(), grants[0].clone()),
        grant(r2.base.clone(), grants[1].clone())
    )
}

/// The subject token of an id (cluster/entry.rs).
fn hex_token(id: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(id.as_bytes())[..16])
}

/// Decide `count` complaints, round-robin through `replicas`; every one must succeed.
async fn decide_many(
    http: &reqwest::Client,
    key: &str,
    replicas: &[&Replica],
    from: usize,
    count: usize,
) {
    for n in from..from + count {
        let base = &replicas[n % replicas.len()].base;
        let r = http
            .post(format!("{base}/v1/decisions"))
            .bearer_auth(key)
            .json(&complaint(n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

/// The latest snapshot's metadata: (position, purged_below), if one is stored.
async fn latest_snapshot(js: &async_nats::jetstream::Context) -> Option<(u64, u64)> {
    let bucket = js.get_object_store("kulanz-snapshots").await.ok()?;
    let info = bucket.info("latest").await.ok()?;
    let num = |k: &str| info.metadata[k].parse::<u64>().unwrap();
    Some((num("position"), num("purged_below")))
}

/// Wait until a snapshot is stored whose purge starts the log above `position`.
async fn wait_purged_past(js: &async_nats::jetstream::Context, position: u64) -> (u64, u64) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some((at, below)) = latest_snapshot(js).await {
            if below > position && only_secrets_below(js, below).await {
                return (at, below);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot purged the log past {position}: {:?}",
            latest_snapshot(js).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the log holds nothing below `position` but the cluster's secrets (`meta`).
async fn only_secrets_below(js: &async_nats::jetstream::Context, position: u64) -> bool {
    let stream = js.get_stream("kulanz").await.unwrap();
    for seq in 1..position {
        if let Ok(m) = stream.get_raw_message(seq).await {
            if !m.subject.contains(".meta.") {
                return false;
            }
        }
    }
    true
}

/// The applied position `GET /v1/replica` reports.
async fn applied(http: &reqwest::Client, key: &str, r: &Replica) -> u64 {
    let v = get_json(http, format!("{}/v1/replica", r.base), key).await;
    v["cluster"]["applied"].as_u64().unwrap()
}

/// Snapshots bound the log: a new replica, and one further behind than the log keeps,
/// restore the latest snapshot and converge; an erasure leaves the log and the snapshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshots_bound_the_log_and_replicas_restore_them() {
    let _one_at_a_time = SERIAL.lock().await;
    let nats = tokio::task::block_in_place(|| NatsCluster::start(3));
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let every = ["--snapshot-every", "30"];
    let r1 = Replica::start_with(&nats, "r1", &dir.path().join("r1"), true, &every);
    let key = r1.key.clone().unwrap();
    let mut r2 = Replica::start_with(&nats, "r2", &dir.path().join("r2"), false, &every);
    wait_ready(&http, &[&r1, &r2]).await;
    let nc = async_nats::connect(nats.client_urls()[0].as_str())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(nc);

    // Two snapshot intervals: the log no longer starts at its first entry.
    decide_many(&http, &key, &[&r1, &r2], 0, 80).await;
    let (at, below) = wait_purged_past(&js, 1).await;
    println!("snapshot at {at}, log purged below {below}");

    // A replica started empty restores the snapshot (it could not replay the log).
    let r3 = Replica::start_with(&nats, "r3", &dir.path().join("r3"), false, &every);
    wait_ready(&http, &[&r3]).await;
    let log = std::fs::read_to_string(dir.path().join("r3.log")).unwrap();
    assert!(log.contains("restored the latest snapshot"), "{log}");
    let states = converged(&http, &key, &[&r1, &r2, &r3]).await;
    assert_eq!(states[0]["digest"], states[2]["digest"]);

    // r2 down while the log moves on past what it keeps for r2: at its restart it
    // restores the snapshot, over its old data.
    let r2_was = applied(&http, &key, &r2).await;
    r2.kill();
    decide_many(&http, &key, &[&r1, &r3], 100, 70).await;
    wait_purged_past(&js, r2_was + 1).await;
    let r2 = Replica::start_with(&nats, "r2", &dir.path().join("r2"), false, &every);
    wait_ready(&http, &[&r2]).await;
    let log = std::fs::read_to_string(dir.path().join("r2.log")).unwrap();
    let restored = log
        .lines()
        .find(|l| l.contains("restored the latest snapshot"))
        .unwrap_or_else(|| panic!("r2 did not restore: {log}"));
    println!("r2 (at {r2_was} when killed): {restored}");
    let states = converged(&http, &key, &[&r1, &r2, &r3]).await;
    for s in &states[1..] {
        assert_eq!(states[0]["digest"], s["digest"]);
    }
    for r in [&r1, &r2, &r3] {
        let v = get_json(&http, format!("{}/v1/audit/verify", r.base), &key).await;
        assert_eq!(v["intact"], true, "{v}");
    }

    // An erasure: the customer's rows leave the log and the stored snapshot too.
    let who = "c-erna-4711";
    let r = http.put(format!("{}/v1/customers/{who}", r1.base)).bearer_auth(&key)
        .json(&json!({"currency": "EUR", "lifetime_revenue": {"amount": "900.00", "currency": "EUR"}, "orders": 3}))
        .send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let mut c = complaint(1);
    c["customer_id"] = json!(who);
    let r = http
        .post(format!("{}/v1/decisions", r2.base))
        .bearer_auth(&key)
        .json(&c)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let started = Instant::now();
    let r = http
        .delete(format!("{}/v1/customers/{who}", r3.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let erased_at: u64 = r.headers()["kulanz-position"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    wait_purged_past(&js, erased_at).await;
    println!(
        "the erasure at {erased_at} left the log {:?} after its answer",
        started.elapsed()
    );
    let stream = js.get_stream("kulanz").await.unwrap();
    let state = stream.get_info().await.unwrap().state;
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = stream.get_raw_message(seq).await {
            let body = String::from_utf8_lossy(&m.payload);
            assert!(!body.contains(who), "entry {seq} still names {who}: {body}");
        }
    }
    let mut snapshot = Vec::new();
    let mut object = js
        .get_object_store("kulanz-snapshots")
        .await
        .unwrap()
        .get("latest")
        .await
        .unwrap();
    tokio::io::AsyncReadExt::read_to_end(&mut object, &mut snapshot)
        .await
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&snapshot[..]), &mut text)
        .unwrap();
    assert!(text.contains("\"tree\""), "not a backup");
    let b64 = base64::engine::general_purpose::STANDARD;
    for line in text.lines().skip(1) {
        let e: Value = serde_json::from_str(line).unwrap();
        let value = base64::Engine::decode(&b64, e["value"].as_str().unwrap()).unwrap();
        let key_bytes = base64::Engine::decode(&b64, e["key"].as_str().unwrap()).unwrap();
        for bytes in [&value, &key_bytes] {
            assert!(
                !String::from_utf8_lossy(bytes).contains(who),
                "the snapshot's tree {} still names {who}",
                e["tree"]
            );
        }
    }
    let states = converged(&http, &key, &[&r1, &r2, &r3]).await;
    for s in &states[1..] {
        assert_eq!(states[0]["digest"], s["digest"]);
    }
    for r in [&r1, &r2, &r3] {
        let v = get_json(&http, format!("{}/v1/audit/verify", r.base), &key).await;
        assert_eq!(v["intact"], true, "{v}");
    }
}

/// Every replica is given the outreach webhook, as a deployment gives every replica the
/// same flags: one replica pushes at a time, and no customer is pushed twice, even when a
/// pass lasts longer than the interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_replica_pushes_the_at_risk_list() {
    let _one_at_a_time = SERIAL.lock().await;
    let nats = tokio::task::block_in_place(|| NatsCluster::start(3));
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let got = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let got = got.clone();
            async move {
                // A slow receiver: a pass of 50 pushes outlasts the 1 s interval, so the
                // other replica asks for the turn while this pass still runs.
                tokio::time::sleep(Duration::from_millis(40)).await;
                got.lock()
                    .unwrap()
                    .push(serde_json::from_slice::<Value>(&body).unwrap());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let flags = ["--at-risk-webhook", &hook, "--at-risk-interval-secs", "1"];
    let r1 = Replica::start_with(&nats, "r1", &dir.path().join("r1"), true, &flags);
    let key = r1.key.clone().unwrap();
    let r2 = Replica::start_with(&nats, "r2", &dir.path().join("r2"), false, &flags);
    wait_ready(&http, &[&r1, &r2]).await;
    let url = format!("{}/v1/customers/at-risk?limit=500", r1.base);
    let listed = get_json(&http, url, &key).await;
    let listed = listed["customers"].as_array().unwrap().len();
    assert!(
        listed > 50,
        "the demo has more customers at risk than one pass pushes"
    );

    // Wait until the whole list was pushed (two passes at least: 50 per pass) and both
    // replicas have run three passes each (pushed, or left to the other).
    let passes = |id: &str| {
        let log = std::fs::read_to_string(dir.path().join(format!("{id}.log"))).unwrap();
        log.lines()
            .filter(|l| {
                l.contains("\"at-risk push pass\"")
                    || l.contains("at-risk push pass left to another replica")
            })
            .count()
    };
    let deadline = Instant::now() + DEADLINE;
    while passes("r1") < 3 || passes("r2") < 3 || calls.lock().unwrap().len() < listed {
        assert!(
            Instant::now() < deadline,
            "passes r1 {} r2 {}, {} pushes of {listed} listed",
            passes("r1"),
            passes("r2"),
            calls.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = calls.lock().unwrap().clone();
    let mut ids: Vec<&str> = calls
        .iter()
        .map(|c| c["customer"]["customer_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let pushed = ids.len();
    ids.dedup();
    println!(
        "{pushed} pushes for {listed} listed customers; passes r1 {} r2 {}",
        passes("r1"),
        passes("r2")
    );
    assert_eq!(ids.len(), pushed, "a customer was pushed twice");
}
