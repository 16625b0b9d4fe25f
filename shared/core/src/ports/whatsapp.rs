use super::StoreResult;
use crate::guards::QuotaState;
use crate::ids::TenantId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The WhatsApp 24 h customer-service window: when each contact last wrote in.
#[async_trait]
pub trait WindowStore: Send + Sync {
    async fn whatsapp_window(&self, tenant: &TenantId, phone: &str) -> StoreResult<Option<DateTime<Utc>>>;
    async fn open_whatsapp_window(&self, tenant: &TenantId, phone: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// Each tenant's daily WhatsApp quota.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    async fn quota(&self, tenant: &TenantId) -> StoreResult<Option<QuotaState>>;
    /// Starts a new quota period (sent = 0); `previous_reset` guards against a double roll.
    async fn roll_quota(&self, state: &QuotaState, previous_reset: Option<DateTime<Utc>>) -> StoreResult<bool>;
    /// Counts one send if `sent < below`; false otherwise.
    async fn take_quota(&self, tenant: &TenantId, below: u32) -> StoreResult<Option<u32>>;
    async fn quota_tenants(&self) -> StoreResult<Vec<TenantId>>;
}
