//! WhatsApp Cloud API: send (`POST /{version}/{phone_number_id}/messages`), and webhooks
//! signed with `X-Hub-Signature-256`, with Meta's GET subscription handshake.
pub mod credentials;
mod errors;
mod phone;
mod send;
mod signature;
mod webhook;

pub use errors::{status, ROWS};
pub use send::payload;
pub use signature::{meta_signature, meta_valid};
pub use webhook::WhatsappWebhook;

use crate::{Carrier, HttpProviders};
use async_trait::async_trait;
use herald_core::ports::{Accepted, CredentialProblem, Outbound};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::ProviderFailure;

/// The provider's API, unless `WHATSAPP_API_BASE` names another.
pub const API_BASE: &str = "https://graph.facebook.com";

pub struct Whatsapp {
    http: HttpProviders,
}

impl Whatsapp {
    pub fn new(http: HttpProviders) -> Self {
        Self { http }
    }
}

#[async_trait]
impl Carrier for Whatsapp {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(&self.http, out).await
    }

    /// For WhatsApp the "number" is the phone_number_id, reached with the tenant's token.
    async fn owns_number(&self, secrets: &ChannelSecrets, phone_number_id: &str) -> Result<bool, ProviderFailure> {
        phone::accessible(&self.http, secrets, phone_number_id).await
    }

    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        credentials::check(raw)
    }

    /// The WhatsApp Business number the channel sends from names the account.
    fn account(&self, _: &ChannelSecrets, config: Option<&ChannelConfig>) -> Option<String> {
        config.and_then(|c| c.phone_number_id.clone())
    }
}
