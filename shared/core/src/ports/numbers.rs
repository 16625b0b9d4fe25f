use super::StoreResult;
use crate::ids::TenantId;
use crate::tenant::SendingNumber;
use async_trait::async_trait;

/// Sending numbers; a number belongs to at most one tenant.
#[async_trait]
pub trait NumberStore: Send + Sync {
    /// Registers a number; `Conflict` when another tenant already owns it.
    async fn save_number(&self, number: &SendingNumber) -> StoreResult<()>;
    async fn numbers(&self, tenant: &TenantId) -> StoreResult<Vec<SendingNumber>>;
    /// Global lookup (webhooks find the tenant from the number).
    async fn number(&self, e164: &str) -> StoreResult<Option<SendingNumber>>;
    async fn delete_number(&self, tenant: &TenantId, e164: &str) -> StoreResult<bool>;
}
