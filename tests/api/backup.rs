//! Backup while serving, restore into a new directory, serve again: everything is there.

use crate::helpers::{eur, request, spawn_app, start};
use serde_json::{json, Value};

#[tokio::test]
async fn an_online_backup_restores_into_a_new_directory_with_everything_intact() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let id = d["decision_id"].as_str().unwrap().to_string();
    let outcome = json!({"granted": {"gesture": "refund", "amount": eur("100.00")}});
    let r = app
        .post_json(
            &format!("/v1/decisions/{id}/outcome"),
            &app.decide_key,
            &outcome,
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app.get("/v1/backup", &app.admin_key).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let bytes = r.bytes().await.unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("snapshot.ndjson.gz");
    std::fs::write(&file, &bytes).unwrap();

    let restored = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args([
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Restoring over a store that has data is refused.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args([
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            restored.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());

    let app2 = start(restored).await;
    let stored: Value = app2
        .get_json(&format!("/v1/decisions/{id}"), &app2.decide_key)
        .await;
    assert_eq!(stored["recommendation"], d["recommendation"]);
    assert_eq!(stored["outcome"]["granted"]["amount"], eur("100.00"));
    let c: Value = app2
        .get_json("/v1/customers/c-10442", &app2.ingest_key)
        .await;
    assert_eq!(c["lifetime_revenue"], eur("10400.00"));
    let v: Value = app2.get_json("/v1/audit/verify", &app2.admin_key).await;
    assert_eq!(v["intact"], true);
    assert_eq!(v["entries"], 2);
    // The old server's keys were restored too.
    let old_key = app2.get("/v1/policies", &app.admin_key).await;
    assert_eq!(old_key.status(), 200);
}

#[test]
fn restore_refuses_a_directory_that_holds_anything_and_a_file_that_is_not_a_backup() {
    let files = tempfile::tempdir().unwrap();
    let not_backup = files.path().join("x.gz");
    std::fs::write(&not_backup, "hello").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kulanz"))
            .args([
                "restore",
                file.to_str().unwrap(),
                "--data-dir",
                dir.path().to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run(&not_backup);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a gzip file"));
    let store = kulanz::store::Store::open(dir.path()).unwrap();
    kulanz::cli::create_key(&store, "old", vec![kulanz::store::keys::Scope::Admin]).unwrap();
    let backup = files.path().join("b.gz");
    store
        .backup(std::fs::File::create(&backup).unwrap())
        .unwrap();
    drop(store);
    let out = run(&backup);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tree `keys` has data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
