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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("email identity not prepared: {0}")]
pub struct IdentityError(pub String);

/// Every provider, reached through one registry keyed by `Provider`.
#[async_trait]
pub trait ProviderGateway: Send + Sync {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure>;
    /// Finds a message sent at or after `since` matching `out` (recipient, sender, body).
    async fn lookup(&self, _out: &Outbound<'_>, _since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        Ok(Lookup::Unsupported)
    }
    /// Makes a sender address usable (locally: creates the SES identity in the emulator;
    /// in AWS identities are verified once, out of band, so this does nothing).
    async fn prepare_email_identity(&self, _from: &str) -> Result<(), IdentityError> {
        Ok(())
    }
}
