//! Twilio Programmable Messaging: send (`POST …/Messages.json`), lookup for stale recovery
//! (`GET …/Messages.json`), status and inbound webhooks signed with `X-Twilio-Signature`.
pub mod credentials;
mod errors;
mod numbers;
mod send;
mod signature;
mod voice;
mod voice_api;
mod webhook;

pub use errors::{status, ROWS};
pub use signature::{twilio_signature, twilio_valid};
pub use webhook::TwilioWebhook;

use crate::{Carrier, HttpProviders};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ports::CredentialProblem;
use herald_core::ports::{Accepted, Lookup, Outbound};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::ProviderFailure;

/// The provider's API, unless `TWILIO_API_BASE` names another.
pub const API_BASE: &str = "https://api.twilio.com";

pub struct Twilio {
    http: HttpProviders,
}

impl Twilio {
    pub fn new(http: HttpProviders) -> Self {
        Self { http }
    }
}

#[async_trait]
impl Carrier for Twilio {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(&self.http, out).await
    }

    async fn lookup(&self, out: &Outbound<'_>, since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        send::lookup(&self.http, out, since).await
    }

    async fn owns_number(&self, secrets: &ChannelSecrets, number: &str) -> Result<bool, ProviderFailure> {
        numbers::in_account(&self.http, secrets, number).await
    }

    async fn available_number(
        &self,
        secrets: &ChannelSecrets,
        area_code: &str,
    ) -> Result<Option<String>, ProviderFailure> {
        numbers::available(&self.http, secrets, area_code).await
    }

    async fn buy_number(&self, secrets: &ChannelSecrets, number: &str, adopt: bool) -> Result<String, ProviderFailure> {
        numbers::buy(&self.http, secrets, number, adopt).await
    }

    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        credentials::check(raw)
    }

    fn account(&self, secrets: &ChannelSecrets, _: Option<&ChannelConfig>) -> Option<String> {
        credentials::of(secrets).ok().map(|c| c.account_sid)
    }

    fn registers_numbers(&self) -> bool {
        true
    }
}
