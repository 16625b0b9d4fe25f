//! Accepting a message: validate, price, record (with its idempotency key, atomically),
//! then enqueue. The record is the source of truth: if the enqueue fails the message stays
//! `queued` with a due time, and the dispatch job enqueues it — nothing accepted is lost.
use super::{Caller, Herald, HeraldError};
use crate::address::{EmailAddress, E164};
use crate::channel::Channel;
use crate::ids::{CorrelationId, KeyMode, MessageId};
use crate::message::{HistoryEntry, HoldReason, Message, Priority, Template};
use crate::ports::Inserted;
use crate::segments::{self, Encoding};
use crate::status::Status;
use crate::tenant::{IdempotencyRecord, Tenant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const MAX_SMS_CHARS: usize = 1600;
pub const MAX_WHATSAPP_CHARS: usize = 4096;
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// `POST /v1/messages` as the caller sends it. Unknown fields are refused.
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// The 202 answer; also what a repeated idempotent request gets back.
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

struct Validated {
    to: String,
    from: Option<String>,
    region: Option<String>,
    segments: u32,
    encoding: Option<Encoding>,
}

fn non_empty(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

impl Herald {
    pub async fn accept(
        &self,
        caller: &Caller,
        req: SendRequest,
        idempotency_key: Option<String>,
        correlation_id: CorrelationId,
    ) -> Result<Acceptance, HeraldError> {
        let Caller::Tenant { tenant, key } = caller else { return Err(HeraldError::Forbidden) };
        if let Some(k) = &idempotency_key {
            if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY {
                return Err(HeraldError::validation(
                    "Idempotency-Key",
                    "INVALID_LENGTH",
                    "Idempotency-Key must be 1 to 255 characters",
                ));
            }
        }
        let request_hash = hex::encode(Sha256::digest(
            serde_json::to_vec(&serde_json::to_value(&req).unwrap_or_default()).unwrap_or_default(),
        ));
        if let Some(k) = &idempotency_key {
            if let Some(prev) = self.ports.messages.idempotency(&tenant.id, k).await? {
                return replay(prev, &request_hash);
            }
        }
        let mut req = req;
        let mut v = self.validate(tenant, key.mode, &req).await?;
        let mut notes = Vec::new();
        if !self.channel_enabled(req.channel).await? {
            return Err(HeraldError::ChannelDisabled(req.channel));
        }
        self.check_rate(tenant).await?;
        if req.channel == Channel::Whatsapp
            && req.template.is_none()
            && !self.whatsapp_window_open(&tenant.id, &v.to).await?
        {
            if !req.fallback_channels.as_ref().is_some_and(|f| f.contains(&Channel::Sms)) {
                return Err(HeraldError::WhatsappTemplateRequired);
            }
            if !self.channel_enabled(Channel::Sms).await? {
                return Err(HeraldError::ChannelDisabled(Channel::Sms));
            }
            req.channel = Channel::Sms;
            req.fallback_channels = None;
            v = self.validate(tenant, key.mode, &req).await?;
            notes.push("fallback:whatsapp->sms:outside_24h_window".to_string());
        }
        if self.blocked(&tenant.id, &v.to).await?.is_some() {
            return Err(HeraldError::RecipientOptedOut);
        }
        let now = self.now();
        let estimated_cost_cents = self.settings.pricing.estimate(req.channel, v.region.as_deref(), v.segments);
        let budget_period =
            if key.mode == KeyMode::Live { self.reserve(tenant, estimated_cost_cents).await? } else { None };
        let reserved_cents = if budget_period.is_some() { estimated_cost_cents } else { 0 };
        let scheduled = req.send_at.is_some_and(|t| t > now + chrono::Duration::seconds(1));
        let status = if scheduled { Status::Scheduled } else { Status::Queued };
        let due_at = if scheduled {
            req.send_at
        } else {
            Some(now + chrono::Duration::from_std(self.settings.enqueue_grace).unwrap_or_default())
        };
        let mut msg = Message::draft(tenant.id.clone(), req.channel, v.to, correlation_id.clone(), key.mode, now);
        msg.from = v.from;
        msg.body = req.body.clone();
        msg.subject = req.subject.clone();
        msg.html = req.html.clone();
        msg.template =
            req.template.clone().map(|t| Template { name: t.name, language: t.language, parameters: t.parameters });
        msg.priority = req.priority.unwrap_or_default();
        msg.recipient_timezone = req.recipient_timezone.clone();
        msg.send_at = req.send_at;
        msg.metadata = req.metadata.clone().unwrap_or_default();
        msg.callback_url = req.callback_url.clone();
        msg.fallback_channels = req.fallback_channels.clone().unwrap_or_default();
        msg.status = status;
        msg.history = vec![HistoryEntry { status, at: now }];
        msg.segments = v.segments;
        msg.encoding = v.encoding;
        msg.estimated_cost_cents = estimated_cost_cents;
        msg.due_at = due_at;
        msg.idempotency_key = idempotency_key.clone();
        msg.notes = notes;
        msg.reserved_cents = reserved_cents;
        msg.budget_period = budget_period;
        let mut msg = msg;
        if tenant.paused.is_some() {
            msg.hold(HoldReason::TenantPaused, None, Status::Queued, now);
        } else if !scheduled {
            let mut normal = msg.clone();
            normal.priority = Priority::Normal;
            if let Some(until) = self.quiet_until(tenant, &normal, now) {
                if msg.priority == Priority::Urgent {
                    msg.notes.push(format!("quiet_hours_bypassed:urgent (quiet until {})", until.to_rfc3339()));
                } else {
                    msg.hold(HoldReason::QuietHours, Some(until), Status::Deferred, now);
                }
            }
        }
        let status = msg.status;
        let acceptance = Acceptance {
            id: msg.id.clone(),
            status,
            deferred_until: msg.deferred_until,
            segments: msg.segments,
            encoding: msg.encoding,
            estimated_cost_cents,
            correlation_id,
        };
        let idem = idempotency_key.as_ref().map(|k| IdempotencyRecord {
            tenant_id: tenant.id.clone(),
            key: k.clone(),
            request_hash: request_hash.clone(),
            response: serde_json::to_value(&acceptance).unwrap_or_default(),
            created_at: now,
        });
        let inserted = self.ports.messages.insert(&msg, idem.as_ref()).await;
        if inserted.is_err() {
            self.release_reservation(&msg, msg.reserved_cents).await;
        }
        match inserted? {
            Inserted::Created => {}
            Inserted::KeyTaken => {
                self.release_reservation(&msg, msg.reserved_cents).await;
                let k = idempotency_key.as_deref().unwrap_or_default();
                let prev =
                    self.ports.messages.idempotency(&tenant.id, k).await?.ok_or(HeraldError::IdempotencyKeyReused)?;
                return replay(prev, &request_hash);
            }
        }
        tracing::info!(
            message_id = %msg.id, tenant_id = %tenant.id, channel = %msg.channel, correlation_id = %msg.correlation_id,
            segments = msg.segments, status = %status, "message accepted"
        );
        if status == Status::Queued && msg.hold_reason.is_none() {
            self.enqueue(&msg).await;
        }
        Ok(acceptance)
    }

    /// Puts the message's current generation on its channel queue. A failure is logged and
    /// left to the dispatch job, which finds the message through its due time.
    pub(crate) async fn enqueue(&self, msg: &Message) -> bool {
        for attempt in 0..3 {
            match self.ports.queue.enqueue(&msg.job(), &msg.group_id(), &msg.dedup_id()).await {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(message_id = %msg.id, attempt, error = %e, "enqueue failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
            }
        }
        tracing::error!(message_id = %msg.id, "enqueue failed; the dispatch job will enqueue it when due");
        false
    }

    async fn validate(&self, tenant: &Tenant, mode: KeyMode, req: &SendRequest) -> Result<Validated, HeraldError> {
        let country = tenant.default_country.as_deref();
        let phone = |s: &str| {
            E164::parse(s, country).map_err(|_| {
                HeraldError::validation(
                    "to",
                    "INVALID_PHONE_NUMBER_FORMAT",
                    format!("'to' is not a valid phone number for channel {}", req.channel),
                )
            })
        };
        if let Some(tz) = &req.recipient_timezone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return Err(HeraldError::validation(
                    "recipient_timezone",
                    "INVALID_TIMEZONE",
                    "recipient_timezone must be an IANA zone such as Europe/Paris",
                ));
            }
        }
        if let Some(url) = &req.callback_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
                return Err(HeraldError::validation(
                    "callback_url",
                    "INVALID_URL",
                    "callback_url must be an http(s) URL",
                ));
            }
        }
        if let Some(meta) = &req.metadata {
            if meta.len() > 20 || meta.iter().any(|(k, v)| k.len() > 40 || v.len() > 500) {
                return Err(HeraldError::validation(
                    "metadata",
                    "TOO_LARGE",
                    "metadata: at most 20 keys, keys ≤ 40 and values ≤ 500 characters",
                ));
            }
        }
        if let Some(fb) = &req.fallback_channels {
            if fb.contains(&req.channel) || fb.len() > 2 {
                return Err(HeraldError::validation(
                    "fallback_channels",
                    "INVALID",
                    "fallback_channels must name other channels",
                ));
            }
        }
        match req.channel {
            Channel::Sms => {
                let to = phone(&req.to)?;
                let body = req
                    .body
                    .as_deref()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| HeraldError::validation("body", "REQUIRED", "body is required for sms"))?;
                if body.chars().count() > MAX_SMS_CHARS {
                    return Err(HeraldError::validation(
                        "body",
                        "TOO_LONG",
                        format!("sms body is limited to {MAX_SMS_CHARS} characters"),
                    ));
                }
                if req.template.is_some() || req.subject.is_some() || req.html.is_some() {
                    return Err(HeraldError::invalid("subject, html and template do not apply to sms"));
                }
                let from = match &req.from {
                    None => None,
                    Some(f) => {
                        let f = E164::parse(f, country).map_err(|_| {
                            HeraldError::validation(
                                "from",
                                "INVALID_PHONE_NUMBER_FORMAT",
                                "'from' is not a valid phone number",
                            )
                        })?;
                        if mode == KeyMode::Live
                            && self.ports.tenants.number(f.as_str()).await?.is_none_or(|n| n.tenant_id != tenant.id)
                        {
                            return Err(HeraldError::validation(
                                "from",
                                "NOT_REGISTERED",
                                "'from' must be one of the tenant's registered numbers",
                            ));
                        }
                        Some(f.to_string())
                    }
                };
                let info = segments::count(body);
                Ok(Validated {
                    region: to.region(),
                    to: to.to_string(),
                    from,
                    segments: info.segments,
                    encoding: Some(info.encoding),
                })
            }
            Channel::Whatsapp => {
                let to = phone(&req.to)?;
                if !non_empty(&req.body) && req.template.is_none() {
                    return Err(HeraldError::validation("body", "REQUIRED", "whatsapp needs a body or a template"));
                }
                if req.body.as_deref().is_some_and(|b| b.chars().count() > MAX_WHATSAPP_CHARS) {
                    return Err(HeraldError::validation(
                        "body",
                        "TOO_LONG",
                        format!("whatsapp text is limited to {MAX_WHATSAPP_CHARS} characters"),
                    ));
                }
                if let Some(t) = &req.template {
                    if t.name.trim().is_empty() || t.language.trim().is_empty() {
                        return Err(HeraldError::validation(
                            "template",
                            "INVALID",
                            "template needs a name and a language",
                        ));
                    }
                }
                let encoding = req.body.as_deref().map(|b| segments::count(b).encoding);
                Ok(Validated { region: to.region(), to: to.to_string(), from: None, segments: 1, encoding })
            }
            Channel::Email => {
                let to = EmailAddress::parse(&req.to)
                    .map_err(|_| HeraldError::validation("to", "INVALID_EMAIL", "'to' is not a valid email address"))?;
                if !non_empty(&req.subject) {
                    return Err(HeraldError::validation("subject", "REQUIRED", "subject is required for email"));
                }
                if !non_empty(&req.body) && !non_empty(&req.html) {
                    return Err(HeraldError::validation("body", "REQUIRED", "email needs a body or html"));
                }
                if req.template.is_some() {
                    return Err(HeraldError::invalid("template does not apply to email"));
                }
                Ok(Validated { region: None, to: to.to_string(), from: None, segments: 1, encoding: None })
            }
        }
    }
}

fn replay(prev: IdempotencyRecord, request_hash: &str) -> Result<Acceptance, HeraldError> {
    if prev.request_hash != request_hash {
        return Err(HeraldError::IdempotencyKeyReused);
    }
    serde_json::from_value(prev.response)
        .map_err(|e| HeraldError::Unavailable(format!("stored idempotent answer unreadable: {e}")))
}
