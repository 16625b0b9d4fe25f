//! Who is calling, and the checks every route makes on it.
use super::HeraldError;
use crate::ids::KeyMode;
use crate::tenant::{ApiKeyRecord, Tenant};

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per request, never stored
pub enum Caller {
    Admin,
    Tenant { tenant: Tenant, key: ApiKeyRecord },
}

impl Caller {
    pub fn actor(&self) -> String {
        match self {
            Caller::Admin => "admin".into(),
            Caller::Tenant { key, .. } => key.key_id.to_string(),
        }
    }

    /// The calling tenant; the admin key is refused on tenant routes.
    pub fn tenant(&self) -> Result<&Tenant, HeraldError> {
        match self {
            Caller::Tenant { tenant, .. } => Ok(tenant),
            Caller::Admin => Err(HeraldError::Forbidden),
        }
    }

    /// The mode of the data this caller sees and creates (the admin works on live data).
    pub fn mode(&self) -> KeyMode {
        match self {
            Caller::Tenant { key, .. } => key.mode,
            Caller::Admin => KeyMode::Live,
        }
    }

    /// The calling tenant, for a change only a live key may make (CONTRACT §12).
    pub fn live_tenant(&self) -> Result<&Tenant, HeraldError> {
        let tenant = self.tenant()?;
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
            Caller::Admin => Ok(()),
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
