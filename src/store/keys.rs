//! API keys: only the SHA-256 of each secret is stored. Secrets are 256 random bits, so a
//! fast hash is enough (no password stretching needed) and lookup is one point read.

use super::command::Applied;
use super::{from_json, to_json, Store, StoreError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Decide,
    Ingest,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Decide, Scope::Ingest, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Decide => "decide",
            Scope::Ingest => "ingest",
            Scope::Admin => "admin",
        }
    }

    /// Parse a comma-separated list such as `decide,ingest`.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|x| x.as_str() == part)
                .ok_or_else(|| {
                    format!("unknown scope `{part}`; expected decide, ingest or admin")
                })?;
            if !out.contains(&scope) {
                out.push(scope);
            }
        }
        if out.is_empty() {
            return Err("at least one scope is needed: decide, ingest or admin".into());
        }
        Ok(out)
    }
}

/// A stored key (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: String,
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret: `kz_` and 64 hex digits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("kz_{}", hex::encode(bytes))
}

impl Store {
    pub fn find_key(&self, secret: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.keys
            .get(hash_secret(secret).as_bytes())?
            .map(|v| from_json(&v))
            .transpose()
    }

    /// Every stored key, by name then creation time.
    pub fn list_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut keys: Vec<ApiKeyRecord> = self
            .keys
            .iter()
            .values()
            .map(|v| from_json(&v?))
            .collect::<Result<_, _>>()?;
        keys.sort_by(|a, b| (&a.name, &a.created_at).cmp(&(&b.name, &b.created_at)));
        Ok(keys)
    }

    /// Revoke every key with this name; returns how many.
    pub(super) fn apply_revoke_keys(&self, name: &str) -> Result<Applied, StoreError> {
        let mut revoked = 0;
        for item in self.keys.iter() {
            let (hash, v) = item?;
            let key: ApiKeyRecord = from_json(&v)?;
            if key.name == name {
                self.keys.remove(hash)?;
                revoked += 1;
            }
        }
        Ok(if revoked > 0 {
            Applied::Done
        } else {
            Applied::Unchanged
        })
    }

    pub(super) fn apply_put_key(
        &self,
        hash: &str,
        key: &ApiKeyRecord,
    ) -> Result<Applied, StoreError> {
        self.keys.insert(hash.as_bytes(), to_json(key)?)?;
        Ok(Applied::Created)
    }
}
