//! The operator's platform accounts (CONTRACT §15) and the rule that keeps a webhook
//! signing secret to one tenant (security review L-2).
use super::channels::{ChannelParts, ChannelUpdate, ChannelView, Channels};
use crate::channel::Provider;
use crate::ids::TenantId;
use crate::ports::StoreError;
use crate::service::{Caller, HeraldError};
use crate::tenant::ChannelSecrets;

impl Channels {
    /// `PUT /v1/admin/platform/channels/{channel}`: the operator's own provider accounts,
    /// used by every tenant whose channel names none (CONTRACT §15). Its sender address is
    /// the operator's, not a tenant's claim.
    pub async fn put_platform_channel(
        &self,
        caller: &Caller,
        update: ChannelUpdate,
    ) -> Result<ChannelView, HeraldError> {
        caller.require_admin()?;
        let parts = ChannelParts::parse(update, self.providers.as_ref())?;
        self.store(caller, &TenantId::platform(), parts).await
    }

    /// `GET /v1/admin/platform/channels`.
    pub async fn platform_channels(&self, caller: &Caller) -> Result<Vec<ChannelView>, HeraldError> {
        caller.require_admin()?;
        Ok(self.channels.channels(&TenantId::platform()).await?.into_iter().map(Into::into).collect())
    }

    /// Each webhook signing secret belongs to one tenant (L-2): Twilio's auth token, Telnyx's
    /// public key, WhatsApp's app secret. Accounts shared between tenants are the operator's
    /// platform channels, never a secret two tenants both configure.
    pub(super) async fn claim_signing_secrets(
        &self,
        tenant: &TenantId,
        secrets: &ChannelSecrets,
    ) -> Result<(), HeraldError> {
        use sha2::{Digest, Sha256};
        for (provider, field) in [
            (Provider::Twilio, "auth_token"),
            (Provider::Telnyx, "webhook_public_key"),
            (Provider::Whatsapp, "app_secret"),
        ] {
            let Some(secret) = secrets.get(provider).and_then(|c| c.get(field)).and_then(|v| v.as_str()) else {
                continue;
            };
            let digest = hex::encode(Sha256::digest(format!("{provider}:{secret}").as_bytes()));
            match self.wa_index.claim(tenant, &format!("sign#{digest}")).await {
                Ok(_) => {}
                Err(StoreError::Conflict) => {
                    return Err(HeraldError::AlreadyClaimed(format!(
                        "these {provider} credentials are another tenant's; an account shared by tenants is set once by the operator as the platform's"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
