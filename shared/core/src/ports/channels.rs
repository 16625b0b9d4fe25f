use super::StoreResult;
use crate::channel::Channel;
use crate::ids::TenantId;
use crate::tenant::ChannelConfig;
use async_trait::async_trait;

/// Each tenant's channel configuration (never the credentials: those are secrets).
#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn save_channel(&self, cfg: &ChannelConfig) -> StoreResult<()>;
    async fn channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>>;
    async fn channels(&self, tenant: &TenantId) -> StoreResult<Vec<ChannelConfig>>;
}

/// Which tenant a WhatsApp phone_number_id / verify token belongs to.
#[async_trait]
pub trait WhatsappIndex: Send + Sync {
    /// Claims the phone_number_id for the tenant; `Conflict` when another tenant holds it.
    async fn set_whatsapp_index(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        verify_token_hash: &str,
    ) -> StoreResult<()>;
    async fn whatsapp_tenant(&self, phone_number_id: &str) -> StoreResult<Option<TenantId>>;
    async fn whatsapp_tenant_by_token(&self, verify_token_hash: &str) -> StoreResult<Option<TenantId>>;
}
