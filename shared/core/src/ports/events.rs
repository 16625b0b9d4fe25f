use super::StoreResult;
use crate::channel::Provider;
use crate::ids::TenantId;
use crate::inbound::{InboundMessage, Receipt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Provider event ids already applied (webhook deduplication).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Whether the event was applied already.
    async fn seen(&self, key: &str) -> StoreResult<bool>;
    /// Records an applied event id; false when it was already recorded.
    async fn first_event(&self, key: &str, expires_at: i64) -> StoreResult<bool>;
}

/// Messages people sent to a tenant's numbers.
#[async_trait]
pub trait InboundStore: Send + Sync {
    async fn save_inbound(&self, m: &InboundMessage) -> StoreResult<()>;
    async fn inbound(
        &self,
        tenant: &TenantId,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<InboundMessage>>;
}

/// Receipts that arrived before the sender stored the provider's id.
#[async_trait]
pub trait OrphanStore: Send + Sync {
    async fn save_orphan(&self, receipt: &Receipt) -> StoreResult<()>;
    async fn take_orphans(&self, provider: Provider, provider_message_id: &str) -> StoreResult<Vec<Receipt>>;
    /// Orphans kept since before `before` (the sweep's work list), oldest first. An entry that
    /// does not read is set aside by the store (logged, counted), never returned.
    async fn old_orphans(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<OrphanRef>>;
    /// Drops the receipts kept for one provider message id (they never found their message).
    async fn drop_orphans(&self, provider: Provider, provider_message_id: &str) -> StoreResult<()>;
}

/// One kept receipt in the sweep's work list: what to look up, and since when it waits.
#[derive(Debug, Clone, PartialEq)]
pub struct OrphanRef {
    pub provider: Provider,
    pub provider_message_id: String,
    pub at: DateTime<Utc>,
}
