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
    assert_eq!(last, "12 passed, 0 failed");

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
    assert_eq!(text.lines().last().unwrap(), "11 passed, 1 failed");
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

#[test]
fn policy_check_reports_reach_per_role_and_a_clean_monotonicity_run() {
    let out = kulanz(&["policy", "check", POLICIES]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("agent      grants alone up to 250.00 EUR"),
        "{text}"
    );
    assert!(
        text.contains("monotonicity: no counterexample in 3000 sampled cases"),
        "{text}"
    );
}

#[test]
fn policy_check_reports_a_text_missing_in_a_declared_locale() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap();
    let de = &mut doc["texts"]["de"];
    de["rules"]["staff-conduct"]
        .as_object_mut()
        .unwrap()
        .remove("reason");
    de["gestures"].as_object_mut().unwrap().remove("voucher");
    let p = dir.path().join("p.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let out = kulanz(&["policy", "check", p.to_str().unwrap()]);
    // A missing text is a warning: the default locale's text stands in.
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains(
            "$.texts.de.rules.staff-conduct.reason: missing in `de`; the `en` text is used"
        ),
        "{text}"
    );
    assert!(
        text.contains("$.texts.de.gestures.voucher: missing in `de`"),
        "{text}"
    );
    // The shipped policy has every text in both languages.
    let text = stdout(&kulanz(&["policy", "check", POLICIES]));
    assert!(!text.contains("missing in"), "{text}");
}

#[test]
fn policy_diff_says_what_changed_rule_by_rule() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap();
    doc["version"] = serde_json::json!("2026.12.0");
    doc["rules"][1]["then"]["amount"]["of_claim"] = serde_json::json!("0.8");
    let b = dir.path().join("b.json");
    std::fs::write(&b, doc.to_string()).unwrap();
    let a = format!("{POLICIES}/goodwill.json");
    let out = kulanz(&["policy", "diff", &a, b.to_str().unwrap()]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("rule `cancellation-high-value`: then.amount.of_claim: 1 → 0.8"),
        "{text}"
    );
    assert!(text.contains("version: 2026.11.0 → 2026.12.0"), "{text}");
    assert_eq!(text.lines().last().unwrap(), "2 change(s)");
}

#[tokio::test]
async fn policy_backtest_replays_the_stored_log_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    {
        let store = kulanz::store::Store::open(data.path()).unwrap();
        let (active, _) =
            kulanz::service::policies::bootstrap(&store, std::path::Path::new(POLICIES)).unwrap();
        let state =
            kulanz::service::AppState::new(store, active.into_iter().map(std::sync::Arc::new));
        let customers = kulanz::demo::scenario_customers().unwrap();
        kulanz::service::customers::put(
            &state,
            "c-10442",
            customers["c-10442"].clone(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        for customer in ["c-10442", "c-new"] {
            let req = serde_json::from_value(serde_json::json!({
                "ticket_id": "T", "customer_id": customer, "agent": {"id": "a", "role": "agent"},
                "complaint": {"category": "cancellation_refund", "severity": "medium", "channel": "email",
                              "fault": "unclear", "amount_at_stake": {"amount": "100.00", "currency": "EUR"}}
            }))
            .unwrap();
            kulanz::service::decisions::decide(&state, req, None, chrono::Utc::now())
                .await
                .unwrap();
        }
        state.store.flush_blocking().unwrap();
    }
    let files = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(kulanz::policy::load::DEFAULT_POLICY).unwrap();
    doc["version"] = serde_json::json!("2026.12.0");
    doc["rules"][1]["then"]["amount"]["of_claim"] = serde_json::json!("0.8");
    let candidate = files.path().join("candidate.json");
    std::fs::write(&candidate, doc.to_string()).unwrap();
    let out = kulanz(&[
        "policy",
        "backtest",
        candidate.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("over 2 stored decisions (2 evaluated, 0 not evaluable)"),
        "{text}"
    );
    assert!(text.contains("changed: 1 decisions"), "{text}");
    assert!(
        text.contains("goodwill recommended: 150.00 -> 130.00 EUR (change -20.00)"),
        "{text}"
    );
}

#[test]
fn report_prints_the_goodwill_report_as_json_and_refuses_a_bad_day() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = kulanz(&["report", "--from", "2026-01-01", "--data-dir", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["decisions"], 0);
    assert_eq!(report["recommended"]["amount"], "0.00");
    let bad = kulanz(&["report", "--from", "last week", "--data-dir", d]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
}

#[test]
fn bench_engine_runs_a_fixed_number_of_decisions_and_refuses_a_second_budget() {
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/scenarios.ndjson");
    let bench = |budget: &[&str]| {
        let mut args = vec!["bench", "engine", "--scenarios", scenarios];
        args.extend_from_slice(budget);
        kulanz(&args)
    };
    let out = bench(&["--decisions", "128"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("1000 scenarios"), "{text}");
    assert!(text.contains("decisions/s (wall clock): "), "{text}");
    let both = bench(&["--decisions", "128", "--seconds", "1"]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}

#[test]
fn serve_refuses_to_start_on_a_zendesk_app_setup_it_cannot_verify_with() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let roles = dir.path().join("roles.json");
    std::fs::write(&roles, r#"{"default": "agent"}"#).unwrap();
    let serve = |key: &str, extra: &[&str]| {
        let data = dir.path().join("data");
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--policy-dir",
            POLICIES,
            "--zendesk-app-public-key",
            key,
        ];
        args.extend_from_slice(extra);
        let out = kulanz(&args);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let public = format!("{fixtures}/zaf_test_public_key.pem");
    let private = format!("{fixtures}/zaf_test_private_key.pem");
    let roles = roles.to_str().unwrap();
    // The key needs the account and the roles file beside it.
    let err = serve(&public, &["--zendesk-roles", roles]);
    assert!(err.contains("--zendesk-subdomain"), "{err}");
    let err = serve(
        &private,
        &["--zendesk-subdomain", "acme", "--zendesk-roles", roles],
    );
    assert!(err.contains("holds a private key"), "{err}");
    let err = serve(
        &public,
        &[
            "--zendesk-subdomain",
            "Acme.zendesk.com",
            "--zendesk-roles",
            roles,
        ],
    );
    assert!(err.contains("`Acme.zendesk.com`"), "{err}");
    let err = serve(
        &public,
        &["--zendesk-subdomain", "acme", "--zendesk-roles", POLICIES],
    );
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn store_compact_leaves_only_live_entries_in_the_files_and_refuses_a_store_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.ndjson");
    std::fs::write(
        &file,
        "{\"customer_id\":\"c-gone\",\"currency\":\"EUR\",\"lifetime_revenue\":{\"amount\":\"4711.08\",\"currency\":\"EUR\"}}\n\
         {\"customer_id\":\"c-kept\",\"currency\":\"EUR\",\"lifetime_revenue\":{\"amount\":\"815.00\",\"currency\":\"EUR\"}}\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let out = kulanz(&[
        "import",
        "customers",
        file.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(out.status.success());
    {
        let store = kulanz::store::Store::open(&data).unwrap();
        let erase = kulanz::store::Command::DeleteCustomer {
            customer_id: "c-gone".into(),
        };
        store.apply(erase).unwrap();
        store.flush_blocking().unwrap();
        assert_eq!(store.erasures_pending().unwrap(), 1);
        let out = kulanz(&["store", "compact", "--data-dir", data_arg]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("in use by another kulanz process"), "{err}");
    }
    let db = std::fs::read(data.join("db")).unwrap();
    assert!(
        db.windows(7).any(|w| w == b"4711.08"),
        "sled keeps it until compacted"
    );

    let out = kulanz(&["store", "compact", "--data-dir", data_arg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("erasures made final: 1"), "{err}");
    for f in walk(&data) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(7).any(|w| w == b"4711.08"),
            "{}",
            f.display()
        );
    }
    let store = kulanz::store::Store::open(&data).unwrap();
    assert!(store.get_customer("c-gone").unwrap().is_none());
    let kept = store.get_customer("c-kept").unwrap().unwrap();
    assert_eq!(kept.record.lifetime_revenue.amount, "815.00");
    assert_eq!(store.erasures_pending().unwrap(), 0);
}
