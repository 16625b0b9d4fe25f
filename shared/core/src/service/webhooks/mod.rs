//! Provider webhooks (CONTRACT §9), whatever the provider: every account a request speaks
//! for must have signed it with its own credentials — one that did not refuses the request
//! with nothing applied — then the events it carries are applied, each once, and a call
//! event's answer is the reply. The provider's module reads the request
//! (`ports::ReceivedWebhook`); the webhooks function only translates HTTP.
#[cfg(test)]
mod tests;

use super::receipts::Receipts;
use super::support::Audit;
use super::tenancy::ProviderAccounts;
use super::voice::Voice;
use super::HeraldError;
use crate::ids::TenantId;
use crate::ports::{Account, ProviderEvent, ReceivedWebhook, Reply};
use crate::tenant::ChannelSecrets;
use crate::Provider;
use std::sync::Arc;

/// Why a webhook was not applied.
#[derive(Debug, PartialEq)]
pub enum WebhookError {
    /// Refused (`401`): no account, or a signature that does not verify. Logged, counted and
    /// audited with its reason.
    Refused,
    /// A dependency failed after the request was verified: the provider retries.
    Failed(HeraldError),
}

impl From<HeraldError> for WebhookError {
    fn from(e: HeraldError) -> Self {
        WebhookError::Failed(e)
    }
}

pub struct Webhooks {
    accounts: Arc<ProviderAccounts>,
    receipts: Arc<Receipts>,
    voice: Arc<Voice>,
    audit: Arc<Audit>,
}

impl Webhooks {
    pub fn new(accounts: Arc<ProviderAccounts>, receipts: Arc<Receipts>, voice: Arc<Voice>, audit: Arc<Audit>) -> Self {
        Self { accounts, receipts, voice, audit }
    }

    /// Verifies a webhook against every account it speaks for, then applies what it says.
    #[tracing::instrument(name = "webhook", skip_all, fields(provider = %req.provider()))]
    pub async fn handle(&self, req: &dyn ReceivedWebhook) -> Result<Reply, WebhookError> {
        let provider = req.provider();
        let accounts = match req.accounts() {
            Ok(a) => a,
            Err(r) => return Err(self.refuse(provider, None, &r.0).await),
        };
        let mut verified = Vec::with_capacity(accounts.len());
        for account in accounts {
            let Some((tenant, secrets)) = self.credentials(&account).await? else {
                return Err(self.refuse(provider, None, "account not registered").await);
            };
            if let Err(r) = req.verify(&secrets) {
                return Err(self.refuse(provider, Some(&tenant), &r.0).await);
            }
            verified.push((account, tenant));
        }
        let mut call_answer = None;
        for (account, tenant) in &verified {
            for event in req.events(account, tenant) {
                match event {
                    ProviderEvent::Call { event } => call_answer = Some(self.voice.handle(tenant, event).await?),
                    other => self.apply(provider, other).await?,
                }
            }
        }
        Ok(req.reply(call_answer.as_ref()))
    }

    async fn credentials(&self, account: &Account) -> Result<Option<(TenantId, ChannelSecrets)>, HeraldError> {
        match account {
            Account::Number(n) => self.accounts.by_number(n).await,
            Account::WhatsappPhoneNumberId(id) => self.accounts.by_whatsapp_id(id).await,
        }
    }

    async fn refuse(&self, provider: Provider, tenant: Option<&TenantId>, reason: &str) -> WebhookError {
        tracing::warn!(provider = %provider, reason, "webhook refused");
        self.audit.webhook_refused(provider, tenant, reason).await;
        WebhookError::Refused
    }

    async fn apply(&self, provider: Provider, event: ProviderEvent) -> Result<(), HeraldError> {
        let receipts = &self.receipts;
        match event {
            // A receipt needs no event log: the message's state machine applies each status
            // once (a duplicate finds it already there): one read and one conditional write.
            ProviderEvent::Receipt { event_id: _, receipt } => {
                receipts.apply_receipt(&receipt).await?;
            }
            ProviderEvent::Inbound { event_id, message } => {
                receipts.once(provider, &event_id, || receipts.handle_inbound(message)).await?;
            }
            ProviderEvent::Call { .. } => {}
        }
        Ok(())
    }
}
