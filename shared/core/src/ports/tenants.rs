use super::StoreResult;
use crate::ids::TenantId;
use crate::tenant::{ApiKeyRecord, Tenant};
use async_trait::async_trait;

/// Tenant records.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates the tenant with its first keys.
    async fn insert_tenant(&self, tenant: &Tenant, keys: &[ApiKeyRecord]) -> StoreResult<()>;
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Every tenant (scheduled jobs only; paged through an index, never a scan).
    async fn all_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Read from the table itself, past any cache: the copy every write starts from.
    async fn fresh_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.tenant(id).await
    }
    /// Replaces the tenant record if it is still at `tenant.version` (the version read),
    /// and bumps it; `Conflict` when another write came first.
    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
}
