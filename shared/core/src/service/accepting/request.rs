//! `POST /v1/messages` as the caller sends it, parsed into a validated request: once a
//! `Validated` exists, its addresses are normalised and its content fits its channel.
use crate::address::{Address, EmailAddress, E164};
use crate::channel::Channel;
use crate::ids::{CorrelationId, MessageId};
use crate::message::Priority;
use crate::segments::{self, Encoding};
use crate::service::HeraldError;
use crate::status::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_SMS_CHARS: usize = 1600;
pub const MAX_WHATSAPP_CHARS: usize = 4096;
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// RFC 5322's line limit, which a subject must fit.
pub const MAX_SUBJECT_CHARS: usize = 998;
pub const MAX_EMAIL_BYTES: usize = 256 * 1024;
pub const MAX_METADATA_BYTES: usize = 2 * 1024;

/// `POST /v1/messages` as the caller sends it. Unknown fields are refused.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub channel: Channel,
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub template: Option<TemplateRequest>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub recipient_timezone: Option<String>,
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub callback_url: Option<String>,
    #[serde(default)]
    pub fallback_channels: Option<Vec<Channel>>,
}

impl SendRequest {
    /// An SMS with nothing but its defaults (fill in `to`, `from`, `body`).
    pub fn sms_defaults() -> SendRequest {
        SendRequest {
            channel: Channel::Sms,
            to: String::new(),
            from: None,
            body: None,
            subject: None,
            html: None,
            template: None,
            priority: None,
            recipient_timezone: None,
            send_at: None,
            metadata: None,
            callback_url: None,
            fallback_channels: None,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// The 202 answer; also what a repeated idempotent request gets back.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Acceptance {
    pub id: MessageId,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_until: Option<DateTime<Utc>>,
    pub segments: u32,
    pub encoding: Option<Encoding>,
    pub estimated_cost_cents: u64,
    pub correlation_id: CorrelationId,
}

/// A request whose addresses are normalised and whose content fits its channel.
pub struct Validated {
    pub to: Address,
    /// The requested sender, normalised (ownership is checked by the caller).
    pub from: Option<Address>,
    pub region: Option<String>,
    pub segments: u32,
    pub encoding: Option<Encoding>,
}

fn non_empty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

fn check(ok: bool, field: &str, code: &'static str, message: &str) -> Result<(), HeraldError> {
    if ok {
        Ok(())
    } else {
        Err(HeraldError::validation(field, code, message))
    }
}

/// Checks the request against its channel's rules; `country` reads national numbers.
pub fn validate(country: Option<&str>, req: &SendRequest) -> Result<Validated, HeraldError> {
    validate_common(req)?;
    match req.channel {
        Channel::Sms => validate_sms(country, req),
        Channel::Whatsapp => validate_whatsapp(country, req),
        Channel::Email => validate_email(req),
    }
}

fn validate_common(req: &SendRequest) -> Result<(), HeraldError> {
    if let Some(tz) = &req.recipient_timezone {
        let msg = "recipient_timezone must be an IANA zone such as Europe/Paris";
        check(tz.parse::<chrono_tz::Tz>().is_ok(), "recipient_timezone", "INVALID_TIMEZONE", msg)?;
    }
    if let Some(url) = &req.callback_url {
        let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2048;
        check(ok, "callback_url", "INVALID_URL", "callback_url must be an http(s) URL")?;
    }
    if let Some(meta) = &req.metadata {
        let ok = meta.len() <= 20 && meta.iter().all(|(k, v)| k.len() <= 40 && v.len() <= 500);
        check(ok, "metadata", "TOO_LARGE", "metadata: at most 20 keys, keys ≤ 40 and values ≤ 500 characters")?;
        let size = serde_json::to_vec(meta).map(|v| v.len()).unwrap_or(usize::MAX);
        check(size <= MAX_METADATA_BYTES, "metadata", "TOO_LARGE", "metadata is limited to 2 KiB serialised")?;
    }
    if let Some(fb) = &req.fallback_channels {
        let ok = !fb.contains(&req.channel) && fb.len() <= 2;
        check(ok, "fallback_channels", "INVALID", "fallback_channels must name other channels")?;
    }
    Ok(())
}

fn phone(field: &str, input: &str, country: Option<&str>, channel: Channel) -> Result<E164, HeraldError> {
    E164::parse(input, country).map_err(|_| {
        let message = format!("'{field}' is not a valid phone number for channel {channel}");
        HeraldError::validation(field, "INVALID_PHONE_NUMBER_FORMAT", message)
    })
}

fn validate_sms(country: Option<&str>, req: &SendRequest) -> Result<Validated, HeraldError> {
    let to = phone("to", &req.to, country, req.channel)?;
    let body = req
        .body
        .as_deref()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| HeraldError::validation("body", "REQUIRED", "body is required for sms"))?;
    let message = format!("sms body is limited to {MAX_SMS_CHARS} characters");
    check(body.chars().count() <= MAX_SMS_CHARS, "body", "TOO_LONG", &message)?;
    if req.template.is_some() || req.subject.is_some() || req.html.is_some() {
        return Err(HeraldError::invalid("subject, html and template do not apply to sms"));
    }
    let from = req.from.as_deref().map(|f| phone("from", f, country, req.channel).map(Address::Phone)).transpose()?;
    let info = segments::count(body);
    Ok(Validated {
        region: to.region(),
        to: Address::Phone(to),
        from,
        segments: info.segments,
        encoding: Some(info.encoding),
    })
}

fn validate_whatsapp(country: Option<&str>, req: &SendRequest) -> Result<Validated, HeraldError> {
    let to = phone("to", &req.to, country, req.channel)?;
    check(non_empty(&req.body) || req.template.is_some(), "body", "REQUIRED", "whatsapp needs a body or a template")?;
    let message = format!("whatsapp text is limited to {MAX_WHATSAPP_CHARS} characters");
    let fits = req.body.as_deref().is_none_or(|b| b.chars().count() <= MAX_WHATSAPP_CHARS);
    check(fits, "body", "TOO_LONG", &message)?;
    if let Some(t) = &req.template {
        let ok = !t.name.trim().is_empty() && !t.language.trim().is_empty();
        check(ok, "template", "INVALID", "template needs a name and a language")?;
        check(
            t.name.chars().count() <= 512,
            "template.name",
            "TOO_LONG",
            "template name is limited to 512 characters",
        )?;
        let params_ok = t.parameters.len() <= 20 && t.parameters.iter().all(|p| p.chars().count() <= 1024);
        let message = "at most 20 template parameters of at most 1,024 characters";
        check(params_ok, "template.parameters", "TOO_LARGE", message)?;
    }
    let encoding = req.body.as_deref().map(|b| segments::count(b).encoding);
    Ok(Validated { region: to.region(), to: Address::Phone(to), from: None, segments: 1, encoding })
}

fn validate_email(req: &SendRequest) -> Result<Validated, HeraldError> {
    let to = EmailAddress::parse(&req.to)
        .map_err(|_| HeraldError::validation("to", "INVALID_EMAIL", "'to' is not a valid email address"))?;
    check(non_empty(&req.subject), "subject", "REQUIRED", "subject is required for email")?;
    let subject_ok = req.subject.as_deref().is_none_or(|s| s.chars().count() <= MAX_SUBJECT_CHARS);
    check(subject_ok, "subject", "TOO_LONG", "subject is limited to 998 characters")?;
    check(non_empty(&req.body) || non_empty(&req.html), "body", "REQUIRED", "email needs a body or html")?;
    for (field, value) in [("body", &req.body), ("html", &req.html)] {
        let fits = value.as_deref().is_none_or(|v| v.len() <= MAX_EMAIL_BYTES);
        check(fits, field, "TOO_LONG", &format!("email {field} is limited to 256 KiB"))?;
    }
    if req.template.is_some() {
        return Err(HeraldError::invalid("template does not apply to email"));
    }
    let from =
        match req.from.as_deref() {
            Some(f) => Some(Address::Email(EmailAddress::parse(f).map_err(|_| {
                HeraldError::validation("from", "INVALID_EMAIL", "'from' is not a valid email address")
            })?)),
            None => None,
        };
    Ok(Validated { region: None, to: Address::Email(to), from, segments: 1, encoding: None })
}
