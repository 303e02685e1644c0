//! Hot reload of the policy folder (`serve --watch-policies`): poll the folder, and when a
//! file changes run the same checks as any upload. Valid new versions are stored; the
//! newest valid version in the folder is activated if it is newer than the active one. A
//! bad file is refused and logged, and the running version stays.
//!
//! Polling (not inotify) keeps this portable and makes a burst of editor writes one reload.

use super::AppState;
use crate::policy::{load, CompiledPolicy};
use crate::store::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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

/// Check every file of the folder once and activate the newest valid version if newer.
pub async fn reload(state: &AppState, dir: &Path) -> Reload {
    let mut out = Reload::default();
    let mut newest: Option<CompiledPolicy> = None;
    for file in load::policy_files(dir).unwrap_or_default() {
        let p = match load::from_file(&file) {
            Ok(p) => p,
            Err(e) => {
                for problem in e.problems() {
                    out.refused.push(format!("{}: {problem}", file.display()));
                }
                continue;
            }
        };
        let cmd = Command::PutPolicy {
            policy: Box::new(super::policies::stored(&p, "policy-dir")),
        };
        if let Err(e) = state.store.apply_durable(&cmd).await {
            out.refused.push(format!("{}: {e}", file.display()));
            continue;
        }
        if newest
            .as_ref()
            .is_none_or(|n| load::compare_versions(&p.version, &n.version).is_gt())
        {
            newest = Some(p);
        }
    }
    let active = state.policy.load_full();
    if let Some(p) = newest {
        let newer = active
            .as_ref()
            .is_none_or(|a| load::compare_versions(&p.version, &a.version).is_gt());
        if newer {
            match super::policies::activate(state, &p.version).await {
                Ok(p) => out.activated = Some(format!("{} {}", p.id, p.version)),
                Err(e) => out.refused.push(format!("activating {}: {e}", p.version)),
            }
        }
    }
    out
}

/// Poll `dir` every `interval` until the process ends.
pub async fn watch(state: AppState, dir: PathBuf, interval: Duration) {
    let mut seen = fingerprint(&dir);
    loop {
        tokio::time::sleep(interval).await;
        let now = fingerprint(&dir);
        if now == seen {
            continue;
        }
        seen = now;
        let r = reload(&state, &dir).await;
        for line in &r.refused {
            tracing::warn!(problem = %line, "policy file refused; the running version stays");
        }
        if let Some(v) = &r.activated {
            tracing::info!(policy = %v, "policy folder changed: activated");
        }
    }
}
