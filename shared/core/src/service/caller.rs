//! Who is calling, and the checks every route makes on it.
use super::HeraldError;
use crate::ids::KeyMode;
use crate::tenant::{ApiKeyRecord, Tenant};
use crate::users::{Role, User};

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per request, never stored
pub enum Caller {
    /// The admin key (`by: None`) or an operator's console session.
    Admin { by: Option<User> },
    /// A tenant's API key, or (`user`) an owner's or member's console session.
    Tenant { tenant: Tenant, key: ApiKeyRecord, user: Option<User> },
}

impl Caller {
    /// The admin key; also what the system acts as in jobs.
    pub const ADMIN: Caller = Caller::Admin { by: None };

    /// Who the audit log names: the console user's id, else the key's.
    pub fn actor(&self) -> String {
        match self {
            Caller::Admin { by: Some(u) } | Caller::Tenant { user: Some(u), .. } => u.id.to_string(),
            Caller::Admin { by: None } => "admin".into(),
            Caller::Tenant { key, .. } => key.key_id.to_string(),
        }
    }

    /// The console user behind the call, if it is a session.
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::Admin { by } => by.as_ref(),
            Caller::Tenant { user, .. } => user.as_ref(),
        }
    }

    /// The calling tenant; the admin key is refused on tenant routes.
    pub fn tenant(&self) -> Result<&Tenant, HeraldError> {
        match self {
            Caller::Tenant { tenant, .. } => Ok(tenant),
            Caller::Admin { .. } => Err(HeraldError::Forbidden),
        }
    }

    /// The mode of the data this caller sees and creates (the admin works on live data).
    pub fn mode(&self) -> KeyMode {
        match self {
            Caller::Tenant { key, .. } => key.mode,
            Caller::Admin { .. } => KeyMode::Live,
        }
    }

    /// The calling tenant, for a change only a live key or an owner may make (CONTRACT
    /// §12, §15): a member's session is refused.
    pub fn live_tenant(&self) -> Result<&Tenant, HeraldError> {
        let tenant = self.tenant()?;
        if self.user().is_some_and(|u| u.role != Role::Owner) {
            return Err(HeraldError::OwnerOnly);
        }
        match self.mode() {
            KeyMode::Live => Ok(tenant),
            KeyMode::Test => Err(HeraldError::TestKeyForbidden),
        }
    }

    /// Refuses a test key (the admin and live keys pass).
    pub fn require_live(&self) -> Result<(), HeraldError> {
        match self.mode() {
            KeyMode::Live => Ok(()),
            KeyMode::Test => Err(HeraldError::TestKeyForbidden),
        }
    }

    pub fn require_admin(&self) -> Result<(), HeraldError> {
        match self {
            Caller::Admin { .. } => Ok(()),
            Caller::Tenant { .. } => Err(HeraldError::Forbidden),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
