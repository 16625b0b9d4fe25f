//! Routing: which provider carries the message, with which credentials, from which sender.
use super::{JobOutcome, Plan, Sending};
use crate::channel::{Channel, Provider};
use crate::errors::ErrorCode;
use crate::guards::ProviderAccount;
use crate::message::Message;
use crate::service::support::{channel_secrets, update_message};
use crate::service::HeraldError;
use crate::status::Status;
use crate::tenant::{ChannelConfig, ChannelSecrets};
use crate::KeyMode;

/// Why a message cannot go at all: it fails with this code.
pub(crate) struct Unroutable {
    pub code: ErrorCode,
    pub message: String,
}

fn unroutable(code: ErrorCode, message: String) -> Result<Result<Plan, Unroutable>, HeraldError> {
    Ok(Err(Unroutable { code, message }))
}

impl Sending {
    /// Decides provider, credentials and sender for a message, or why it cannot go.
    pub(crate) async fn route(&self, msg: &Message) -> Result<Result<Plan, Unroutable>, HeraldError> {
        let plan = |provider, secrets: ChannelSecrets, config: Option<ChannelConfig>, from| {
            let account = self.account_of(provider, &secrets, config.as_ref());
            Plan { provider, account, secrets, config, from, probe: false, failover: None }
        };
        if msg.key_mode == KeyMode::Test {
            return Ok(Ok(plan(
                Provider::Simulator,
                ChannelSecrets::default(),
                None,
                msg.from.as_ref().map(|f| f.to_string()),
            )));
        }
        let Some(config) = self.channels.effective_channel(&msg.tenant_id, msg.channel).await? else {
            return unroutable(ErrorCode::ProviderError, format!("the {} channel is not configured", msg.channel));
        };
        let provider = config.provider;
        let secrets = channel_secrets(self.secrets.as_ref(), &config).await?;
        if !secrets.has(provider) {
            return unroutable(ErrorCode::AuthenticationError, format!("no {provider} credentials configured"));
        }
        match self.sender_for(msg, &config, provider, msg.from.as_deref()).await? {
            Some(from) => Ok(Ok(plan(provider, secrets, Some(config), Some(from)))),
            None => unroutable(ErrorCode::ProviderError, format!("no {provider} sending number registered")),
        }
    }

    /// A message that cannot be routed fails at once and is dead-lettered.
    pub(crate) async fn fail_unroutable(&self, msg: &Message, why: Unroutable) -> Result<JobOutcome, HeraldError> {
        let (now, generation) = (self.clock.now(), msg.generation);
        let mut released = 0;
        let failed = update_message(self.messages.as_ref(), &msg.id, |m| {
            if m.status != Status::Queued || m.generation != generation {
                return false;
            }
            released = std::mem::take(&mut m.reserved_cents);
            m.record_failure(why.code, None, why.message.clone(), now);
            true
        })
        .await?;
        Ok(match failed {
            Some(m) if m.status == Status::Failed => {
                self.budgets.release(&m, released).await;
                self.outbox.notify(&m).await;
                JobOutcome::DeadLetter { reason: why.code.as_str().into() }
            }
            _ => JobOutcome::Done,
        })
    }

    /// The sender address for `provider`: the requested number if it is one of that
    /// provider's, else a stable pick among the tenant's numbers for it.
    pub(crate) async fn sender_for(
        &self,
        msg: &Message,
        config: &ChannelConfig,
        provider: Provider,
        requested: Option<&str>,
    ) -> Result<Option<String>, HeraldError> {
        Ok(match msg.channel {
            Channel::Sms => {
                if let Some(f) = requested {
                    let number = self.numbers.number(f).await?;
                    if number.is_some_and(|n| n.provider == provider && n.tenant_id == msg.tenant_id) {
                        return Ok(Some(f.to_string()));
                    }
                }
                self.pick_number(msg, provider).await?
            }
            Channel::Email => requested.map(str::to_string).or_else(|| config.from_address.clone()),
            Channel::Whatsapp => config.phone_number_id.clone(),
        })
    }

    /// The same number for a recipient each time: a stable hash over the tenant's numbers.
    async fn pick_number(&self, msg: &Message, provider: Provider) -> Result<Option<String>, HeraldError> {
        let numbers = self.numbers.numbers(&msg.tenant_id).await?;
        let mut numbers: Vec<String> =
            numbers.into_iter().filter(|n| n.provider == provider).map(|n| n.phone_number).collect();
        numbers.sort();
        if numbers.is_empty() {
            return Ok(None);
        }
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(msg.to.as_bytes());
        let idx = u64::from_be_bytes(h[..8].try_into().expect("8 bytes")) % numbers.len() as u64;
        Ok(Some(numbers.swap_remove(idx as usize)))
    }

    /// The provider account a send goes through, from the credentials that open it.
    pub(crate) fn account_of(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        config: Option<&ChannelConfig>,
    ) -> ProviderAccount {
        // SES is the deployment's own account, in its region; the others name theirs.
        let account = match provider {
            Provider::Ses => Some(self.settings.ses_region.clone()),
            _ => self.providers.account(provider, secrets, config),
        };
        ProviderAccount::new(provider, account.unwrap_or_else(|| "unknown".into()))
    }
}
