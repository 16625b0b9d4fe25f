//! Webhooks on in-memory ports, with a provider request that signs with a given token.
use super::WebhookError;
use crate::inbound::Receipt;
use crate::ports::{rejected, Account, ProviderEvent, ReceivedWebhook, Rejected, Reply};
use crate::service::testing::Harness;
use crate::tenant::ChannelSecrets;
use crate::{Provider, Status, TenantId};
use serde_json::json;

/// A receipt for `pmid`, signed with `token`, from each of `numbers`.
struct Signed {
    numbers: Vec<&'static str>,
    token: String,
    pmid: String,
}

impl ReceivedWebhook for Signed {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }
    fn accounts(&self) -> Result<Vec<Account>, Rejected> {
        Ok(self.numbers.iter().map(|n| Account::Number(n.to_string())).collect())
    }
    fn verify(&self, secrets: &ChannelSecrets) -> Result<(), Rejected> {
        let token = secrets.get(Provider::Twilio).and_then(|c| c["auth_token"].as_str()).unwrap_or_default();
        if token == self.token {
            Ok(())
        } else {
            Err(rejected("signature mismatch"))
        }
    }
    fn events(&self, _: &Account, tenant: &TenantId) -> Vec<ProviderEvent> {
        let receipt = Receipt {
            provider: Provider::Twilio,
            provider_message_id: self.pmid.clone(),
            status: Status::Delivered,
            error_code: None,
            error: None,
            error_message: None,
            at: chrono::Utc::now(),
            price_cents: None,
            message_id: None,
            tenant_id: Some(tenant.clone()),
        };
        vec![ProviderEvent::Receipt { event_id: format!("ev-{}", self.pmid), receipt }]
    }
    fn reply(&self, _: Option<&crate::voice::CallAnswer>) -> Reply {
        Reply { content_type: Some("text/plain"), body: "ok".into() }
    }
}

async fn sent(h: &Harness) -> (crate::MessageId, String) {
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "hi"})).await.unwrap();
    h.send_next().await.unwrap();
    let pmid = h.message(&id).provider_message_id.unwrap();
    (id, pmid)
}

fn refusals(h: &Harness) -> usize {
    h.mem.with(|s| s.audit.iter().filter(|e| e.action == "webhook.signature_failed").count())
}

#[tokio::test]
async fn a_signed_receipt_is_applied_and_answered() {
    let h = Harness::new();
    let (id, pmid) = sent(&h).await;
    let req = Signed { numbers: vec!["+14155550001"], token: "t".repeat(32), pmid };
    let reply = h.services.webhooks.handle(&req).await.unwrap();
    assert_eq!(reply.body, "ok");
    assert_eq!(h.message(&id).status, Status::Delivered);
}

#[tokio::test]
async fn a_bad_signature_or_an_unknown_account_applies_nothing_and_is_audited() {
    let h = Harness::new();
    let (id, pmid) = sent(&h).await;
    let forged = Signed { numbers: vec!["+14155550001"], token: "f".repeat(32), pmid: pmid.clone() };
    assert_eq!(h.services.webhooks.handle(&forged).await.unwrap_err(), WebhookError::Refused);
    let unknown = Signed { numbers: vec!["+14155550999"], token: "t".repeat(32), pmid: pmid.clone() };
    assert_eq!(h.services.webhooks.handle(&unknown).await.unwrap_err(), WebhookError::Refused);
    // Every account must have signed: one good account does not carry one that is not ours.
    let mixed = Signed { numbers: vec!["+14155550001", "+14155550999"], token: "t".repeat(32), pmid };
    assert_eq!(h.services.webhooks.handle(&mixed).await.unwrap_err(), WebhookError::Refused);
    assert_eq!(h.message(&id).status, Status::Sent, "no receipt applied");
    assert!(refusals(&h) >= 1, "refusals are audited");
}
