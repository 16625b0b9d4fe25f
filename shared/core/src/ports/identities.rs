use super::StoreResult;
use crate::identity::{EmailIdentity, IdentityRecord, IdentityState};
use crate::ids::TenantId;
use async_trait::async_trait;

/// Which tenant holds which email identity. Claims are atomic per domain: a domain's claims
/// (the domain itself and addresses in it) change together under one condition.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Claims `identity` for `tenant`; `Conflict` when another tenant holds it, holds its
    /// domain, or (for a domain) holds an address in it.
    async fn claim_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()>;
    async fn release_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()>;
    async fn save_identity(&self, record: &IdentityRecord) -> StoreResult<()>;
    async fn identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<Option<IdentityRecord>>;
    async fn identities(&self, tenant: &TenantId) -> StoreResult<Vec<IdentityRecord>>;
    async fn delete_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<bool>;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("email identity call failed: {0}")]
pub struct IdentityCallError(pub String);

/// The email provider's identities (SES v2 `CreateEmailIdentity`, `GetEmailIdentity`).
#[async_trait]
pub trait EmailIdentities: Send + Sync {
    async fn create_identity(&self, identity: &EmailIdentity) -> Result<IdentityState, IdentityCallError>;
    async fn identity_state(&self, identity: &EmailIdentity) -> Result<IdentityState, IdentityCallError>;
}
