//! What a provider's webhook module gives the HTTP layer: which tenant accounts must have
//! signed a request, the signature check with one account's credentials, and the domain
//! events the request carries. The webhooks function routes every registered path to one
//! generic handler; nothing provider-specific lives there.
use chrono::{DateTime, Utc};
use herald_core::inbound::{InboundMessage, Receipt};
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

/// Whose provider account a webhook speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// A tenant's sending number (SMS providers).
    Number(String),
    /// A tenant's WhatsApp phone_number_id.
    WhatsappPhoneNumberId(String),
}

/// One thing a provider told Herald, with the provider's id for it (deduplication).
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    Receipt {
        event_id: String,
        receipt: Receipt,
    },
    Inbound {
        event_id: String,
        message: InboundMessage,
    },
    /// A call event: Herald's answer to it is the webhook's reply (`Webhook::answer_call`).
    Call {
        event: herald_core::voice::CallEvent,
    },
}

/// Why a webhook was refused (logged; never a secret or the signature itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

pub fn rejected(reason: impl Into<String>) -> Rejected {
    Rejected(reason.into())
}

/// What to answer the provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub content_type: Option<&'static str>,
    pub body: String,
}

pub trait Webhook: Send + Sync {
    fn provider(&self) -> Provider;
    /// The POST paths this provider's webhooks arrive on.
    fn paths(&self) -> &'static [&'static str];
    /// Parses the request and names the accounts whose credentials must each verify it.
    fn accounts(&self, req: &WebhookRequest<'_>) -> Result<Vec<Account>, Rejected>;
    /// Checks the signature with one account's credentials.
    fn verify(&self, req: &WebhookRequest<'_>, secrets: &ChannelSecrets) -> Result<(), Rejected>;
    /// The events the request carries for `account`, which belongs to `tenant`.
    fn events(&self, req: &WebhookRequest<'_>, account: &Account, tenant: &TenantId) -> Vec<ProviderEvent>;
    fn reply(&self, _req: &WebhookRequest<'_>) -> Reply {
        Reply::default()
    }
    /// Renders Herald's answer to a call event (voice carriers).
    fn answer_call(&self, _req: &WebhookRequest<'_>, _answer: &herald_core::voice::CallAnswer) -> Reply {
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
