//! Policy versions: bootstrap from the policy folder, upload, list, activate.
//! A version is activated only after it passed schema, semantic and example checks; the
//! swap is one atomic pointer store, so requests in flight keep the version they loaded.

use super::policy_versions::{stored_problems, PolicyVersion};
use super::AppState;
use crate::error::AppError;
use crate::error_code::Code;
use crate::policy::{load, CompiledPolicy, PolicyError};
use crate::store::command::Applied;
use crate::store::policies::{PolicyStatus, StoredPolicy};
use crate::store::{Command, Store};
use chrono::{SecondsFormat, Utc};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn invalid(e: PolicyError) -> AppError {
    AppError::PolicyInvalid(e.problems())
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The stored form of a checked version.
pub fn stored(p: &CompiledPolicy, author: &str) -> StoredPolicy {
    StoredPolicy {
        id: p.id.clone(),
        version: p.version.clone(),
        digest: p.digest.clone(),
        author: author.to_string(),
        uploaded_at: now_text(),
        status: PolicyStatus::Valid,
        problems: Vec::new(),
        document: p.source.clone(),
    }
}

/// Compile a stored version (the checks run again: the code may be newer than the data).
pub fn compile_stored(store: &Store, version: &str) -> Result<CompiledPolicy, AppError> {
    let sp = store
        .get_policy(version)?
        .ok_or_else(|| not_found(version))?;
    load::from_value(sp.document).map_err(invalid)
}

/// A stored version compiled for analysis (backtest, shadow): its example cases and
/// monotonicity need not pass, so a draft that only fails those can still be evaluated.
pub fn compile_candidate(store: &Store, version: &str) -> Result<CompiledPolicy, AppError> {
    let sp = store
        .get_policy(version)?
        .ok_or_else(|| not_found(version))?;
    load::compile_value(sp.document).map_err(invalid)
}

fn not_found(version: &str) -> AppError {
    AppError::NotFound {
        code: Code::PolicyNotFound,
        message: format!("no policy version `{}`", crate::money::truncate(version)),
    }
}

/// What start-up found, for the log and `serve`'s banner.
#[derive(Debug, Default)]
pub struct Bootstrap {
    pub loaded: Vec<String>,
    /// File and problem, one per line.
    pub refused: Vec<String>,
    /// `id version` of the active policy of the market a request without `market` goes
    /// to (the market `default`, else the only one, else the first).
    pub active: Option<String>,
    /// Every market's active policy, `market: id version`, when there is more than one.
    pub markets: Vec<String>,
}

/// One market's candidates while the folder is read.
#[derive(Default)]
struct Found {
    /// The newest version of the market in the folder.
    newest: Option<CompiledPolicy>,
    /// The newest version that appeared in the folder for the first time.
    newest_new: Option<CompiledPolicy>,
}

/// Store every valid policy of `dir`, then pick each market's active version: the
/// newest version that appeared in the folder for the first time, if it is newer than
/// the version the store records as that market's active one (a deployment); else the
/// recorded one if it still loads; else the newest valid version found. When no market
/// has one, the embedded default. A bad file is refused and logged; it never stops the
/// service. The policies come back one per market, sorted by market.
pub fn bootstrap(store: &Store, dir: &Path) -> Result<(Vec<CompiledPolicy>, Bootstrap), AppError> {
    let mut report = Bootstrap::default();
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let files = match load::policy_files(dir) {
        Ok(files) => files,
        Err(e) => {
            report.refused.push(format!(
                "policy folder `{}` cannot be read ({e}); using the stored or embedded policy",
                dir.display()
            ));
            Vec::new()
        }
    };
    let newer = |p: &CompiledPolicy, than: &Option<CompiledPolicy>| {
        than.as_ref()
            .is_none_or(|n| load::compare_versions(&p.version, &n.version).is_gt())
    };
    for file in files {
        let p = match load::from_file(&file) {
            Ok(p) => p,
            Err(e) => {
                for problem in e.problems() {
                    report
                        .refused
                        .push(format!("{}: {problem}", file.display()));
                }
                continue;
            }
        };
        // A file whose version is stored with other content is refused: versions are
        // immutable, and the store's copy is what decisions were made with.
        let created = match store.apply(Command::PutPolicy {
            policy: Box::new(stored(&p, "policy-dir")),
        }) {
            Ok(applied) => applied == Applied::Created,
            Err(e) => {
                report.refused.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        report.loaded.push(format!("{} {}", p.id, p.version));
        let f = found.entry(p.market.as_str().to_string()).or_default();
        if created && newer(&p, &f.newest_new) {
            f.newest_new = Some(p.clone());
        }
        if newer(&p, &f.newest) {
            f.newest = Some(p);
        }
    }
    for market in store.active_versions()?.into_keys() {
        found.entry(market).or_default();
    }
    let mut active = Vec::new();
    for (market, f) in found {
        let recorded = match store.active_version_of(&market)? {
            Some(v) => match compile_stored(store, &v) {
                Ok(p) => Some(p),
                Err(e) => {
                    report
                        .refused
                        .push(format!("active version {v} no longer loads: {e}"));
                    None
                }
            },
            None => None,
        };
        let chosen = match (f.newest_new, recorded) {
            (Some(n), Some(r)) if newer(&n, &Some(r.clone())) => Some(n),
            (_, Some(r)) => Some(r),
            (Some(n), None) => Some(n),
            (None, None) => f.newest,
        };
        active.extend(chosen);
    }
    if active.is_empty() {
        active.push(embedded(store)?);
    }
    for p in &active {
        store.apply(Command::ActivatePolicy {
            version: p.version.clone(),
        })?;
    }
    let first = active
        .iter()
        .find(|p| p.market.is_default())
        .or_else(|| active.first());
    report.active = first.map(|p| format!("{} {}", p.id, p.version));
    if active.len() > 1 {
        report.markets = active
            .iter()
            .map(|p| format!("{}: {} {}", p.market, p.id, p.version))
            .collect();
    }
    store.flush_blocking()?;
    Ok((active, report))
}

/// The embedded default policy, stored under its version (or the stored copy of that
/// version, if one exists: versions are immutable).
fn embedded(store: &Store) -> Result<CompiledPolicy, AppError> {
    let p = load::from_slice(load::DEFAULT_POLICY.as_bytes()).map_err(invalid)?;
    match store.apply(Command::PutPolicy {
        policy: Box::new(stored(&p, "embedded")),
    }) {
        Ok(_) => Ok(p),
        Err(crate::store::StoreError::Conflict { .. }) => compile_stored(store, &p.version),
        Err(e) => Err(e.into()),
    }
}

/// Validate a document without storing it.
pub fn validate(doc: serde_json::Value) -> Result<CompiledPolicy, AppError> {
    load::from_value(doc).map_err(invalid)
}

/// Store a new version. The path's version must match the document's. An invalid
/// document is refused, unless `draft`: then it is stored as a draft with its problems,
/// and can be fixed by uploading a new version (it can never be activated).
pub async fn upload(
    state: &AppState,
    version: &str,
    doc: serde_json::Value,
    author: &str,
    draft: bool,
) -> Result<(PolicyVersion, bool), AppError> {
    let mut checked = None;
    let sp = match validate(doc.clone()) {
        Ok(p) => {
            check_version(&p.version, version)?;
            let sp = stored(&p, author);
            checked = Some(p);
            sp
        }
        Err(AppError::PolicyInvalid(problems)) if draft => {
            draft_of(doc, version, author, problems)?
        }
        Err(e) => return Err(e),
    };
    let created = state
        .store
        .apply_durable(Command::PutPolicy {
            policy: Box::new(sp.clone()),
        })
        .await?
        == Applied::Created;
    let sp = PolicyVersion::from(state.store.get_policy(version)?.unwrap_or(sp));
    // Remember the checked version for activation, now that the store holds this content.
    if let Some(p) = checked.filter(|p| p.digest == sp.digest) {
        if let Ok(mut m) = state.verified.lock() {
            m.entry(p.version.clone()).or_insert_with(|| Arc::new(p));
        }
    }
    Ok((sp, created))
}

fn check_version(document: &str, path: &str) -> Result<(), AppError> {
    if document == path {
        return Ok(());
    }
    Err(AppError::Invalid(crate::domain::FieldError::new(
        "version",
        format!(
            "the document says `{}` but the path says `{}`",
            crate::money::truncate(document),
            crate::money::truncate(path)
        ),
    )))
}

/// A draft still needs an `id` and the path's `version`, so it can be listed and replaced.
fn draft_of(
    doc: serde_json::Value,
    version: &str,
    author: &str,
    problems: Vec<crate::policy::Problem>,
) -> Result<StoredPolicy, AppError> {
    let text = |field: &str| {
        doc.get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                AppError::Invalid(crate::domain::FieldError::new(
                    field,
                    "a draft needs it as a string",
                ))
            })
    };
    let (id, doc_version) = (text("id")?, text("version")?);
    check_version(&doc_version, version)?;
    // Drafts are kept for good: their names must be as clean as a valid version's.
    let ident = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    };
    if !ident(&id) {
        return Err(AppError::Invalid(crate::domain::FieldError::new(
            "id",
            "a draft's id must be 1 to 64 lower-case letters, digits, `_`, `.` or `-`",
        )));
    }
    let version_ok = doc_version.len() <= 64
        && doc_version
            .split(['.', '-', '+'])
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && doc_version.starts_with(|c: char| c.is_ascii_digit());
    if !version_ok {
        return Err(AppError::Invalid(crate::domain::FieldError::new(
            "version",
            "a draft's version must look like `2026.12.0` (digits and dots, optional `-suffix`)",
        )));
    }
    Ok(StoredPolicy {
        id,
        version: doc_version,
        digest: load::digest(&doc),
        author: author.to_string(),
        uploaded_at: now_text(),
        status: PolicyStatus::Draft,
        problems: stored_problems(problems),
        document: doc,
    })
}

/// A stored version that passed every check: from this process's cache, else compiled
/// and checked now (e.g. after a restart) and remembered.
pub(crate) fn verified(state: &AppState, version: &str) -> Result<Arc<CompiledPolicy>, AppError> {
    let cached = state
        .verified
        .lock()
        .ok()
        .and_then(|m| m.get(version).cloned());
    if let Some(p) = cached {
        return Ok(p);
    }
    let p = Arc::new(compile_stored(&state.store, version)?);
    if let Ok(mut m) = state.verified.lock() {
        m.insert(version.to_string(), p.clone());
    }
    Ok(p)
}

/// Activate a stored version in its market: checks (once per process), persist, then
/// one atomic swap of that market's entry; other markets keep their active version.
pub async fn activate(state: &AppState, version: &str) -> Result<Arc<CompiledPolicy>, AppError> {
    let p = verified(state, version)?;
    state
        .store
        .apply_durable(Command::ActivatePolicy {
            version: version.to_string(),
        })
        .await?;
    state.policies.activate(p.clone());
    // Another version may judge retention over another window.
    state.retention.mark_dirty();
    // A shadow of the version now active would only compare it with itself.
    let market = p.market.as_str();
    if state
        .policies
        .shadow(market)
        .is_some_and(|s| s.version == p.version)
    {
        clear_shadow(state, market).await?;
    }
    tracing::info!(policy = %p.id, version = %p.version, market = %p.market, "policy activated");
    Ok(p)
}

/// Stop `market`'s shadow runs, now and after a restart; stored shadow results are kept.
pub async fn clear_shadow(state: &AppState, market: &str) -> Result<(), AppError> {
    state
        .store
        .apply_durable(Command::SetShadow {
            version: None,
            market: (!market.eq(crate::domain::market::DEFAULT_MARKET)).then(|| market.to_string()),
        })
        .await?;
    state.policies.set_shadow(market, None);
    Ok(())
}

/// What changed from stored version `from` to stored version `to`.
pub fn diff(
    store: &Store,
    from: &str,
    to: &str,
) -> Result<Vec<crate::policy::diff::Change>, AppError> {
    let doc = |v: &str| -> Result<serde_json::Value, AppError> {
        Ok(store.get_policy(v)?.ok_or_else(|| not_found(v))?.document)
    };
    Ok(crate::policy::diff::changes(&doc(from)?, &doc(to)?))
}
