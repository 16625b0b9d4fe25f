//! How messages look from outside: the contract's fields, not the storage record.
use chrono::{DateTime, Utc};
use herald_core::message::{Attempt, HistoryEntry, HoldReason, Message, Priority, Template};
use herald_core::segments::Encoding;
use herald_core::{Channel, CorrelationId, ErrorCode, MessageId, Provider, Status, TenantId};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub to: String,
    pub from: Option<String>,
    pub status: Status,
    pub hold_reason: Option<HoldReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_until: Option<DateTime<Utc>>,
    pub error_code: Option<ErrorCode>,
    pub error_message: Option<String>,
    pub provider: Option<Provider>,
    pub provider_message_id: Option<String>,
    pub attempts: Vec<AttemptView>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_latency_ms: Option<i64>,
    pub segments: u32,
    pub encoding: Option<Encoding>,
    pub estimated_cost_cents: u64,
    pub correlation_id: CorrelationId,
    pub priority: Priority,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    pub test: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub notes: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub n: u32,
    pub at: DateTime<Utc>,
    pub provider: Provider,
    pub outcome: herald_core::message::AttemptOutcome,
    pub error_code: Option<ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_error_code: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
}

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        Self {
            n: a.n,
            at: a.at,
            provider: a.provider,
            outcome: a.outcome,
            error_code: a.error_code,
            provider_error_code: a.provider_error_code,
            next_retry_at: a.next_retry_at,
        }
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id,
            tenant_id: m.tenant_id,
            channel: m.channel,
            to: m.to.to_string(),
            from: m.from.map(|f| f.to_string()),
            status: m.status,
            hold_reason: m.hold_reason,
            deferred_until: m.deferred_until,
            error_code: m.error_code,
            error_message: m.error_message,
            provider: m.provider,
            provider_message_id: m.provider_message_id,
            attempts: m.attempts.into_iter().map(Into::into).collect(),
            history: m.history,
            created_at: m.created_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            delivery_latency_ms: m.delivery_latency_ms,
            segments: m.segments,
            encoding: m.encoding,
            estimated_cost_cents: m.estimated_cost_cents,
            correlation_id: m.correlation_id,
            priority: m.priority,
            send_at: m.send_at,
            subject: m.subject,
            body: m.body,
            template: m.template,
            metadata: m.metadata,
            callback_url: m.callback_url,
            test: m.key_mode == herald_core::KeyMode::Test,
            notes: m.notes,
        }
    }
}
