//! The built-in provider of test keys: the whole pipeline runs, no provider is called, and
//! delivery is recorded at once.
use crate::Carrier;
use async_trait::async_trait;
use herald_core::ports::{Accepted, Outbound};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::ProviderFailure;

pub struct Simulator;

#[async_trait]
impl Carrier for Simulator {
    async fn send(&self, _out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        let id = format!("sim_{}", ulid::Ulid::new().to_string().to_lowercase());
        Ok(Accepted { provider_message_id: id, delivered: true, linked: true })
    }

    fn account(&self, _: &ChannelSecrets, _: Option<&ChannelConfig>) -> Option<String> {
        Some("builtin".into())
    }
}
