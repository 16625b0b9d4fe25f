//! `POST /webhooks/twilio/status` and `/webhooks/twilio/inbound`: form-encoded, signed with
//! the account's auth token (during a rotation the previous token is accepted too). The
//! tenant is the owner of `From` (status) or `To` (inbound).
use super::errors::{status, ROWS};
use super::signature::twilio_valid;
use super::voice;
use crate::webhook::{rejected, Account, Body, Encoding, ProviderEvent, Rejected, Reply, Webhook, WebhookRequest};
use herald_core::errors::classify;
use herald_core::inbound::{InboundMessage, Receipt};
use herald_core::tenant::ChannelSecrets;
use herald_core::{Channel, Provider, TenantId};

const STATUS: &str = "/webhooks/twilio/status";
const INBOUND: &str = "/webhooks/twilio/inbound";
const TWIML_EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

pub struct TwilioWebhook;

impl Webhook for TwilioWebhook {
    fn provider(&self) -> Provider {
        Provider::Twilio
    }

    fn paths(&self) -> &'static [&'static str] {
        &[STATUS, INBOUND, voice::VOICE, voice::DIAL, voice::RECORDING, voice::TRANSCRIPTION, voice::CALL_STATUS]
    }

    fn encoding(&self) -> Encoding {
        Encoding::Form
    }

    fn accounts(&self, req: &WebhookRequest<'_>, body: &Body) -> Result<Vec<Account>, Rejected> {
        let p = body.fields();
        if voice::PATHS.contains(&req.path) {
            return Ok(vec![voice::account(req, p)]);
        }
        let field = if req.path == INBOUND { "To" } else { "From" };
        Ok(vec![Account::Number(p.get(field).cloned().unwrap_or_default())])
    }

    fn verify(&self, req: &WebhookRequest<'_>, body: &Body, secrets: &ChannelSecrets) -> Result<(), Rejected> {
        let params = body.form();
        let signature = req.header("x-twilio-signature").ok_or_else(|| rejected("no X-Twilio-Signature"))?;
        let creds = super::credentials::of(secrets).map_err(|_| rejected("tenant has no twilio credentials"))?;
        if params.iter().any(|(k, v)| k == "AccountSid" && *v != creds.account_sid) {
            return Err(rejected("AccountSid does not match the tenant's account"));
        }
        // A stored empty token (saved before tokens were checked) never verifies anything:
        // anyone can compute an HMAC with an empty key.
        let tokens: Vec<&str> = std::iter::once(creds.auth_token.as_str())
            .chain(creds.previous_auth_token.as_deref())
            .filter(|t| !t.trim().is_empty())
            .collect();
        if tokens.is_empty() {
            return Err(rejected("the tenant's stored auth token is empty; save the channel again"));
        }
        if !twilio_valid(req.public_url, params, signature, &tokens) {
            return Err(rejected("signature mismatch"));
        }
        Ok(())
    }

    fn events(&self, req: &WebhookRequest<'_>, body: &Body, _: &Account, tenant: &TenantId) -> Vec<ProviderEvent> {
        let p = body.fields();
        let get = |a: &str, b: &str| p.get(a).or_else(|| p.get(b)).cloned().unwrap_or_default();
        if voice::PATHS.contains(&req.path) {
            return voice::events(req, p);
        }
        if req.path == INBOUND {
            let sid = get("MessageSid", "SmsMessageSid");
            let message = InboundMessage {
                id: format!("inb_twilio_{sid}"),
                tenant_id: tenant.clone(),
                channel: Channel::Sms,
                provider: Provider::Twilio,
                provider_message_id: sid.clone(),
                from: get("From", "From"),
                to: get("To", "To"),
                body: get("Body", "Body"),
                received_at: req.now,
                keyword: None,
            };
            return vec![ProviderEvent::Inbound { event_id: format!("in:{sid}"), message }];
        }
        let sid = get("MessageSid", "SmsSid");
        let raw = get("MessageStatus", "SmsStatus");
        let Some(status) = status(&raw) else { return vec![] };
        let error_code = p.get("ErrorCode").filter(|c| !c.is_empty()).cloned();
        let receipt = Receipt {
            provider: Provider::Twilio,
            provider_message_id: sid.clone(),
            status,
            error: error_code.as_deref().map(|c| classify(ROWS, None, Some(c)).code),
            error_code,
            error_message: p.get("ErrorMessage").cloned(),
            at: req.now,
            price_cents: None,
            tenant_id: Some(tenant.clone()),
            message_id: crate::webhook::query_message_id(req),
        };
        vec![ProviderEvent::Receipt { event_id: format!("{sid}:{raw}"), receipt }]
    }

    fn answer_call(&self, req: &WebhookRequest<'_>, body: &Body, answer: &herald_core::voice::CallAnswer) -> Reply {
        voice::twiml(req, body.fields(), answer)
    }

    fn reply(&self, req: &WebhookRequest<'_>) -> Reply {
        if req.path == INBOUND {
            Reply { content_type: Some("text/xml"), body: TWIML_EMPTY.into() }
        } else {
            Reply::default()
        }
    }
}
