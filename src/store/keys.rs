//! API keys: only the SHA-256 of each secret is stored. Secrets are 256 random bits, so a
//! fast hash is enough (no password stretching needed).
//!
//! Every request is authenticated, so the keys are also held in memory (`KeyCache`): a
//! lookup is a hash of the secret and a map read, with no sled read and no JSON parse.
//! sled stays the record; the map is rebuilt from it after every change to the keys.

use super::Applied;
use super::{from_json, to_json, Store, StoreError};
use arc_swap::ArcSwap;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    /// The highest agent role a request made with this key may claim (a role of the
    /// policy's vocabulary). `None`: the key trusts its caller's claim, as before roles
    /// could be bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_role: Option<String>,
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The keys tree in memory, by the SHA-256 of the secret (the raw 32 bytes, so a lookup
/// does not hex-encode). Readers load it without a lock; a change to the keys rebuilds it
/// from sled under `rebuild`, so two changes at once cannot leave the older map in place
/// (a revoked key that still authenticates).
pub struct KeyCache {
    /// Shared records: a request takes one without copying its name and scopes.
    by_hash: ArcSwap<HashMap<[u8; 32], Arc<ApiKeyRecord>>>,
    rebuild: Mutex<()>,
}

fn load_keys(tree: &sled::Tree) -> Result<HashMap<[u8; 32], Arc<ApiKeyRecord>>, StoreError> {
    let mut map = HashMap::new();
    for item in tree.iter() {
        let (hash, v) = item?;
        let mut raw = [0u8; 32];
        // A key under another name than a hash could never match a secret: not kept.
        if hex::decode_to_slice(&hash, &mut raw).is_ok() {
            map.insert(raw, Arc::new(from_json(&v)?));
        }
    }
    Ok(map)
}

impl KeyCache {
    /// The map as `tree` holds it now.
    pub fn load(tree: &sled::Tree) -> Result<KeyCache, StoreError> {
        Ok(KeyCache {
            by_hash: ArcSwap::from_pointee(load_keys(tree)?),
            rebuild: Mutex::new(()),
        })
    }

    /// Rebuild the map after the tree was written around `change` (a restore).
    pub(super) fn reload(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        self.change(tree, || Ok(()))
    }

    /// Change the keys tree with `change`, then rebuild the map from it. The map is
    /// rebuilt even when `change` fails part-way (a revoke may have removed some keys).
    fn change<T>(
        &self,
        tree: &sled::Tree,
        change: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _one_at_a_time = self
            .rebuild
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = change();
        self.by_hash.store(Arc::new(load_keys(tree)?));
        result
    }
}

/// A new random secret: `kz_` and 64 hex digits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("kz_{}", hex::encode(bytes))
}

impl Store {
    /// The key whose secret this is, from memory (`KeyCache`).
    pub fn find_key(&self, secret: &str) -> Result<Option<Arc<ApiKeyRecord>>, StoreError> {
        let hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        Ok(self.key_cache.by_hash.load().get(&hash).cloned())
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
        self.key_cache
            .change(&self.keys, || self.revoke_in_tree(name))
    }

    fn revoke_in_tree(&self, name: &str) -> Result<Applied, StoreError> {
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
        let json = to_json(key)?;
        self.key_cache.change(&self.keys, || {
            self.keys.insert(hash.as_bytes(), json)?;
            Ok(Applied::Created)
        })
    }
}
