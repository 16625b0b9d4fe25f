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

/// One provider: everything Herald asks of it. Each provider's module in `herald-providers`
/// implements it (what its credentials look like, how its accounts are named, what it can
/// do are its own); the registry finds it by `Provider`.
#[async_trait]
pub trait Carrier: Send + Sync {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure>;
    /// Finds a message sent at or after `since` matching `out`, where the provider can.
    async fn lookup(&self, _out: &Outbound<'_>, _since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        Ok(Lookup::Unsupported)
    }
    /// Whether `number` (WhatsApp: the phone_number_id) is in the account `secrets` open.
    async fn owns_number(&self, _secrets: &ChannelSecrets, _number: &str) -> Result<bool, ProviderFailure> {
        Ok(false)
    }
    /// A number for sale in the (US/Canada) area code, if any.
    async fn available_number(
        &self,
        _secrets: &ChannelSecrets,
        _area_code: &str,
    ) -> Result<Option<String>, ProviderFailure> {
        Err(ProviderFailure::transport(Provider::Simulator, "this provider sells no numbers through Herald"))
    }
    /// Buys `number` into the account `secrets` open. Already in the account: taken as bought
    /// when `adopt` (a retry of this very purchase), else refused (the account's own number).
    async fn buy_number(
        &self,
        _secrets: &ChannelSecrets,
        _number: &str,
        _adopt: bool,
    ) -> Result<String, ProviderFailure> {
        Err(ProviderFailure::transport(Provider::Simulator, "this provider sells no numbers through Herald"))
    }
    /// Checks a tenant's credentials for this provider before they are stored. A provider
    /// that takes none refuses any.
    fn check_credentials(&self, _raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        Err(CredentialProblem { field: String::new(), what: "absent: this provider takes no credentials".into() })
    }
    /// The provider account a send goes through (its circuit breaker's key).
    fn account(&self, _secrets: &ChannelSecrets, _config: Option<&ChannelConfig>) -> Option<String> {
        None
    }
    /// Tenants register numbers of this provider (their ownership proven by `owns_number`).
    fn registers_numbers(&self) -> bool {
        false
    }
}

/// Every provider Herald speaks to, by name (the registry).
pub trait ProviderGateway: Send + Sync {
    fn carrier(&self, provider: Provider) -> Option<&dyn Carrier>;
}

/// What the core asks, by provider: a provider that is not registered is refused (a
/// transport failure, a credential problem, no account, no numbers), never a panic.
impl dyn ProviderGateway + '_ {
    fn require(&self, provider: Provider) -> Result<&dyn Carrier, ProviderFailure> {
        self.carrier(provider)
            .ok_or_else(|| ProviderFailure::transport(provider, format!("{provider} is not registered")))
    }

    pub async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        self.require(out.provider)?.send(out).await
    }

    pub async fn lookup(&self, out: &Outbound<'_>, since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        self.require(out.provider)?.lookup(out, since).await
    }

    pub async fn owns_number(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        number: &str,
    ) -> Result<bool, ProviderFailure> {
        self.require(provider)?.owns_number(secrets, number).await
    }

    pub async fn available_number(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        area_code: &str,
    ) -> Result<Option<String>, ProviderFailure> {
        self.require(provider)?.available_number(secrets, area_code).await
    }

    pub async fn buy_number(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        number: &str,
        adopt: bool,
    ) -> Result<String, ProviderFailure> {
        self.require(provider)?.buy_number(secrets, number, adopt).await
    }

    /// Whether the WhatsApp credentials reach this phone_number_id.
    pub async fn whatsapp_accessible(&self, secrets: &ChannelSecrets, id: &str) -> Result<bool, ProviderFailure> {
        self.owns_number(Provider::Whatsapp, secrets, id).await
    }

    pub fn check_credentials(&self, provider: Provider, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        match self.carrier(provider) {
            Some(c) => c.check_credentials(raw),
            None => {
                Err(CredentialProblem { field: String::new(), what: format!("absent: {provider} is not built in") })
            }
        }
    }

    pub fn account(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        config: Option<&ChannelConfig>,
    ) -> Option<String> {
        self.carrier(provider)?.account(secrets, config)
    }

    pub fn registers_numbers(&self, provider: Provider) -> bool {
        self.carrier(provider).is_some_and(|c| c.registers_numbers())
    }
}
