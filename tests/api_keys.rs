//! API keys are looked up in memory (store/keys.rs, `KeyCache`); these check that the map
//! always says what sled says: after a key is made, after a revoke, after reopening the
//! store and after a restore.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kulanz::store::keys::{hash_secret, new_secret, ApiKeyRecord, Scope};
use kulanz::store::{Command, Store};

fn key(name: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        name: name.to_string(),
        scopes: vec![Scope::Decide],
        created_at: "2026-12-04T00:00:00Z".to_string(),
        max_role: None,
    }
}

fn put(store: &Store, name: &str) -> String {
    let secret = new_secret();
    store
        .apply(Command::PutKey {
            hash: hash_secret(&secret),
            key: key(name),
        })
        .unwrap();
    secret
}

#[test]
fn a_key_authenticates_once_made_and_never_after_its_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.find_key(&new_secret()).unwrap(), None);
    let desk = put(&store, "desk");
    let desk_again = put(&store, "desk");
    let other = put(&store, "other");
    assert_eq!(
        store.find_key(&desk).unwrap().as_deref(),
        Some(&key("desk"))
    );
    assert_eq!(
        store.find_key(&desk_again).unwrap().as_deref(),
        Some(&key("desk"))
    );
    // A secret that is a stored hash is not a key (only its own hash is).
    assert_eq!(store.find_key(&hash_secret(&desk)).unwrap(), None);

    store
        .apply(Command::RevokeKeys {
            name: "desk".into(),
        })
        .unwrap();
    assert_eq!(store.find_key(&desk).unwrap(), None);
    assert_eq!(store.find_key(&desk_again).unwrap(), None);
    assert_eq!(
        store.find_key(&other).unwrap().as_deref(),
        Some(&key("other"))
    );
    assert_eq!(store.list_keys().unwrap(), vec![key("other")]);
}

#[test]
fn keys_are_found_after_reopening_and_after_a_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let secret = put(&store, "desk");
    store.flush_blocking().unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.find_key(&secret).unwrap().as_deref(),
        Some(&key("desk"))
    );
    let mut backup = Vec::new();
    store.backup(&mut backup).unwrap();

    let empty = tempfile::tempdir().unwrap();
    let restored = Store::open(empty.path()).unwrap();
    assert_eq!(restored.find_key(&secret).unwrap(), None);
    restored.restore(&backup[..]).unwrap();
    assert_eq!(
        restored.find_key(&secret).unwrap().as_deref(),
        Some(&key("desk"))
    );
}

/// Revokes racing key creation: whatever order they apply in, the map ends as sled does.
#[test]
fn concurrent_changes_leave_the_map_as_sled_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let secrets: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                s.spawn(move || {
                    let mut made = Vec::new();
                    for i in 0..26 {
                        made.push(put(&store, &format!("k{t}-{i}")));
                        if i % 2 == 1 {
                            store
                                .apply(Command::RevokeKeys {
                                    name: format!("k{t}-{}", i - 1),
                                })
                                .unwrap();
                        }
                    }
                    made
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (t, made) in secrets.iter().enumerate() {
        for (i, secret) in made.iter().enumerate() {
            let found = store.find_key(secret).unwrap();
            if i % 2 == 0 {
                assert_eq!(found, None, "k{t}-{i} was revoked");
            } else {
                assert_eq!(found.as_deref(), Some(&key(&format!("k{t}-{i}"))));
            }
        }
    }
    assert_eq!(store.list_keys().unwrap().len(), 52);
}

#[test]
fn every_demo_start_replaces_the_demo_key_instead_of_adding_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = chrono::Utc::now();
    let first = kulanz::demo::seed(&store, now).unwrap().secret;
    let second = kulanz::demo::seed(&store, now).unwrap().secret;
    assert_ne!(first, second);
    let demo_keys = store
        .list_keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.name == kulanz::demo::DEMO_KEY)
        .count();
    assert_eq!(demo_keys, 1);
    assert!(
        store.find_key(&first).unwrap().is_none(),
        "the old demo key still works"
    );
    assert!(store.find_key(&second).unwrap().is_some());
}
