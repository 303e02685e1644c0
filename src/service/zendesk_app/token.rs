//! The token Zendesk signs for a signed-URL app (`"signedUrls": true` in the manifest):
//! a JWT, RS256, posted as the form field `token` when Zendesk loads the app's iframe.
//! It is verified with the app's public key, and its issuer, audience and subject must
//! all name the configured Zendesk account. What it proves is one Zendesk user id; it
//! carries no role and no groups.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Why a token was refused. The messages never repeat the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the form field `token` is missing: Zendesk sends it when the app's manifest sets `signedUrls: true`")]
    Missing,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (`nbf`)")]
    NotYetValid,
    #[error("the token's signature does not verify with the app's public key")]
    Signature,
    #[error("the token is not signed with RS256, the only algorithm accepted")]
    Algorithm,
    #[error("the token's issuer (`iss`) is not `{0}`")]
    Issuer(String),
    #[error("the token's audience (`aud`) is not an app installation of `{0}`")]
    Audience(String),
    #[error("the token's subject (`sub`) is not a user of `{0}`")]
    Subject(String),
    #[error("the token lacks the claim `{0}`")]
    MissingClaim(String),
    #[error("the token is malformed")]
    Malformed,
}

/// A configuration that cannot verify anything; `kulanz serve` stops on it.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the Zendesk subdomain `{0}` is not a subdomain name (letters, digits and `-`)")]
    Subdomain(String),
    #[error("the Zendesk app key file holds a private key; give kulanz the app's public key (`public_key.pem`)")]
    Private,
    #[error("the Zendesk app key file is not an RSA public key in PEM form: {0}")]
    Pem(String),
    #[error(
        "this build has no crypto backend for jsonwebtoken (enable exactly one of its features)"
    )]
    NoCrypto,
}

/// The claims kulanz reads; `exp` and `nbf` are checked by jsonwebtoken.
#[derive(Deserialize)]
struct Claims {
    aud: String,
    sub: String,
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZafUser {
    /// The Zendesk user id (digits).
    pub user_id: String,
}

/// Verifies tokens of one Zendesk account's app.
pub struct ZafVerifier {
    key: DecodingKey,
    validation: Validation,
    subdomain: String,
}

impl std::fmt::Debug for ZafVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZafVerifier")
            .field("subdomain", &self.subdomain)
            .finish_non_exhaustive()
    }
}

impl ZafVerifier {
    /// A verifier for the app whose public key is `pem`, installed in `subdomain`.zendesk.com.
    pub fn new(pem: &[u8], subdomain: &str) -> Result<Self, KeyError> {
        // jsonwebtoken panics at decode without a backend; find out here, at start.
        jsonwebtoken::crypto::CryptoProvider::try_get_default().ok_or(KeyError::NoCrypto)?;
        let ok = !subdomain.is_empty()
            && subdomain.len() <= 63
            && subdomain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(KeyError::Subdomain(crate::money::truncate(subdomain)));
        }
        // A private key would parse as RSA too, and then verify nothing it should.
        if String::from_utf8_lossy(pem).contains("PRIVATE KEY") {
            return Err(KeyError::Private);
        }
        let key = DecodingKey::from_rsa_pem(pem).map_err(|e| KeyError::Pem(e.to_string()))?;
        // Only RS256: an `alg` of HS256 (the public key used as an HMAC secret), `none`
        // or any other is refused before the signature is looked at.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[format!("{subdomain}.zendesk.com")]);
        // Zendesk's audience names the installation, which kulanz is not told: checked
        // below against the account's prefix instead.
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        Ok(ZafVerifier {
            key,
            validation,
            subdomain: subdomain.to_string(),
        })
    }

    /// The account this verifier accepts, as `name.zendesk.com`.
    pub fn account(&self) -> String {
        format!("{}.zendesk.com", self.subdomain)
    }

    /// Verify `token` (signature, `exp`, `nbf`, `iss`, `aud`, `sub`) against the clock.
    pub fn verify(&self, token: &str) -> Result<ZafUser, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| self.refusal(e.kind()))?;
        let base = format!("https://{}.zendesk.com/api/v2/", self.subdomain);
        let installation = data
            .claims
            .aud
            .strip_prefix(&base)
            .and_then(|r| r.strip_prefix("apps/installations/"))
            .and_then(|r| r.strip_suffix(".json"));
        if !installation.is_some_and(is_id) {
            return Err(TokenError::Audience(self.account()));
        }
        let user = data
            .claims
            .sub
            .strip_prefix(&base)
            .and_then(|r| r.strip_prefix("users/"))
            .and_then(|r| r.strip_suffix(".json"))
            .filter(|id| is_id(id))
            .ok_or_else(|| TokenError::Subject(self.account()))?;
        Ok(ZafUser {
            user_id: user.to_string(),
        })
    }

    fn refusal(&self, kind: &ErrorKind) -> TokenError {
        match kind {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::Algorithm,
            ErrorKind::InvalidIssuer => TokenError::Issuer(self.account()),
            ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
            // `aud` or `sub` of another type than a string, bad base64, bad JSON, ...
            _ => TokenError::Malformed,
        }
    }
}

/// A Zendesk record id: 1 to 20 digits.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}
