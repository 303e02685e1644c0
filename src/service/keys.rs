//! API keys as a use case shared by the CLI (`kulanz keys add`) and `POST /v1/keys`, and
//! the one check that binds a claimed agent role to the key that makes the claim.

use super::AppState;
use crate::domain::{check_id, FieldError};
use crate::error::AppError;
use crate::error_code::Code;
use crate::store::command::Applied;
use crate::store::keys::{hash_secret, new_secret};
use crate::store::{Command, Store};
use chrono::{DateTime, SecondsFormat, Utc};

/// A stored key: name, scopes, creation time, maximum role (never its secret).
pub use crate::store::keys::ApiKeyRecord;
/// What an API key may do: `decide`, `ingest`, `admin`.
pub use crate::store::keys::Scope;

/// A key about to be stored, with its secret (shown once, never stored).
pub struct NewKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

impl NewKey {
    /// The write that stores it: the record under the hash of its secret.
    pub fn command(&self) -> Command {
        Command::PutKey {
            hash: hash_secret(&self.secret),
            key: self.record.clone(),
        }
    }
}

/// Create a key in a store this process holds (`kulanz keys add`, `serve --demo`):
/// written and flushed before the secret is handed out.
pub fn add(
    store: &Store,
    name: &str,
    scopes: Vec<Scope>,
    max_role: Option<String>,
    now: DateTime<Utc>,
) -> Result<NewKey, AppError> {
    let key = new_key(name, scopes, max_role, now)?;
    store.apply(key.command())?;
    store.flush_blocking()?;
    Ok(key)
}

/// Revoke every key named `name` in a store this process holds; `false` if there was
/// none. Flushed before it returns.
pub fn revoke_local(store: &Store, name: &str) -> Result<bool, AppError> {
    let applied = store.apply(Command::RevokeKeys {
        name: name.to_string(),
    })?;
    store.flush_blocking()?;
    Ok(applied != Applied::Unchanged)
}

/// Revoke every key named `name` over HTTP; `key_not_found` if there is none.
pub async fn revoke(state: &AppState, name: &str) -> Result<(), AppError> {
    let applied = state
        .store
        .apply_durable(Command::RevokeKeys {
            name: name.to_string(),
        })
        .await?;
    if applied == Applied::Unchanged {
        return Err(AppError::NotFound {
            code: Code::KeyNotFound,
            message: format!("no key named `{}`", crate::money::truncate(name)),
        });
    }
    Ok(())
}

/// Every stored key.
pub fn list(store: &Store) -> Result<Vec<ApiKeyRecord>, AppError> {
    Ok(store.list_keys()?)
}

/// A new key with a fresh secret.
pub fn new_key(
    name: &str,
    scopes: Vec<Scope>,
    max_role: Option<String>,
    now: DateTime<Utc>,
) -> Result<NewKey, FieldError> {
    check_id("name", name)?;
    if let Some(role) = &max_role {
        check_id("max_role", role)?;
    }
    Ok(NewKey {
        record: ApiKeyRecord {
            name: name.to_string(),
            scopes,
            created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            max_role,
        },
        secret: new_secret(),
    })
}

/// Create a key over HTTP: a `max_role` must be a role of an active policy (the CLI,
/// which may run before any policy is stored, checks only its form).
pub async fn create(
    state: &AppState,
    name: &str,
    scopes: Vec<Scope>,
    max_role: Option<String>,
    now: DateTime<Utc>,
) -> Result<NewKey, AppError> {
    if let Some(role) = &max_role {
        // A key serves every market: its role must be one of some market's policy.
        let active = state.policies.all_active();
        if active.is_empty() {
            return Err(AppError::NoActivePolicy);
        }
        if !active.iter().any(|p| p.roles.iter().any(|r| r == role)) {
            let mut known: Vec<&str> = Vec::new();
            for r in active.iter().flat_map(|p| p.roles.iter()) {
                if !known.contains(&r.as_str()) {
                    known.push(r);
                }
            }
            return Err(FieldError::new(
                "max_role",
                format!(
                    "expected one of {}, got `{}`",
                    known.join(", "),
                    crate::money::truncate(role)
                ),
            )
            .into());
        }
    }
    let key = new_key(name, scopes, max_role, now)?;
    state.store.apply_durable(key.command()).await?;
    Ok(key)
}

/// Refuse a claimed role above the key's maximum. `roles` is the policy's vocabulary in
/// rising authority and `claimed` an index into it (already checked to be a role). A
/// maximum the policy no longer knows refuses every claim: a renamed role must not turn
/// a bound key into one that trusts its caller.
pub fn check_role(
    roles: &[String],
    claimed: usize,
    max_role: Option<&str>,
) -> Result<(), AppError> {
    let Some(max) = max_role else {
        return Ok(());
    };
    let claimed_name = roles.get(claimed).map(String::as_str).unwrap_or("?");
    let allowed = roles.iter().position(|r| r == max);
    match allowed {
        Some(m) if claimed <= m => Ok(()),
        Some(_) => Err(AppError::Forbidden {
            code: Code::RoleNotAllowed,
            message: format!(
                "this key may act as `{max}` at most, and the request claims `{claimed_name}`"
            ),
        }),
        None => Err(AppError::Forbidden {
            code: Code::RoleNotAllowed,
            message: format!(
                "this key's maximum role `{max}` is not a role of the active policy, so it may not claim `{claimed_name}`"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::check_role;

    fn roles() -> Vec<String> {
        ["agent", "senior", "lead", "manager"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn a_claim_up_to_the_maximum_passes_and_above_it_is_refused() {
        let r = roles();
        assert!(check_role(&r, 3, None).is_ok());
        assert!(check_role(&r, 0, Some("senior")).is_ok());
        assert!(check_role(&r, 1, Some("senior")).is_ok());
        let e = check_role(&r, 3, Some("senior")).unwrap_err().to_string();
        assert!(e.contains("`senior`") && e.contains("`manager`"), "{e}");
        assert!(check_role(&r, 0, Some("gone")).is_err());
    }
}
