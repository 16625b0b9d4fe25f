//! SMTP, the email backup: lettre with STARTTLS to the tenant's relay.
pub mod credentials;
mod errors;
mod send;

pub use errors::ROWS;

use crate::Carrier;
use async_trait::async_trait;
use herald_core::ports::{Accepted, CredentialProblem, Outbound};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::ProviderFailure;

pub struct Smtp;

#[async_trait]
impl Carrier for Smtp {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(out).await
    }

    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        credentials::check(raw)
    }

    fn account(&self, secrets: &ChannelSecrets, _: Option<&ChannelConfig>) -> Option<String> {
        credentials::account(secrets)
    }
}
