use super::{Page, StoreResult};
use crate::guards::DncEntry;
use crate::ids::TenantId;
use async_trait::async_trait;

/// Each tenant's do-not-contact list, keyed by the normalised address.
#[async_trait]
pub trait DncStore: Send + Sync {
    async fn dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>>;
    /// The entry as an eventually consistent read sees it (half the read cost; an entry
    /// written within about a second may not show yet): the per-message checks.
    async fn dnc_recent(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>> {
        self.dnc(tenant, address).await
    }
    async fn put_dnc(&self, entry: &DncEntry) -> StoreResult<()>;
    async fn delete_dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<bool>;
    async fn list_dnc(&self, tenant: &TenantId, limit: u32, cursor: Option<&str>) -> StoreResult<Page<DncEntry>>;
}
