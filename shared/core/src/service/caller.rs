//! Who is calling, and the checks every route makes on it.
use super::HeraldError;
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
