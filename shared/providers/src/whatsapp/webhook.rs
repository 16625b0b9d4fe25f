//! `POST /webhooks/whatsapp`: statuses and inbound messages, one `value` per phone number;
//! every tenant the body speaks for must have signed it (one app secret each). `GET` is
//! Meta's subscription handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`).
use super::errors::{status, ROWS};
use super::signature::meta_valid;
use crate::webhook::{rejected, Account, Body, Encoding, ProviderEvent, Rejected, Webhook, WebhookRequest};
use herald_core::errors::classify;
use herald_core::inbound::{InboundMessage, Receipt};
use herald_core::tenant::ChannelSecrets;
use herald_core::{Channel, Provider, TenantId};
use serde_json::Value;

pub struct WhatsappWebhook;

fn values(body: &Body) -> Vec<Value> {
    body.json()
        .pointer("/entry")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .flat_map(|e| e.get("changes").and_then(|c| c.as_array()).cloned().unwrap_or_default())
        .filter_map(|c| c.get("value").cloned())
        .collect()
}

fn phone_number_id(value: &Value) -> &str {
    value.pointer("/metadata/phone_number_id").and_then(|x| x.as_str()).unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default()
}

fn ts(v: &Value, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let t = v.get("timestamp").and_then(|x| x.as_str()).and_then(|s| s.parse::<i64>().ok());
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).unwrap_or(now)
}

impl Webhook for WhatsappWebhook {
    fn provider(&self) -> Provider {
        Provider::Whatsapp
    }

    fn paths(&self) -> &'static [&'static str] {
        &["/webhooks/whatsapp"]
    }

    fn encoding(&self) -> Encoding {
        Encoding::Json
    }

    fn accounts(&self, _: &WebhookRequest<'_>, body: &Body) -> Result<Vec<Account>, Rejected> {
        let values = values(body);
        if values.is_empty() {
            return Err(rejected("no entries"));
        }
        Ok(values.iter().map(|v| Account::WhatsappPhoneNumberId(phone_number_id(v).to_string())).collect())
    }

    fn verify(&self, req: &WebhookRequest<'_>, _: &Body, secrets: &ChannelSecrets) -> Result<(), Rejected> {
        let signature = req.header("x-hub-signature-256").ok_or_else(|| rejected("no X-Hub-Signature-256"))?;
        let secret = super::credentials::of(secrets).map(|w| w.app_secret).map_err(|_| rejected("no app secret"))?;
        // A stored empty secret never verifies anything (an empty HMAC key is anyone's).
        if secret.trim().is_empty() {
            return Err(rejected("the tenant's stored app secret is empty; save the channel again"));
        }
        if !meta_valid(&secret, req.body, signature) {
            return Err(rejected("signature mismatch"));
        }
        Ok(())
    }

    fn events(
        &self,
        req: &WebhookRequest<'_>,
        body: &Body,
        account: &Account,
        tenant: &TenantId,
    ) -> Vec<ProviderEvent> {
        let Account::WhatsappPhoneNumberId(pnid) = account else { return vec![] };
        let mut events = Vec::new();
        for value in values(body).iter().filter(|v| phone_number_id(v) == pnid) {
            for st in value.get("statuses").and_then(|x| x.as_array()).into_iter().flatten() {
                events.extend(status_event(st, req.now, tenant));
            }
            for m in value.get("messages").and_then(|x| x.as_array()).into_iter().flatten() {
                events.push(inbound_event(m, pnid, tenant, req.now));
            }
        }
        events
    }

    fn has_handshake(&self) -> bool {
        true
    }

    fn challenge(&self, query: &[(String, String)]) -> Option<(String, String)> {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("hub.mode").as_deref() != Some("subscribe") {
            return None;
        }
        Some((get("hub.verify_token").unwrap_or_default(), get("hub.challenge").unwrap_or_default()))
    }
}

fn status_event(st: &Value, now: chrono::DateTime<chrono::Utc>, tenant: &TenantId) -> Option<ProviderEvent> {
    let raw = str_of(st, "status");
    let status = status(raw)?;
    let id = str_of(st, "id").to_string();
    let error_code = st.pointer("/errors/0/code").map(|c| c.to_string().trim_matches('"').to_string());
    let receipt = Receipt {
        provider: Provider::Whatsapp,
        provider_message_id: id.clone(),
        status,
        error: error_code.as_deref().map(|c| classify(ROWS, None, Some(c)).code),
        error_code,
        error_message: st.pointer("/errors/0/title").and_then(|x| x.as_str()).map(str::to_string),
        at: ts(st, now),
        price_cents: None,
        tenant_id: Some(tenant.clone()),
        message_id: st.get("biz_opaque_callback_data").and_then(|v| v.as_str()).and_then(herald_core::MessageId::parse),
    };
    Some(ProviderEvent::Receipt { event_id: format!("{id}:{raw}"), receipt })
}

fn inbound_event(m: &Value, pnid: &str, tenant: &TenantId, now: chrono::DateTime<chrono::Utc>) -> ProviderEvent {
    let id = str_of(m, "id").to_string();
    let message = InboundMessage {
        id: format!("inb_wa_{}", id.trim_start_matches("wamid.")),
        tenant_id: tenant.clone(),
        channel: Channel::Whatsapp,
        provider: Provider::Whatsapp,
        provider_message_id: id.clone(),
        from: format!("+{}", str_of(m, "from").trim_start_matches('+')),
        to: pnid.to_string(),
        body: m.pointer("/text/body").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
        received_at: ts(m, now),
        keyword: None,
    };
    ProviderEvent::Inbound { event_id: format!("in:{id}"), message }
}
