use super::StoreResult;
use crate::channel::Provider;
use crate::ids::TenantId;
use crate::inbound::{InboundMessage, Receipt};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Provider event ids already applied (webhook deduplication).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Records a provider event id; false when it was already recorded (a duplicate).
    async fn first_event(&self, key: &str, expires_at: i64) -> StoreResult<bool>;
    async fn forget_event(&self, key: &str) -> StoreResult<()>;
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
}
