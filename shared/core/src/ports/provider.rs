use crate::channel::Provider;
use crate::errors::ProviderFailure;
use crate::message::Message;
use crate::tenant::{ChannelConfig, ChannelSecrets};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One outbound send, resolved: provider, credentials and content.
#[derive(Debug, Clone)]
pub struct Outbound<'a> {
    pub provider: Provider,
    pub secrets: &'a ChannelSecrets,
    pub config: Option<&'a ChannelConfig>,
    pub message: &'a Message,
    pub from: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub provider_message_id: String,
    /// Some providers (the built-in simulator) confirm delivery synchronously.
    pub delivered: bool,
    /// The provider echoes Herald's message id in its receipts (per-message callback URL,
    /// `biz_opaque_callback_data`, message tags): a receipt finds the message by that id, so
    /// the sender need not look for receipts that arrived before it recorded the send.
    pub linked: bool,
}

/// What a provider knows about a message Herald may or may not have handed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found {
        provider_message_id: String,
        delivered: bool,
    },
    NotFound,
    /// The provider offers no way to look a message up by its content.
    Unsupported,
}

/// Credentials a provider refuses: which of its fields, and what it must be.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialProblem {
    /// The field inside the provider's credentials (`account_sid`), or empty for the whole.
    pub field: String,
    pub what: String,
}

/// Every provider, reached through one registry keyed by `Provider`. What a provider's
/// credentials look like, how its accounts are named and what it can do are the provider's
/// own (its module in `herald-providers`): the core asks here.
#[async_trait]
pub trait ProviderGateway: Send + Sync {
    /// Checks credentials as the provider reads them, before they are stored.
    fn check_credentials(&self, provider: Provider, credentials: &serde_json::Value) -> Result<(), CredentialProblem>;
    /// The provider account a send goes through (its circuit breaker's key), if the
    /// credentials name one.
    fn account(&self, provider: Provider, secrets: &ChannelSecrets, config: Option<&ChannelConfig>) -> Option<String>;
    /// Whether tenants register their own numbers of this provider (ownership is proven
    /// with `owns_number`).
    fn registers_numbers(&self, provider: Provider) -> bool;
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure>;
    /// Finds a message sent at or after `since` matching `out` (recipient, sender, body).
    async fn lookup(&self, _out: &Outbound<'_>, _since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        Ok(Lookup::Unsupported)
    }
    /// Whether `number` is in the provider account `secrets` open (ownership proof).
    async fn owns_number(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        number: &str,
    ) -> Result<bool, ProviderFailure>;
    /// Whether the WhatsApp credentials reach this phone_number_id.
    async fn whatsapp_accessible(
        &self,
        secrets: &ChannelSecrets,
        phone_number_id: &str,
    ) -> Result<bool, ProviderFailure>;
}
