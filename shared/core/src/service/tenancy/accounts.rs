//! Whose provider account a webhook speaks for: the tenant owning a number (SMS) or a
//! WhatsApp phone_number_id, with the credentials that must have signed it.
use crate::channel::Channel;
use crate::ids::TenantId;
use crate::ports::{ChannelStore, NumberStore, SecretStore, WhatsappIndex};
use crate::service::support::channel_secrets;
use crate::service::HeraldError;
use crate::tenant::ChannelSecrets;
use std::sync::Arc;

pub struct ProviderAccounts {
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) wa_index: Arc<dyn WhatsappIndex>,
}

impl ProviderAccounts {
    /// The tenant owning `number`, and its SMS channel credentials.
    pub async fn by_number(&self, number: &str) -> Result<Option<(TenantId, ChannelSecrets)>, HeraldError> {
        let Some(n) = self.numbers.number(number).await? else { return Ok(None) };
        self.credentials(n.tenant_id, Channel::Sms).await
    }

    /// The tenant owning a WhatsApp phone_number_id, and its WhatsApp credentials.
    pub async fn by_whatsapp_id(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<(TenantId, ChannelSecrets)>, HeraldError> {
        let Some(tenant) = self.wa_index.whatsapp_tenant(phone_number_id).await? else { return Ok(None) };
        self.credentials(tenant, Channel::Whatsapp).await
    }

    /// Whether some tenant configured this WhatsApp verify token (by its SHA-256).
    pub async fn knows_verify_token(&self, token_hash: &str) -> bool {
        self.wa_index.whatsapp_tenant_by_token(token_hash).await.ok().flatten().is_some()
    }

    async fn credentials(
        &self,
        tenant: TenantId,
        channel: Channel,
    ) -> Result<Option<(TenantId, ChannelSecrets)>, HeraldError> {
        let Some(cfg) = self.channels.effective_channel(&tenant, channel).await? else { return Ok(None) };
        let secrets = channel_secrets(self.secrets.as_ref(), &cfg).await?;
        Ok(Some((tenant, secrets)))
    }
}

impl ProviderAccounts {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(a: &crate::service::Adapters) -> Self {
        Self {
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            wa_index: a.db.clone(),
        }
    }
}
