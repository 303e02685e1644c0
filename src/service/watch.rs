//! Hot reload of the policy folder (`serve --watch-policies`): poll the folder, and when a
//! file changes run the same checks as any upload. Valid new versions are stored; the
//! newest version that appeared for the first time is activated if it is newer than the
//! active one (the same rule as at start-up). A bad file is refused and logged, and the
//! running version stays.
//!
//! Polling (not inotify) keeps this portable and makes a burst of editor writes one reload.

use super::AppState;
use crate::policy::{load, CompiledPolicy};
use crate::store::Command;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use utoipa::ToSchema;

/// What the watcher has done, for `GET /v1/policies/watch`: an operator sees whether the
/// folder is watched and why a file was refused, and a test can wait for a pass to have
/// happened rather than for time to have passed. A std mutex: held to copy a few fields,
/// never across an `.await`.
#[derive(Debug, Default)]
pub struct WatchStatus {
    inner: Mutex<WatchView>,
}

/// The watcher's state as reported.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct WatchView {
    /// Whether this server watches its policy folder (`serve --watch-policies`).
    pub watching: bool,
    /// How many times the folder was looked at.
    pub passes: u64,
    /// How many of those passes found a change and checked the folder.
    pub reloads: u64,
    /// What the last reload refused (file and problem), if anything.
    pub last_refused: Vec<String>,
    /// The version the last reload activated (`id version`), if it activated one.
    pub last_activated: Option<String>,
    /// RFC 3339 time of the last reload.
    pub last_reload_at: Option<String>,
}

impl WatchStatus {
    fn update(&self, f: impl FnOnce(&mut WatchView)) {
        let mut v = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut v);
    }

    pub fn view(&self) -> WatchView {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

fn fingerprint(dir: &Path) -> Fingerprint {
    load::policy_files(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (p, modified, len)
        })
        .collect()
}

/// What one reload did, for logs and tests.
#[derive(Debug, Default)]
pub struct Reload {
    pub refused: Vec<String>,
    pub activated: Option<String>,
}

/// Check the files that changed; store new versions; activate the newest version that
/// appeared for the first time, if it is newer than the active one. Re-saving or touching
/// a file already stored changes nothing, so a rollback made through the API holds.
pub async fn reload(state: &AppState, dir: &Path) -> Reload {
    let store = state.store.clone();
    let dir = dir.to_path_buf();
    // Reading and checking files is CPU work: keep it off the async workers.
    let checked = tokio::task::spawn_blocking(move || check_folder(&store, &dir))
        .await
        .unwrap_or_default();
    let mut out = Reload {
        refused: checked.refused,
        activated: None,
    };
    // Per market: a new `ch` version never replaces `de`'s active one.
    let mut newest: std::collections::BTreeMap<String, CompiledPolicy> = Default::default();
    for (file, p) in checked.new_versions {
        let cmd = Command::PutPolicy {
            policy: Box::new(super::policies::stored(&p, "policy-dir")),
        };
        match state.store.apply_durable(cmd).await {
            Ok(crate::store::command::Applied::Created) => {}
            Ok(_) => continue,
            Err(e) => {
                out.refused.push(format!("{}: {e}", file.display()));
                continue;
            }
        }
        let market = p.market.as_str().to_string();
        if newest
            .get(&market)
            .is_none_or(|n| load::compare_versions(&p.version, &n.version).is_gt())
        {
            newest.insert(market, p);
        }
    }
    let mut activated = Vec::new();
    for (market, p) in newest {
        let newer = state
            .policies
            .active(&market)
            .is_none_or(|a| load::compare_versions(&p.version, &a.version).is_gt());
        if newer {
            match super::policies::activate(state, &p.version).await {
                Ok(p) => activated.push(format!("{} {}", p.id, p.version)),
                Err(e) => out.refused.push(format!("activating {}: {e}", p.version)),
            }
        }
    }
    if !activated.is_empty() {
        out.activated = Some(activated.join(", "));
    }
    out
}

#[derive(Default)]
struct Checked {
    refused: Vec<String>,
    new_versions: Vec<(PathBuf, CompiledPolicy)>,
}

/// Every file not already stored with the same content, run through every check.
fn check_folder(store: &crate::store::Store, dir: &Path) -> Checked {
    let mut out = Checked::default();
    for file in load::policy_files(dir).unwrap_or_default() {
        let value = match load::read_file(&file) {
            Ok(v) => v,
            Err(e) => {
                refuse(&mut out, &file, e);
                continue;
            }
        };
        let version = value.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let digest = load::digest(&value);
        if let Ok(Some(stored)) = store.get_policy(version) {
            if stored.digest == digest {
                continue;
            }
        }
        match load::from_value(value) {
            Ok(p) => out.new_versions.push((file, p)),
            Err(e) => refuse(&mut out, &file, e),
        }
    }
    out
}

fn refuse(out: &mut Checked, file: &Path, e: crate::policy::PolicyError) {
    for problem in e.problems() {
        out.refused.push(format!("{}: {problem}", file.display()));
    }
}

/// Poll `dir` every `interval` until the process ends.
pub async fn watch(state: AppState, dir: PathBuf, interval: Duration) {
    let mut seen = fingerprint(&dir);
    state.watch.update(|v| v.watching = true);
    loop {
        tokio::time::sleep(interval).await;
        let now = fingerprint(&dir);
        if now == seen {
            state.watch.update(|v| v.passes += 1);
            continue;
        }
        seen = now;
        let r = reload(&state, &dir).await;
        state.watch.update(|v| {
            v.passes += 1;
            v.reloads += 1;
            v.last_refused = r.refused.clone();
            v.last_activated = r.activated.clone();
            v.last_reload_at =
                Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        });
        for line in &r.refused {
            tracing::warn!(problem = %line, "policy file refused; the running version stays");
        }
        if let Some(v) = &r.activated {
            tracing::info!(policy = %v, "policy folder changed: activated");
        }
    }
}
