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
    /// The channel a tenant sends on: its own, else the platform's (CONTRACT §15: a tenant
    /// without provider accounts of its own uses the operator's).
    async fn effective_channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>> {
        match self.channel(tenant, channel).await? {
            Some(own) => Ok(Some(own)),
            None => self.channel(&TenantId::platform(), channel).await,
        }
    }
}

/// Which tenant a WhatsApp phone_number_id, a verify token or a signing secret belongs to.
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
    /// Claims `key` for the tenant: true when this call made the claim, false when the tenant
    /// held it already, `Conflict` when another tenant does. Keys: a webhook signing secret's
    /// digest (security review L-2), a number being bought (`buy#+1…`).
    async fn claim(&self, tenant: &TenantId, key: &str) -> StoreResult<bool>;
    /// Gives a claim up (a purchase the provider refused for sure); only its tenant's.
    async fn release(&self, tenant: &TenantId, key: &str) -> StoreResult<()>;
}
