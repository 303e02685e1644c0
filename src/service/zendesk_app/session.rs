//! The desk session: the credential kulanz puts into the Zendesk app's page once it has
//! verified Zendesk's token, so the page's later calls prove the same Zendesk user
//! without an API key (Zendesk signs a token only for the iframe's first load).
//!
//! Stateless: `kzs_<user id>.<expiry, unix seconds>.<MAC>`, the MAC an HMAC-SHA256 over
//! the rest, base64url. Its key is made at start and held only in memory, so no store
//! format changes and a restart ends every session: the agent reopens the ticket and
//! Zendesk signs a new token. The session names no role: the server looks the role up
//! on every request.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// What every desk session's secret starts with, so the auth layer knows it is not a key.
pub const PREFIX: &str = "kzs_";

/// Why a session was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("this desk session is not one this server signed (it may have restarted since): reopen the ticket")]
    Unknown,
    #[error("this desk session has expired: reopen the ticket")]
    Expired,
}

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The Zendesk user id (digits).
    pub user_id: String,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
}

/// The signing key of this process's sessions.
pub struct SessionKey([u8; 32]);

// The key must never reach a log line.
impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A key shared by every replica of a cluster (cluster mode's `shared_secret`), so a
    /// session signed by one replica verifies on all.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        SessionKey(key)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SessionKey(key)
    }

    #[expect(
        clippy::expect_used,
        reason = "HMAC-SHA256 accepts keys of any length; new_from_slice cannot fail"
    )]
    fn mac(&self, body: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        // Domain-separated from any other use of HMAC in kulanz.
        mac.update(b"kulanz desk session v1\n");
        mac.update(body.as_bytes());
        mac
    }

    /// The secret of a session for `user_id` that ends at `expires_at` (unix seconds).
    pub fn issue(&self, user_id: &str, expires_at: i64) -> String {
        let body = format!("{user_id}.{expires_at}");
        let tag = self.mac(&body).finalize().into_bytes();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{PREFIX}{body}.{}", b64.encode(tag))
    }

    /// Check a secret's MAC (in constant time) and expiry against `now` (unix seconds).
    pub fn verify(&self, secret: &str, now: i64) -> Result<Session, SessionError> {
        let rest = secret.strip_prefix(PREFIX).ok_or(SessionError::Unknown)?;
        let (body, tag) = rest.rsplit_once('.').ok_or(SessionError::Unknown)?;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SessionError::Unknown)?;
        self.mac(body)
            .verify_slice(&tag)
            .map_err(|_| SessionError::Unknown)?;
        // Signed by this server, so well-formed; parsed all the same, never trusted blind.
        let (user_id, expires_at) = body.split_once('.').ok_or(SessionError::Unknown)?;
        let expires_at: i64 = expires_at.parse().map_err(|_| SessionError::Unknown)?;
        if now >= expires_at {
            return Err(SessionError::Expired);
        }
        Ok(Session {
            user_id: user_id.to_string(),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{SessionError, SessionKey};

    #[test]
    fn a_session_verifies_until_it_expires_and_only_under_its_key() {
        let key = SessionKey::generate();
        let s = key.issue("9876543", 1_000);
        assert!(s.starts_with("kzs_9876543.1000."), "{s}");
        let ok = key.verify(&s, 999).unwrap();
        assert_eq!(ok.user_id, "9876543");
        assert!(matches!(key.verify(&s, 1_000), Err(SessionError::Expired)));
        assert!(matches!(
            SessionKey::generate().verify(&s, 999),
            Err(SessionError::Unknown)
        ));
        // Another user or a later expiry under the same MAC is refused.
        let (_, tag) = s.rsplit_once('.').unwrap();
        for forged in [
            format!("kzs_1.1000.{tag}"),
            format!("kzs_9876543.99999.{tag}"),
        ] {
            assert!(matches!(
                key.verify(&forged, 999),
                Err(SessionError::Unknown)
            ));
        }
        assert!(matches!(key.verify("kzs_", 0), Err(SessionError::Unknown)));
    }
}
