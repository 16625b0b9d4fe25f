//! A provider is its folder and one `register` line: everything the core asks of a provider
//! (credentials, account naming, number registration, ownership, sending) is answered by
//! its carrier, and a provider not registered is refused, never a panic.
use crate::common::require;
use crate::{Carrier, Registry};
use async_trait::async_trait;
use herald_core::address::{Address, E164};
use herald_core::message::Message;
use herald_core::ports::{Accepted, CredentialProblem, Outbound, ProviderGateway};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::{Channel, CorrelationId, KeyMode, Provider, ProviderFailure, TenantId};
use serde_json::json;

/// A new SMS provider, registered in place of a built-in one.
struct Vonage;

#[async_trait]
impl Carrier for Vonage {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        Ok(Accepted { provider_message_id: format!("V-{}", out.message.to), delivered: false, linked: false })
    }
    async fn owns_number(&self, _: &ChannelSecrets, number: &str) -> Result<bool, ProviderFailure> {
        Ok(number == "+14155550001")
    }
    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        require(
            raw.get("api_secret").and_then(|s| s.as_str()).is_some_and(|s| s.len() >= 8),
            "api_secret",
            "8 characters or more",
        )
    }
    fn account(&self, secrets: &ChannelSecrets, _: Option<&ChannelConfig>) -> Option<String> {
        secrets.get(Provider::Telnyx)?.get("api_key")?.as_str().map(|k| format!("vonage:{k}"))
    }
    fn registers_numbers(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_registered_carrier_answers_everything_the_core_asks() {
    let registry = Registry::default().register(Provider::Telnyx, Vonage);
    let gateway: &dyn ProviderGateway = &registry;
    let p = Provider::Telnyx;
    assert!(gateway.check_credentials(p, &json!({"api_key": "k1", "api_secret": "12345678"})).is_ok());
    let refused = gateway.check_credentials(p, &json!({"api_key": "k1", "api_secret": "short"})).unwrap_err();
    assert_eq!(refused.field, "api_secret");
    let secrets = ChannelSecrets::default().with(p, json!({"api_key": "k1", "api_secret": "12345678"}));
    assert_eq!(gateway.account(p, &secrets, None).as_deref(), Some("vonage:k1"));
    assert!(gateway.registers_numbers(p));
    assert!(gateway.owns_number(p, &secrets, "+14155550001").await.unwrap());
    assert!(!gateway.owns_number(p, &secrets, "+14155550002").await.unwrap());
    let to = Address::Phone(E164::from_stored("+14155550100".into()));
    let msg = Message::draft(
        TenantId::generate(),
        Channel::Sms,
        to,
        CorrelationId::generate(),
        KeyMode::Live,
        chrono::Utc::now(),
    );
    let out = Outbound { provider: p, secrets: &secrets, config: None, message: &msg, from: Some("+14155550001") };
    assert_eq!(gateway.send(&out).await.unwrap().provider_message_id, "V-+14155550100");

    // Not registered: refused with a reason, not a panic or a silent yes.
    let twilio = Provider::Twilio;
    assert!(gateway.check_credentials(twilio, &json!({})).unwrap_err().what.contains("not built in"));
    assert_eq!(gateway.account(twilio, &secrets, None), None);
    assert!(!gateway.registers_numbers(twilio));
    assert!(gateway.send(&Outbound { provider: twilio, ..out }).await.is_err());
}
