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
    /// Replaces the tenant record (it must exist).
    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
}
