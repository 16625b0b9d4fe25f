//! SMTP, the email backup: lettre with STARTTLS to the tenant's relay.
mod errors;
mod send;

pub use errors::ROWS;

use crate::Carrier;
use async_trait::async_trait;
use herald_core::ports::{Accepted, Outbound};
use herald_core::ProviderFailure;

pub struct Smtp;

#[async_trait]
impl Carrier for Smtp {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        send::send(out).await
    }
}
