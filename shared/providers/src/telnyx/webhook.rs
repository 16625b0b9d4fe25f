//! `POST /webhooks/telnyx`: `message.sent`, `message.finalized` (with the cost that settles
//! the budget) and `message.received`. The tenant owns the number the event is about.
use super::errors::{status, ROWS};
use super::signature::telnyx_verify;
use crate::webhook::{rejected, Account, Body, Encoding, ProviderEvent, Rejected, Webhook, WebhookRequest};
use herald_core::errors::classify;
use herald_core::inbound::{InboundMessage, Receipt};
use herald_core::tenant::ChannelSecrets;
use herald_core::{Channel, Provider, Status, TenantId};
use serde_json::Value;

pub struct TelnyxWebhook;

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(|x| x.as_str()).unwrap_or_default()
}

/// The tenant's number: the recipient of an inbound message, else the sender.
fn our_number(v: &Value) -> String {
    let inbound = s(v, "/data/event_type") == "message.received";
    s(v, if inbound { "/data/payload/to/0/phone_number" } else { "/data/payload/from/phone_number" }).to_string()
}

impl Webhook for TelnyxWebhook {
    fn provider(&self) -> Provider {
        Provider::Telnyx
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/webhooks/telnyx"]
    }

    fn encoding(&self) -> Encoding {
        Encoding::Json
    }

    fn accounts(&self, _: &WebhookRequest<'_>, body: &Body) -> Result<Vec<Account>, Rejected> {
        // The body is only read to find whose key to verify with; nothing is applied before.
        Ok(vec![Account::Number(our_number(body.json()))])
    }

    fn verify(&self, req: &WebhookRequest<'_>, _: &Body, secrets: &ChannelSecrets) -> Result<(), Rejected> {
        let signature = req.header("telnyx-signature-ed25519").ok_or_else(|| rejected("no signature header"))?;
        let timestamp = req.header("telnyx-timestamp").ok_or_else(|| rejected("no timestamp header"))?;
        let creds = super::credentials::of(secrets).ok();
        let key = creds.as_ref().and_then(|t| t.webhook_public_key.as_deref());
        let key = key.ok_or_else(|| rejected("no webhook public key configured"))?;
        telnyx_verify(key, timestamp, signature, req.body, req.now.timestamp()).map_err(|e| rejected(e.to_string()))
    }

    fn events(
        &self,
        req: &WebhookRequest<'_>,
        body: &Body,
        account: &Account,
        tenant: &TenantId,
    ) -> Vec<ProviderEvent> {
        let v = body.json();
        let event_type = s(v, "/data/event_type");
        // Events without an id (none should come) are told apart by their signed body, so two
        // of them never share one deduplication key.
        let event_id = match s(v, "/data/id") {
            "" => {
                use sha2::Digest;
                format!("body-{}", &hex::encode(sha2::Sha256::digest(req.body))[..32])
            }
            id => id.to_string(),
        };
        let payload = v.pointer("/data/payload").cloned().unwrap_or(Value::Null);
        let pmid = s(&payload, "/id").to_string();
        match event_type {
            "message.sent" | "message.finalized" => {
                let status =
                    if event_type == "message.sent" { Some(Status::Sent) } else { status(s(&payload, "/to/0/status")) };
                let Some(status) = status else { return vec![] };
                // Telnyx dates its events: the webhook-lag metric measures from then.
                let at = chrono::DateTime::parse_from_rfc3339(s(v, "/data/occurred_at"))
                    .map_or(req.now, |t| t.with_timezone(&chrono::Utc))
                    .min(req.now);
                let mut receipt = receipt(&payload, pmid, status, at, tenant);
                receipt.message_id = crate::webhook::query_message_id(req);
                vec![ProviderEvent::Receipt { event_id, receipt }]
            }
            "message.received" => {
                let Account::Number(to) = account else { return vec![] };
                let message = InboundMessage {
                    id: format!("inb_telnyx_{pmid}"),
                    tenant_id: tenant.clone(),
                    channel: Channel::Sms,
                    provider: Provider::Telnyx,
                    provider_message_id: pmid,
                    from: s(&payload, "/from/phone_number").to_string(),
                    to: to.clone(),
                    body: s(&payload, "/text").to_string(),
                    received_at: req.now,
                    keyword: None,
                };
                vec![ProviderEvent::Inbound { event_id, message }]
            }
            other => {
                tracing::info!(event_type = other, "telnyx event not used");
                vec![]
            }
        }
    }
}

fn receipt(
    payload: &Value,
    pmid: String,
    status: Status,
    now: chrono::DateTime<chrono::Utc>,
    tenant: &TenantId,
) -> Receipt {
    let amount = payload.pointer("/cost/amount");
    // Herald prices in US cents: a cost in another currency, or a negative one, settles nothing.
    let usd = payload.pointer("/cost/currency").and_then(|c| c.as_str()).is_none_or(|c| c.eq_ignore_ascii_case("USD"));
    let cost = amount.and_then(|a| a.as_str().and_then(|x| x.parse::<f64>().ok()).or_else(|| a.as_f64()));
    let cost = cost.filter(|c| usd && c.is_finite() && *c >= 0.0);
    let code = payload.pointer("/errors/0/code");
    let error_code = code.map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string()));
    let detail = payload.pointer("/errors/0/detail").or_else(|| payload.pointer("/errors/0/title"));
    Receipt {
        provider: Provider::Telnyx,
        provider_message_id: pmid,
        status,
        error: error_code.as_deref().map(|c| classify(ROWS, None, Some(c)).code),
        error_code,
        error_message: detail.and_then(|d| d.as_str()).map(str::to_string),
        at: now,
        price_cents: cost.map(|c| (c * 100.0).ceil() as i64),
        tenant_id: Some(tenant.clone()),
        message_id: None,
    }
}
