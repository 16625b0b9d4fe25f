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
    /// Pending identities created before `before`, oldest first (the expiry's work list).
    async fn pending_identities(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, EmailIdentity)>>;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("email identity call failed: {0}")]
pub struct IdentityCallError(pub String);

/// What creating an identity at the provider found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Created by this call: its state is tied to this claim.
    New(IdentityState),
    /// It existed already (the operator's, verified out of band, or left behind): never
    /// adopted by a tenant's claim.
    ExistedAlready,
}

/// The email provider's identities (SES v2 `CreateEmailIdentity`, `GetEmailIdentity`,
/// `DeleteEmailIdentity`).
#[async_trait]
pub trait EmailIdentities: Send + Sync {
    async fn create_identity(&self, identity: &EmailIdentity) -> Result<Created, IdentityCallError>;
    /// None: the provider has no such identity.
    async fn identity_state(&self, identity: &EmailIdentity) -> Result<Option<IdentityState>, IdentityCallError>;
    /// Deletes it at the provider; one that is gone already is not an error.
    async fn delete_identity(&self, identity: &EmailIdentity) -> Result<(), IdentityCallError>;
}
