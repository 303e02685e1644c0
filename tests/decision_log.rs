//! The decision log on disk (store/decision_log): what survives reopening, what a crash
//! can leave behind and how opening repairs it, erasure removing the original bytes, and
//! a restore writing the log back from a backup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use kulanz::domain::request::DecisionRequestDto;
use kulanz::service::decisions::{decide, record_outcome};
use kulanz::service::AppState;
use kulanz::store::decision_log::{frame, FILE_NAME};
use kulanz::store::decisions::StoredDecision;
use kulanz::store::Store;
use serde_json::json;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

fn request(ticket: &str, customer: &str, amount: &str) -> DecisionRequestDto {
    serde_json::from_value(json!({
        "ticket_id": ticket,
        "customer_id": customer,
        "agent": {"id": "a-1", "role": "agent"},
        "complaint": {
            "category": "damaged_item", "severity": "high", "channel": "phone",
            "fault": "ours", "amount_at_stake": {"amount": amount, "currency": "EUR"}
        }
    }))
    .unwrap()
}

fn state(dir: &Path) -> AppState {
    let store = Store::open(dir).unwrap();
    let policy = kulanz::policy::load::from_file(Path::new("policies/goodwill.json")).unwrap();
    AppState::new(store, Some(Arc::new(policy)))
}

/// Decisions for three customers (two each, the second on the first's ticket for c-10442),
/// an outcome on the first, and c-30303 erased. Returns the decision ids in order.
async fn history(dir: &Path) -> Vec<String> {
    let s = state(dir);
    kulanz::demo::seed(&s.store, Utc::now()).unwrap();
    let mut ids = Vec::new();
    for (i, c) in ["c-10442", "c-30303", "c-60606"].iter().enumerate() {
        for j in 0..2 {
            let ticket = if i == 0 {
                "T-0".to_string()
            } else {
                format!("T-{i}-{j}")
            };
            let d = decide(
                &s,
                request(&ticket, c, &format!("{}.00", 20 + 10 * j)),
                None,
                Utc::now(),
            )
            .await
            .unwrap();
            ids.push(d.decision_id);
        }
    }
    let outcome = serde_json::from_value(json!({
        "granted": {"gesture": "voucher", "amount": {"amount": "5.00", "currency": "EUR"}}
    }))
    .unwrap();
    record_outcome(&s, &ids[0], outcome, "test", Utc::now())
        .await
        .unwrap();
    kulanz::service::customers::erase(&s, "c-30303")
        .await
        .unwrap();
    ids
}

fn all(store: &Store, ids: &[String]) -> Vec<StoredDecision> {
    ids.iter()
        .map(|id| store.get_decision(id).unwrap().unwrap())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Whether any record in the log file (bodies are compressed) mentions `needle`; a body
/// that is neither intact nor zeroed counts as mentioning it.
fn log_mentions(dir: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
    let (mut r, mut body) = (&bytes[..], Vec::new());
    loop {
        match frame::read(&mut r, &mut body).unwrap() {
            frame::Next::End => return false,
            frame::Next::Frame(_, frame::Body::Zeroed) => {}
            frame::Next::Frame(h, frame::Body::Intact) => {
                if contains(&frame::json(&h, &body).unwrap(), needle) {
                    return true;
                }
            }
            frame::Next::Frame(_, frame::Body::Damaged) => return true,
            frame::Next::Torn(why) => panic!("{why}"),
        }
    }
}

/// Every frame of the log file: (offset of the frame, header, body offset).
fn frames(dir: &Path) -> Vec<(usize, frame::Header, usize)> {
    let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
    let (mut r, mut body, mut out) = (&bytes[..], Vec::new(), Vec::new());
    loop {
        let at = bytes.len() - r.len();
        match frame::read(&mut r, &mut body).unwrap() {
            frame::Next::End => return out,
            frame::Next::Frame(h, _) => {
                let body_at = bytes.len() - r.len() - body.len();
                out.push((at, h, body_at));
            }
            frame::Next::Torn(why) => panic!("{why}"),
        }
    }
}

#[tokio::test]
async fn decisions_outcomes_and_erasure_are_all_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let ids = history(dir.path()).await;
    let before = {
        let s = state(dir.path());
        all(&s.store, &ids)
    };
    let s = state(dir.path());
    assert_eq!(all(&s.store, &ids), before);
    assert_eq!(s.store.decision_count(), 6);
    assert!(before[0].outcome.is_some());
    assert!(before[2].erased && before[3].erased && !before[4].erased);
    assert_eq!(
        s.store.ticket_decision("T-0").unwrap().as_deref(),
        Some(ids[1].as_str())
    );
    assert_eq!(
        s.store.latest_decision_id("c-60606").unwrap().as_deref(),
        Some(ids[5].as_str())
    );
    assert_eq!(
        s.store.latest_decision_id("c-30303").unwrap(),
        None,
        "erased"
    );
    assert_eq!(s.store.ledger_entries("c-10442").unwrap().len(), 1);
    let v = s.store.verify_audit().unwrap();
    assert!(v.intact, "{v:?}");
    assert_eq!(v.entries, 7, "six decisions and one outcome");
    // The erased customer's id is gone from the file, not only from the answers.
    assert!(!log_mentions(dir.path(), "c-30303"));
    assert!(log_mentions(dir.path(), "c-60606"));
}

#[tokio::test]
async fn a_torn_tail_is_cut_off_and_appends_go_on_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let ids = history(dir.path()).await;
    let path = dir.path().join(FILE_NAME);
    let whole = std::fs::read(&path).unwrap();
    let (last_at, h, body_at) = frames(dir.path()).pop().unwrap();
    let end = body_at + h.body_len as usize;
    assert!(whole.len() > end, "the writer allocates zeros ahead");
    let last = whole[last_at..end].to_vec();
    // A header cut short, then a whole header with half its record, written into the
    // zeros ahead as an append writes: both torn tails.
    for cut in [30, last.len() - 40] {
        let mut torn = whole.clone();
        torn[end..end + cut].copy_from_slice(&last[..cut]);
        std::fs::write(&path, &torn).unwrap();
        let s = state(dir.path());
        assert_eq!(s.store.decision_count(), 6, "cut at {cut}");
        assert!(s.store.verify_audit().unwrap().intact);
        drop(s);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            whole[..end],
            "the tail is cut off the file"
        );
    }
    let s = state(dir.path());
    let d = decide(&s, request("T-9", "c-60606", "40.00"), None, Utc::now())
        .await
        .unwrap();
    drop(s);
    let s = state(dir.path());
    assert!(s.store.get_decision(&d.decision_id).unwrap().is_some());
    assert_eq!(all(&s.store, &ids).len(), 6);
    let v = s.store.verify_audit().unwrap();
    assert!(v.intact && v.entries == 8, "{v:?}");
}

#[tokio::test]
async fn a_clean_log_opens_with_its_zeros_ahead_kept() {
    let dir = tempfile::tempdir().unwrap();
    history(dir.path()).await;
    let path = dir.path().join(FILE_NAME);
    let before = std::fs::read(&path).unwrap();
    let s = state(dir.path());
    assert_eq!(s.store.decision_count(), 6);
    drop(s);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn an_append_never_synced_is_cut_off_even_with_whole_records_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let ids = history(dir.path()).await;
    let before = all(&state(dir.path()).store, &ids);
    // The store as it was before the three new decisions: their audit head is recorded in
    // sled only after their sync, which this crash came before.
    let crashed = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), crashed.path());
    let s = state(dir.path());
    for i in 0..3 {
        decide(
            &s,
            request(&format!("T-9-{i}"), "c-60606", "40.00"),
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    }
    drop(s);
    // The crash came before the sync: a sector of the first new record's body still holds
    // the zeros the space was allocated with, while the two after it reached the disk.
    let mut bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
    let new = frames(dir.path()).split_off(9);
    let (first_at, h, body_at) = &new[0];
    let sector = body_at.next_multiple_of(512);
    assert!(
        sector + 512 <= body_at + h.body_len as usize,
        "a record of a few KB"
    );
    bytes[sector..sector + 512].fill(0);
    let path = crashed.path().join(FILE_NAME);
    std::fs::write(&path, &bytes).unwrap();
    let s = state(crashed.path());
    assert_eq!(s.store.decision_count(), 6, "the three new ones are gone");
    assert_eq!(all(&s.store, &ids), before);
    let v = s.store.verify_audit().unwrap();
    assert!(v.intact && v.entries == 7, "{v:?}");
    drop(s);
    assert_eq!(std::fs::read(&path).unwrap().len(), *first_at);
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn damage_with_whole_records_after_it_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    history(dir.path()).await;
    let path = dir.path().join(FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let (_, _, body_at) = frames(dir.path())[5];
    bytes[body_at + 10] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let Err(e) = Store::open(dir.path()) else {
        panic!("a damaged log opened")
    };
    assert!(e.to_string().contains("the decision log is damaged"), "{e}");
}

#[tokio::test]
async fn an_erasure_a_crash_cut_short_is_finished_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    kulanz::demo::seed(&s.store, Utc::now()).unwrap();
    let d = decide(&s, request("T-1", "c-30303", "30.00"), None, Utc::now())
        .await
        .unwrap();
    let original = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
    kulanz::service::customers::erase(&s, "c-30303")
        .await
        .unwrap();
    drop(s);
    // The crash came while the original was being zeroed: all but its last byte is back.
    let path = dir.path().join(FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let (_, h, body_at) = frames(dir.path()).remove(0);
    let torn = body_at + h.body_len as usize - 1;
    bytes[body_at..torn].copy_from_slice(&original[body_at..torn]);
    std::fs::write(&path, &bytes).unwrap();
    assert!(log_mentions(dir.path(), "c-30303"));
    let s = state(dir.path());
    let stored = s.store.get_decision(&d.decision_id).unwrap().unwrap();
    assert!(stored.erased);
    assert!(s.store.verify_audit().unwrap().intact);
    assert!(!log_mentions(dir.path(), "c-30303"));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes[body_at..body_at + h.body_len as usize]
        .iter()
        .all(|b| *b == 0));
}

#[tokio::test]
async fn a_restore_writes_the_log_back_hashes_indexes_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let ids = history(dir.path()).await;
    let (before, mut backup) = {
        let s = state(dir.path());
        let mut backup = Vec::new();
        s.store.backup(&mut backup).unwrap();
        (all(&s.store, &ids), backup)
    };
    let restored = tempfile::tempdir().unwrap();
    Store::open(restored.path())
        .unwrap()
        .restore(&backup[..])
        .unwrap();
    for _ in 0..2 {
        let s = state(restored.path());
        assert_eq!(all(&s.store, &ids), before);
        assert_eq!(s.store.decision_count(), 6);
        let v = s.store.verify_audit().unwrap();
        assert!(v.intact && v.entries == 7, "{v:?}");
        assert_eq!(
            s.store.ticket_decision("T-0").unwrap().as_deref(),
            Some(ids[1].as_str())
        );
        assert_eq!(
            s.store.latest_decision_id("c-10442").unwrap().as_deref(),
            Some(ids[1].as_str())
        );
        assert_eq!(s.store.ledger_entries("c-10442").unwrap().len(), 1);
    }
    // The staged entries are gone: a backup of the restored store holds each decision once.
    backup.clear();
    state(restored.path()).store.backup(&mut backup).unwrap();
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(&backup[..])).lines();
    let decisions = lines
        .map(|l| l.unwrap())
        .filter(|l| l.contains("\"tree\":\"decisions\""))
        .count();
    assert_eq!(decisions, 6);
}

#[tokio::test]
async fn a_decision_after_an_erasure_is_found_and_erased_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    history(dir.path()).await;
    let s = state(dir.path());
    let d = decide(&s, request("T-7", "c-30303", "15.00"), None, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        s.store.latest_decision_id("c-30303").unwrap().as_deref(),
        Some(d.decision_id.as_str())
    );
    assert!(log_mentions(dir.path(), "c-30303"));
    kulanz::service::customers::erase(&s, "c-30303")
        .await
        .unwrap();
    assert!(
        s.store
            .get_decision(&d.decision_id)
            .unwrap()
            .unwrap()
            .erased
    );
    assert!(!log_mentions(dir.path(), "c-30303"));
    assert!(s.store.verify_audit().unwrap().intact);
}

/// The stored record is built around the answer's bytes (`stored_json`) rather than by
/// serialising the decision again: it must be exactly the record's own JSON, and the
/// answer exactly the decision's, for known and unknown customers in every category,
/// with strings that need escaping.
#[tokio::test]
async fn the_record_built_around_the_answer_is_the_records_json() {
    use kulanz::service::decisions::decide_answer;
    use kulanz::store::decisions::stored_json;
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    kulanz::demo::seed(&s.store, Utc::now()).unwrap();
    let customers = ["c-10442", "c-30303", "c-50505", "c-60606", "c-unknown"];
    let categories = ["cancellation_refund", "damaged_item", "late_delivery"];
    let mut checked = 0;
    for (i, c) in customers.iter().enumerate() {
        for cat in categories {
            let mut r = serde_json::to_value(request(&format!("T-\"{i}\"é"), c, "35.50")).unwrap();
            r["complaint"]["category"] = json!(cat);
            r["complaint"]["description"] = json!("said \"never again\" \u{2013} twice");
            let (d, answer) =
                decide_answer(&s, serde_json::from_value(r).unwrap(), None, Utc::now())
                    .await
                    .unwrap();
            assert_eq!(answer, serde_json::to_vec(&d).unwrap());
            let stored = s.store.get_decision(&d.decision_id).unwrap().unwrap();
            assert_eq!(stored.customer_snapshot.is_none(), *c == "c-unknown");
            assert_eq!(
                String::from_utf8(stored_json(&stored, &answer).unwrap()).unwrap(),
                String::from_utf8(serde_json::to_vec(&stored).unwrap()).unwrap(),
                "{c} {cat}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 15);
}

/// Decisions on one ticket within one millisecond: the ticket's latest is the one stored
/// last. Their ids are random below the millisecond, so if the latest were the greatest
/// id this would pick the earlier one half of the time: 20 tickets all right would happen
/// by chance once in a million.
#[tokio::test]
async fn the_later_of_two_decisions_in_one_millisecond_is_the_tickets_latest() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path());
    let now = Utc::now() + chrono::Duration::days(365);
    for t in 0..20 {
        let ticket = format!("SAME-MS-{t}");
        let first = decide(&s, request(&ticket, "c-1", "20.00"), None, now)
            .await
            .unwrap();
        let second = decide(&s, request(&ticket, "c-1", "30.00"), None, now)
            .await
            .unwrap();
        assert_eq!(first.created_at, second.created_at, "one millisecond");
        assert_eq!(
            s.store.ticket_decision(&ticket).unwrap().as_deref(),
            Some(second.decision_id.as_str()),
            "ticket {ticket}"
        );
    }
}
