//! What a provider's webhook module gives the HTTP layer: which tenant accounts must have
//! signed a request, the signature check with one account's credentials, and the domain
//! events the request carries. The webhooks function routes every registered path to one
//! generic handler; nothing provider-specific lives there.
use chrono::{DateTime, Utc};
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, TenantId};
use reqwest::header::HeaderMap;

/// A webhook request as the HTTP layer received it.
pub struct WebhookRequest<'a> {
    pub path: &'a str,
    /// The URL the provider signed: `HERALD_PUBLIC_URL` + path + query, or the request's own.
    pub public_url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Herald's clock (signature timestamps are checked against it).
    pub now: DateTime<Utc>,
}

impl WebhookRequest<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Herald's message id from the callback URL's `herald_message_id` (set per message at send).
pub fn query_message_id(req: &WebhookRequest<'_>) -> Option<herald_core::MessageId> {
    let url = url::Url::parse(req.public_url).ok()?;
    let (_, id) = url.query_pairs().find(|(k, _)| k == "herald_message_id")?;
    herald_core::MessageId::parse(&id)
}

pub use herald_core::ports::{rejected, Account, ProviderEvent, Rejected, Reply};

/// A webhook body, read once: a form (Twilio) or a JSON document (Telnyx, Meta).
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The fields in order (what Twilio signs) and by name (the last one wins).
    Form(Vec<(String, String)>, std::collections::HashMap<String, String>),
    Json(serde_json::Value),
}

/// How a provider's webhooks are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Form,
    Json,
}

impl Body {
    fn read(encoding: Encoding, raw: &[u8]) -> Result<Body, Rejected> {
        match encoding {
            Encoding::Form => {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(raw).map_err(|_| rejected("body is not form-encoded"))?;
                let fields = pairs.iter().cloned().collect();
                Ok(Body::Form(pairs, fields))
            }
            Encoding::Json => serde_json::from_slice(raw).map(Body::Json).map_err(|_| rejected("body is not JSON")),
        }
    }

    /// The form's fields, in order (empty for JSON).
    pub fn form(&self) -> &[(String, String)] {
        match self {
            Body::Form(pairs, _) => pairs,
            Body::Json(_) => &[],
        }
    }

    /// The form's fields by name (the last one wins; empty for JSON).
    pub fn fields(&self) -> &std::collections::HashMap<String, String> {
        static NONE: std::sync::OnceLock<std::collections::HashMap<String, String>> = std::sync::OnceLock::new();
        match self {
            Body::Form(_, fields) => fields,
            Body::Json(_) => NONE.get_or_init(Default::default),
        }
    }

    /// The JSON document (`null` for a form).
    pub fn json(&self) -> &serde_json::Value {
        match self {
            Body::Json(v) => v,
            Body::Form(..) => &serde_json::Value::Null,
        }
    }
}

/// A request bound to its provider's module and read once: what the core's `Webhooks`
/// service asks about it.
pub struct Received<'a> {
    webhook: &'a dyn Webhook,
    req: WebhookRequest<'a>,
    body: Result<Body, Rejected>,
}

impl<'a> Received<'a> {
    pub fn new(webhook: &'a dyn Webhook, req: WebhookRequest<'a>) -> Self {
        let body = Body::read(webhook.encoding(), req.body);
        Self { webhook, req, body }
    }
}

impl herald_core::ports::ReceivedWebhook for Received<'_> {
    fn provider(&self) -> Provider {
        self.webhook.provider()
    }
    fn accounts(&self) -> Result<Vec<Account>, Rejected> {
        self.webhook.accounts(&self.req, self.body.as_ref().map_err(Clone::clone)?)
    }
    fn verify(&self, secrets: &ChannelSecrets) -> Result<(), Rejected> {
        self.webhook.verify(&self.req, self.body.as_ref().map_err(Clone::clone)?, secrets)
    }
    fn events(&self, account: &Account, tenant: &TenantId) -> Vec<ProviderEvent> {
        match &self.body {
            Ok(body) => self.webhook.events(&self.req, body, account, tenant),
            Err(_) => vec![],
        }
    }
    fn reply(&self, call: Option<&herald_core::voice::CallAnswer>) -> Reply {
        match (call, &self.body) {
            (Some(answer), Ok(body)) => self.webhook.answer_call(&self.req, body, answer),
            _ => self.webhook.reply(&self.req),
        }
    }
}

pub trait Webhook: Send + Sync {
    fn provider(&self) -> Provider;
    /// The POST paths this provider's webhooks arrive on.
    fn paths(&self) -> &'static [&'static str];
    /// How its bodies are encoded: `Received` reads each body once, so.
    fn encoding(&self) -> Encoding;
    /// Names the accounts whose credentials must each verify the request.
    fn accounts(&self, req: &WebhookRequest<'_>, body: &Body) -> Result<Vec<Account>, Rejected>;
    /// Checks the signature with one account's credentials.
    fn verify(&self, req: &WebhookRequest<'_>, body: &Body, secrets: &ChannelSecrets) -> Result<(), Rejected>;
    /// The events the request carries for `account`, which belongs to `tenant`.
    fn events(&self, req: &WebhookRequest<'_>, body: &Body, account: &Account, tenant: &TenantId)
        -> Vec<ProviderEvent>;
    fn reply(&self, _req: &WebhookRequest<'_>) -> Reply {
        Reply::default()
    }
    /// Renders Herald's answer to a call event (voice carriers).
    fn answer_call(&self, _req: &WebhookRequest<'_>, _body: &Body, _answer: &herald_core::voice::CallAnswer) -> Reply {
        Reply::default()
    }
    /// Whether the provider subscribes its webhooks with a handshake over GET (Meta's).
    fn has_handshake(&self) -> bool {
        false
    }
    /// The handshake's verify token to check and challenge to echo, from the query.
    fn challenge(&self, _query: &[(String, String)]) -> Option<(String, String)> {
        None
    }
}
