//! Console users (CONTRACT §15): who may sign in, in which tenant, with which role, and the
//! sessions they hold. Passwords and tokens are Cognito's; Herald keeps the role and tenant.
use crate::ids::{TenantId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the tenant's data and sends.
    Member,
    /// Also changes settings, keys, users, numbers and the kill switch.
    Owner,
    /// The platform's operator: every tenant and the operator pages.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Owner => "owner",
            Role::Operator => "operator",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Created; has not signed in yet.
    Invited,
    Active,
    /// Removed: cannot sign in, its sessions no longer work.
    Disabled,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Lower-cased; also the user's Cognito username.
    pub email: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// A signed-in browser. The cookie holds a random token; the table holds only its hash,
/// with the Cognito tokens the session revokes on sign-out.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub hash: String,
    pub user_id: UserId,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When Cognito last confirmed the access token (GetUser).
    pub verified_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("user_id", &self.user_id).field("created_at", &self.created_at).finish()
    }
}

/// An email address as a username: trimmed, lower-cased, one `@` with text on both sides.
pub fn normalise_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_ascii_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(normalise_email(" Ann@Example.ORG ").as_deref(), Some("ann@example.org"));
        for bad in ["", "ann", "@example.org", "ann@", "ann@example", "a b@example.org", "a@b@example.org"] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }
}
