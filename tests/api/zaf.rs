//! Tokens shaped like the ones Zendesk signs for a signed-URL app's iframe (RS256, the
//! claims Zendesk documents), signed with the committed test-only key pair in
//! `tests/fixtures/zaf_test_*_key.pem`; and a `ZendeskApp` that trusts that pair.
//! Those keys protect nothing: they exist for these tests alone.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kulanz::service::zendesk_app::{roles::DeskRoles, token::ZafVerifier, ZendeskApp};
use serde_json::{json, Value};

pub const PRIVATE: &[u8] = include_bytes!("../fixtures/zaf_test_private_key.pem");
pub const PUBLIC: &[u8] = include_bytes!("../fixtures/zaf_test_public_key.pem");
/// A key Zendesk never used for this app.
pub const OTHER_PRIVATE: &[u8] = include_bytes!("../fixtures/zaf_other_test_private_key.pem");
pub const SUBDOMAIN: &str = "acme";
/// Mapped to `lead` by `ROLES`; every other user is an `agent`.
pub const LEAD: u64 = 9876543;
pub const ROLES: &str = r#"{"default": "agent", "users": {"9876543": "lead"}}"#;

/// The app as `serve` builds it from the test key and `roles`.
pub fn app(roles: &str) -> ZendeskApp {
    let verifier = ZafVerifier::new(PUBLIC, SUBDOMAIN).unwrap();
    ZendeskApp::new(verifier, DeskRoles::parse(roles.as_bytes()).unwrap(), 8)
}

/// The claims of a token for `user`, valid now for five minutes.
pub fn claims(user: u64) -> Value {
    let now = chrono::Utc::now().timestamp();
    let base = format!("https://{SUBDOMAIN}.zendesk.com");
    json!({
        "iss": format!("{SUBDOMAIN}.zendesk.com"),
        "aud": format!("{base}/api/v2/apps/installations/4242.json"),
        "sub": format!("{base}/api/v2/users/{user}.json"),
        "iat": now, "nbf": now, "exp": now + 300,
        "context": {"product": "support", "location": "ticket_sidebar"},
        "qsh": "0b1c2d", "cnf": {"jku": format!("{base}/api/v2/apps/4711/public_key.pem")}
    })
}

/// `claims` signed RS256 with `key` (PEM).
pub fn sign(claims: &Value, key: &[u8]) -> String {
    let key = EncodingKey::from_rsa_pem(key).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

/// A valid token for `user`.
pub fn token(user: u64) -> String {
    sign(&claims(user), PRIVATE)
}
