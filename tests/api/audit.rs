//! The audit chain and erasure.

use crate::helpers::{eur, request, spawn_app};
use kulanz::store::decision_log::{frame, FILE_NAME};
use serde_json::{json, Value};

/// Rewrite the decision log behind the service's back, as a forger would (checksums
/// recomputed): `f` sees every frame, may change its body, and keeps it by returning true.
fn rewrite_log(dir: &std::path::Path, mut f: impl FnMut(&frame::Header, &mut Vec<u8>) -> bool) {
    let path = dir.join(FILE_NAME);
    let bytes = std::fs::read(&path).unwrap();
    let (mut r, mut out, mut body) = (&bytes[..], Vec::new(), Vec::new());
    loop {
        match frame::read(&mut r, &mut body).unwrap() {
            frame::Next::End => break,
            frame::Next::Frame(h, _) => {
                let mut json = frame::json(&h, &body).unwrap().into_owned();
                if f(&h, &mut json) {
                    frame::encode(&h, &json, &mut out);
                }
            }
            frame::Next::Torn(why) => panic!("{why}"),
        }
    }
    std::fs::write(&path, out).unwrap();
}

#[tokio::test]
async fn the_chain_covers_decisions_and_outcomes_and_the_first_tampered_record_is_named() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for amount in ["100.00", "50.00", "20.00"] {
        let d = app
            .decide_ok(&request(
                "c-10442",
                "cancellation_refund",
                "unclear",
                amount,
            ))
            .await;
        ids.push(d["decision_id"].as_str().unwrap().to_string());
    }
    let outcome = json!({"granted": {"gesture": "refund", "amount": eur("50.00")}});
    let r = app
        .post_json(
            &format!("/v1/decisions/{}/outcome", ids[1]),
            &app.decide_key,
            &outcome,
        )
        .await;
    assert_eq!(r.status(), 201);
    let v: Value = app.get_json("/v1/audit/verify", &app.admin_key).await;
    assert_eq!(v["intact"], true);
    assert_eq!(v["entries"], 4);

    // Tamper with the second decision behind the service's back (every version of it).
    let dir = app.stop().await;
    let target = ulid::Ulid::from_string(&ids[1]).unwrap().0;
    rewrite_log(dir.path(), |h, body| {
        if h.id == target {
            let mut d: Value = serde_json::from_slice(body).unwrap();
            d["recommendation"]["amount"]["amount"] = json!("5000.00");
            *body = serde_json::to_vec(&d).unwrap();
        }
        true
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args([
            "audit",
            "verify",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "entry 2 (decision {}): the record was changed after it was written",
            ids[1]
        )),
        "{text}"
    );
}

#[tokio::test]
async fn erasure_pseudonymises_past_decisions_without_breaking_the_chain() {
    let app = spawn_app().await;
    let d = app
        .decide_ok(&request(
            "c-10442",
            "cancellation_refund",
            "unclear",
            "100.00",
        ))
        .await;
    let other = app
        .decide_ok(&request("c-60606", "damaged_item", "ours", "40.00"))
        .await;
    let id = d["decision_id"].as_str().unwrap();
    let r = app
        .client
        .delete(app.url("/v1/customers/c-10442"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let stored: Value = app
        .get_json(&format!("/v1/decisions/{id}"), &app.decide_key)
        .await;
    let alias = stored["request"]["customer_id"].as_str().unwrap();
    assert!(alias.starts_with("ps_") && alias != "c-10442", "{alias}");
    assert_eq!(stored["erased"], true);
    assert!(!stored.to_string().contains("c-10442"));
    let kept: Value = app
        .get_json(
            &format!("/v1/decisions/{}", other["decision_id"].as_str().unwrap()),
            &app.decide_key,
        )
        .await;
    assert_eq!(kept["request"]["customer_id"], "c-60606");
    let v: Value = app.get_json("/v1/audit/verify", &app.admin_key).await;
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["entries"], 2);
    // Nothing left to erase: 404.
    let again = app
        .client
        .delete(app.url("/v1/customers/c-10442"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn entries_cut_off_the_end_of_the_chain_are_noticed() {
    let app = spawn_app().await;
    let mut last = String::new();
    for _ in 0..3 {
        let d = app
            .decide_ok(&request(
                "c-10442",
                "cancellation_refund",
                "unclear",
                "100.00",
            ))
            .await;
        last = d["decision_id"].as_str().unwrap().to_string();
    }
    let dir = app.stop().await;
    let last = ulid::Ulid::from_string(&last).unwrap().0;
    rewrite_log(dir.path(), |h, _| h.id != last);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args([
            "audit",
            "verify",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "a broken chain is exit 3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the chain has 2 entries but its head records 3"),
        "{text}"
    );
}
