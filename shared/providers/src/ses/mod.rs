//! Amazon SES v2: `SendEmail` (tagged with Herald's message and tenant ids) and its events
//! (delivery, bounce, complaint) arriving through SNS.
mod errors;
pub mod events;
mod identities;
mod pace;
mod send;

pub use errors::ROWS;
pub use identities::SesIdentities;
pub use pace::Pacer;
pub use send::{Email, SesEmail};

use crate::Carrier;
use async_trait::async_trait;
use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};

pub struct Ses {
    client: SesEmail,
}

impl Ses {
    pub fn new(client: SesEmail) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Carrier for Ses {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        let m = out.message;
        let from = out.from.ok_or_else(|| ProviderFailure::transport(Provider::Ses, "no from_address configured"))?;
        let email = Email {
            from,
            to: &m.to,
            subject: m.subject.as_deref().unwrap_or_default(),
            text: m.body.as_deref(),
            html: m.html.as_deref(),
            message_id: m.id.as_str(),
            tenant_id: m.tenant_id.as_str(),
        };
        let id = self.client.send(&email).await?;
        Ok(Accepted { provider_message_id: id, delivered: false, linked: true })
    }
}
