//! A provider webhook as the core sees it: the provider's module has read the request and
//! answers for it — which accounts must have signed it, whether one account's credentials
//! verify it, the events it carries, and what to answer the provider.
use crate::channel::Provider;
use crate::ids::TenantId;
use crate::inbound::{InboundMessage, Receipt};
use crate::tenant::ChannelSecrets;
use crate::voice::{CallAnswer, CallEvent};

/// Whose provider account a webhook speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// A tenant's sending number (SMS providers).
    Number(String),
    /// A tenant's WhatsApp phone_number_id.
    WhatsappPhoneNumberId(String),
}

/// One thing a provider told Herald, with the provider's id for it (deduplication).
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Receipt {
        event_id: String,
        receipt: Receipt,
    },
    Inbound {
        event_id: String,
        message: InboundMessage,
    },
    /// A call event: Herald's answer to it is the webhook's reply.
    Call {
        event: CallEvent,
    },
}

/// Why a webhook was refused (logged and audited; never a secret or the signature itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

pub fn rejected(reason: impl Into<String>) -> Rejected {
    Rejected(reason.into())
}

/// What to answer the provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub content_type: Option<&'static str>,
    pub body: String,
}

/// One received webhook request, read by its provider's module.
pub trait ReceivedWebhook: Send + Sync {
    fn provider(&self) -> Provider;
    /// The accounts whose credentials must each verify the request.
    fn accounts(&self) -> Result<Vec<Account>, Rejected>;
    /// Checks the signature with one account's credentials.
    fn verify(&self, secrets: &ChannelSecrets) -> Result<(), Rejected>;
    /// The events the request carries for `account`, which belongs to `tenant`.
    fn events(&self, account: &Account, tenant: &TenantId) -> Vec<ProviderEvent>;
    /// What to answer: the provider's acknowledgement, or Herald's answer to a call.
    fn reply(&self, call: Option<&CallAnswer>) -> Reply;
}
