//! Telnyx Messaging: send (`POST /v2/messages`), the number APIs linking uses, and
//! webhooks signed with Ed25519 (`telnyx-signature-ed25519` + `telnyx-timestamp`).
pub mod credentials;
mod errors;
mod numbers;
mod send;
mod signature;
mod webhook;

pub use errors::{status, ROWS};
pub use signature::{telnyx_verify, TelnyxSignatureError, TELNYX_TOLERANCE_SECS};
pub use webhook::TelnyxWebhook;

use crate::{Carrier, HttpProviders};
use async_trait::async_trait;
use herald_core::ports::{Accepted, CredentialProblem, Outbound};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::ProviderFailure;

/// The provider's API, unless `TELNYX_API_BASE` names another.
pub const API_BASE: &str = "https://api.telnyx.com";

pub struct Telnyx {
    http: HttpProviders,
}

impl Telnyx {
    pub fn new(http: HttpProviders) -> Self {
        Self { http }
    }
}

#[async_trait]
impl Carrier for Telnyx {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(&self.http, out).await
    }

    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        credentials::check(raw)
    }

    fn account(&self, secrets: &ChannelSecrets, _: Option<&ChannelConfig>) -> Option<String> {
        credentials::account(secrets)
    }

    /// Registered through linking (CONTRACT §8): ordered or found in the tenant's account.
    fn registers_numbers(&self) -> bool {
        true
    }
}
