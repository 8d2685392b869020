//! Roles of API tokens and what each may do.

use serde::{Deserialize, Serialize};

/// Ordered: an admin may do everything a responder may, a responder everything a viewer may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads alerts, incidents, config status.
    Viewer,
    /// Also sends events and acts on incidents.
    Responder,
    /// Also reloads config and manages tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Role::Viewer, Role::Responder, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

/// Lower-case hex SHA-256 of a secret: how tokens and integration keys are kept and looked
/// up, so none is ever stored in the clear.
pub fn sha256_hex(secret: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.allows(Role::Responder));
        assert!(Role::Responder.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Responder));
        assert!(!Role::Responder.allows(Role::Admin));
    }
}
