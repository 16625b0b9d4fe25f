//! Telnyx Messaging: send (`POST /v2/messages`), the number APIs linking uses, and
//! webhooks signed with Ed25519 (`telnyx-signature-ed25519` + `telnyx-timestamp`).
mod errors;
mod numbers;
mod send;
mod signature;
mod webhook;

pub use errors::{status, ROWS};
pub use signature::{telnyx_verify, TelnyxSignatureError, TELNYX_TOLERANCE_SECS};
pub use webhook::TelnyxWebhook;

use crate::{Carrier, HttpProviders, Webhook};
use async_trait::async_trait;
use herald_core::ports::{Accepted, Outbound};
use herald_core::ProviderFailure;

pub struct Telnyx {
    http: HttpProviders,
    webhook: TelnyxWebhook,
}

impl Telnyx {
    pub fn new(http: HttpProviders) -> Self {
        Self { http, webhook: TelnyxWebhook }
    }
}

#[async_trait]
impl Carrier for Telnyx {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(&self.http, out).await
    }

    fn webhook(&self) -> Option<&dyn Webhook> {
        Some(&self.webhook)
    }
}
