//! The mapping from Zendesk users to kulanz roles, held on the server
//! (`kulanz serve --zendesk-roles FILE`). Zendesk's token names the user and nothing else,
//! so the role an agent acts in comes from this file, never from the browser:
//!
//! ```json
//! {"default": "agent", "users": {"9876543": "lead", "1234567": "senior"}}
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a roles file was refused; `kulanz serve` stops on it.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    #[error("the Zendesk roles file is not valid: {0}")]
    Json(String),
    #[error("the Zendesk roles file names the user `{0}`: a Zendesk user id is digits only")]
    UserId(String),
    #[error("the Zendesk roles file gives `{0}` the role `{1}`, which is not a role name")]
    Role(String, String),
}

/// Zendesk user id → kulanz role, and the role of everyone else.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskRoles {
    /// The role of every user `users` does not name.
    default: String,
    /// Zendesk user id (as in `/api/v2/users/{id}.json`) → role.
    #[serde(default)]
    users: BTreeMap<String, String>,
}

impl DeskRoles {
    /// Parse and check a roles file. Whether each role is one of the active policy's is
    /// checked when it is used (the policy can change while the server runs).
    pub fn parse(json: &[u8]) -> Result<Self, RolesError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let roles: DeskRoles = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| RolesError::Json(e.to_string()))?;
        de.end().map_err(|e| RolesError::Json(e.to_string()))?;
        let named = |who: &str, role: &str| {
            crate::domain::check_id("role", role)
                .map_err(|_| RolesError::Role(who.to_string(), crate::money::truncate(role)))
        };
        named("default", &roles.default)?;
        for (user, role) in &roles.users {
            if user.is_empty() || user.len() > 20 || !user.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RolesError::UserId(crate::money::truncate(user)));
            }
            named(user, role)?;
        }
        Ok(roles)
    }

    /// The role of Zendesk user `user_id`.
    pub fn role_for(&self, user_id: &str) -> &str {
        self.users.get(user_id).unwrap_or(&self.default)
    }

    /// Every role the file names, once each, for a check against the active policy.
    pub fn roles(&self) -> Vec<&str> {
        let mut all: Vec<&str> = std::iter::once(self.default.as_str())
            .chain(self.users.values().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::DeskRoles;

    #[test]
    fn a_listed_user_gets_their_role_and_everyone_else_the_default() {
        let r = DeskRoles::parse(br#"{"default": "agent", "users": {"9876543": "lead"}}"#).unwrap();
        assert_eq!(r.role_for("9876543"), "lead");
        assert_eq!(r.role_for("1"), "agent");
        assert_eq!(r.roles(), vec!["agent", "lead"]);
    }

    #[test]
    fn a_file_without_a_default_or_with_a_name_for_an_id_is_refused() {
        let e = DeskRoles::parse(br#"{"users": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("default"), "{e}");
        let e = DeskRoles::parse(br#"{"default": "agent", "users": {"anna": "lead"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`anna`"), "{e}");
        let e = DeskRoles::parse(br#"{"default": "", "users": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`default`"), "{e}");
        assert!(DeskRoles::parse(br#"{"default": "agent", "groups": {}}"#).is_err());
    }
}
