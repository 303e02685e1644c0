//! A data directory the service cannot trust: held by another process, or damaged. The
//! real binary must refuse to start (exit 1, the directory and the cause on stderr), never
//! serve a silently empty store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kulanz::store::keys::Scope;
use kulanz::store::Store;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");

/// Run `kulanz serve` on `dir`; it must exit by itself. Returns (exit code, stderr).
fn serve_refuses(dir: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kulanz"))
        .args(["serve", "--listen", "127.0.0.1:0", "--policy-dir", POLICIES])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A guard against a server that started anyway (it would run forever).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("kulanz serve started on {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A store with one key, flushed and closed.
fn used_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    kulanz::cli::create_key(&store, "k", vec![Scope::Admin]).unwrap();
    store.flush_blocking().unwrap();
    dir
}

/// sled opened directly. A store just dropped can hold the directory's lock a moment
/// longer (sled's flusher thread), as `Store::open` knows; wait for it the same way.
fn open_raw(path: &Path) -> sled::Db {
    for _ in 0..40 {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    sled::open(path).unwrap()
}

fn garble(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len().max(64) as usize;
    let junk: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
    std::fs::write(path, junk).unwrap();
}

#[test]
fn serve_refuses_a_data_dir_another_process_holds_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    let (code, stderr) = serve_refuses(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: cannot open the store in `{}`: the data directory is in use by another kulanz process",
        dir.path().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn serve_refuses_a_store_whose_log_was_overwritten_instead_of_starting_empty() {
    let dir = used_store();
    garble(&dir.path().join("db"));
    let (code, stderr) = serve_refuses(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "error: cannot open the store in `{}`: the data directory is damaged",
        dir.path().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        Store::open(dir.path()).is_err(),
        "the library refuses it too"
    );
}

#[test]
fn a_lost_sled_log_is_refused_even_with_decisions_in_the_decision_log() {
    use kulanz::store::decision_log::{frame, FILE_NAME};
    let dir = used_store();
    let header = frame::Header {
        kind: frame::Kind::Decision,
        erased: false,
        lz4: false,
        body_len: 0,
        body_crc: 0,
        seq: 1,
        id: 1,
        hash: [0; 32],
        customer: "ps_0".into(),
        ticket: "T-1".into(),
    };
    let mut log = Vec::new();
    frame::encode(&header, b"{}", &mut log);
    std::fs::write(dir.path().join(FILE_NAME), log).unwrap();
    garble(&dir.path().join("db"));
    let Err(e) = Store::open(dir.path()) else {
        panic!("a store whose sled records are gone opened")
    };
    assert!(
        e.to_string().contains("the data directory is damaged"),
        "{e}"
    );
}

#[test]
fn serve_refuses_a_store_whose_config_file_was_overwritten() {
    let dir = used_store();
    garble(&dir.path().join("conf"));
    let (code, stderr) = serve_refuses(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the data directory is damaged"), "{stderr}");
    assert!(
        stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
}

#[test]
fn a_new_directory_and_a_store_from_before_the_marker_both_open() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("new");
    drop(Store::open(&fresh).unwrap());
    drop(Store::open(&fresh).unwrap());

    // A store written before the marker existed: records, no marker.
    let old = used_store();
    {
        let db = open_raw(old.path());
        db.open_tree("meta")
            .unwrap()
            .remove("store_created")
            .unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(old.path()).unwrap();
    assert!(store.is_readable());
}
