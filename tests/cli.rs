//! The command line of the contract, run as the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kulanz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");

#[test]
fn policy_validate_accepts_the_shipped_folder_and_names_file_and_path_for_each_problem() {
    assert!(kulanz(&["policy", "validate", POLICIES]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap();
    doc["roles"] = serde_json::json!(["agent", "senior", "lead"]);
    doc["segments"][3]["min_value"] = serde_json::json!("10.00");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, doc.to_string()).unwrap();
    std::fs::write(dir.path().join("broken.json"), "{ not json").unwrap();
    let out = kulanz(&["policy", "validate", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{}: $.authority.manager: unknown role `manager`",
            bad.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("$.segments[3].min_value: the last segment must start at 0"),
        "{text}"
    );
    assert!(text.contains("broken.json: $: not valid JSON"), "{text}");
}

#[test]
fn policy_test_runs_every_example_and_prints_the_tally_last() {
    let out = kulanz(&["policy", "test", POLICIES]);
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    assert_eq!(last, "9 passed, 0 failed");

    let dir = tempfile::tempdir().unwrap();
    let changed = kulanz::policy::load::DEFAULT_POLICY.replace("\"246.00\"", "\"999.00\"");
    std::fs::write(dir.path().join("p.json"), changed).unwrap();
    let out = kulanz(&["policy", "test", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("authority.limit.amount: expected \"999.00\", got \"246.00\""),
        "{text}"
    );
    assert_eq!(text.lines().last().unwrap(), "8 passed, 1 failed");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn keys_add_prints_the_secret_alone_on_the_last_line_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = kulanz(&[
        "keys",
        "add",
        "--name",
        "zendesk",
        "--scopes",
        "decide,ingest",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    let secret = text.lines().last().unwrap();
    assert!(secret.starts_with("kz_") && secret.len() == 67, "{secret}");
    let store = kulanz::store::Store::open(dir.path()).unwrap();
    let key = store.find_key(secret).unwrap().unwrap();
    assert_eq!(key.name, "zendesk");
    store.flush_blocking().unwrap();
    drop(store);
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the secret itself is stored in {}", entry.display());
    }
    let bad = kulanz(&[
        "keys",
        "add",
        "--name",
        "x",
        "--scopes",
        "root",
        "--data-dir",
        d,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope `root`"));
}

#[test]
fn import_reads_ndjson_csv_gzip_and_stdin_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let files = tempfile::tempdir().unwrap();

    let csv = files.path().join("customers.csv");
    std::fs::write(
        &csv,
        "customer_id,currency,lifetime_revenue,orders,tier,nps_score,nps_at\n\
         c-1,EUR,100.00,2,gold,9,2026-10-01\n\
         c-2,EUR,oops,1,,,\n\
         c-3,EUR,5.5,1,,,\n",
    )
    .unwrap();
    let out = kulanz(&[
        "import",
        "customers",
        csv.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(3), "some lines rejected");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["imported"], 2);
    assert_eq!(summary["errors"][0]["line"], 3);

    let gz = files.path().join("more.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    for i in 0..2500 {
        writeln!(enc, r#"{{"customer_id":"g-{i}","currency":"EUR","lifetime_revenue":{{"amount":"{i}.00","currency":"EUR"}}}}"#).unwrap();
    }
    enc.finish().unwrap();
    let out = kulanz(&["import", "customers", gz.to_str().unwrap(), "--data-dir", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args(["import", "customers", "-", "--data-dir", d])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"customer_id":"s-1","currency":"EUR","lifetime_revenue":{"amount":"1.00","currency":"EUR"}}"#)
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let store = kulanz::store::Store::open(dir.path()).unwrap();
    assert_eq!(store.customer_count(), 2 + 2500 + 1);
    let c1 = store.get_customer("c-1").unwrap().unwrap();
    assert_eq!(c1.record.nps.unwrap().score, 9);
    assert_eq!(
        store
            .get_customer("c-3")
            .unwrap()
            .unwrap()
            .record
            .lifetime_revenue
            .amount,
        "5.50"
    );
    assert!(store.get_customer("c-2").unwrap().is_none());
}

#[test]
fn commands_that_open_a_store_in_use_fail_clearly_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let _held = kulanz::store::Store::open(dir.path()).unwrap();
    let out = kulanz(&[
        "keys",
        "add",
        "--name",
        "x",
        "--scopes",
        "admin",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another kulanz process"));
    assert!(
        out.stdout.is_empty(),
        "no secret printed for a key that was not stored"
    );
}
