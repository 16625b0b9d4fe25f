//! A message and everything that happens to it. Transitions are methods here, pure and
//! testable; adapters persist the result with an optimistic `version` check.
use crate::address::Address;
use crate::channel::{Channel, Provider};
use crate::errors::ErrorCode;
use crate::ids::{CorrelationId, KeyMode, MessageId, TenantId};
use crate::segments::Encoding;
use crate::status::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod hold_key;
mod step;
#[cfg(test)]
pub(crate) mod tests;
mod transitions;

pub use hold_key::HoldKey;

pub use step::{Progress, StatusStep};

/// How long a message written before its job waits for that job before the dispatch job
/// enqueues it again (`HERALD_ENQUEUE_GRACE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnqueueGrace(pub chrono::Duration);

impl From<std::time::Duration> for EnqueueGrace {
    fn from(d: std::time::Duration) -> Self {
        EnqueueGrace(chrono::Duration::from_std(d).unwrap_or_default())
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    #[default]
    Normal,
    Bulk,
}

/// Why a message that could go is being kept back. Always visible on the message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HoldReason {
    TenantPaused,
    QuietHours,
    QuotaExceeded,
    WarmupCap,
    ChannelDisabled,
    ProviderCircuitOpen,
    NumberNotLinked,
}

impl HoldReason {
    pub const ALL: [HoldReason; 7] = [
        HoldReason::TenantPaused,
        HoldReason::QuietHours,
        HoldReason::QuotaExceeded,
        HoldReason::WarmupCap,
        HoldReason::ChannelDisabled,
        HoldReason::ProviderCircuitOpen,
        HoldReason::NumberNotLinked,
    ];

    /// The contract's name (as serialized), for keys, metric dimensions and views.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::TenantPaused => "TENANT_PAUSED",
            HoldReason::QuietHours => "QUIET_HOURS",
            HoldReason::QuotaExceeded => "QUOTA_EXCEEDED",
            HoldReason::WarmupCap => "WARMUP_CAP",
            HoldReason::ChannelDisabled => "CHANNEL_DISABLED",
            HoldReason::ProviderCircuitOpen => "PROVIDER_CIRCUIT_OPEN",
            HoldReason::NumberNotLinked => "NUMBER_NOT_LINKED",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    InProgress,
    Sent,
    Retry,
    Failed,
    /// The request may have reached the provider (a timeout or a dropped connection after it
    /// was sent): never re-sent blindly; a receipt or a lookup at the provider settles it.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub n: u32,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
    pub provider: Provider,
    pub outcome: AttemptOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub next_retry_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: Status,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub to: Address,
    /// The sender: an SMS number, or an email address the tenant's identity covers
    /// (otherwise the channel's `from_address`; WhatsApp sends from the channel's number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_channels: Vec<Channel>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<HoldReason>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub deferred_until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// When a scheduled or quiet-hours-deferred message was released to the queue: delivery
    /// latency runs from here, so planned waits do not count as slowness.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub released_at: Option<DateTime<Utc>>,
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    pub estimated_cost_cents: u64,
    pub correlation_id: CorrelationId,
    pub key_mode: KeyMode,
    /// Bumped each time the message is (re-)enqueued: the SQS deduplication id and the
    /// sender's claim both carry it, so a stale copy of an older enqueue is recognised.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u32,
    /// Optimistic-concurrency counter for every write.
    pub version: u64,
    /// When the work index should look at this message next (retry due, hold release).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dead_lettered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Notes on decisions taken for this message (e.g. an urgent quiet-hours bypass).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Budget reserved at acceptance and not yet released or settled.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reserved_cents: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_period: Option<crate::guards::BudgetPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub failed_at: Option<DateTime<Utc>>,
    /// Set when a dead letter is moved to the archive (kept for audit, then expires).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub archived_at: Option<DateTime<Utc>>,
    /// Attempts made before the last retry from the DLQ: the attempt budget starts again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts_offset: u32,
    /// The provider echoes Herald's id in its receipts: they find the message by id, and the
    /// provider-id index entry is not written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub receipts_by_id: bool,
    /// Created → delivered, once a receipt confirms delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_latency_ms: Option<i64>,
    /// While a retry waits out its back-off in the queue: the queue record's receipt handle,
    /// so an operator can let it go at once (`POST /v1/admin/messages/retry-now`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_handle: Option<String>,
}

/// Stored items leave out what is zero (each byte counts: a message write is 1 WRU per KB).
fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl Message {
    /// A new queued message with nothing decided yet; callers fill in content and policy.
    pub fn draft(
        tenant_id: TenantId,
        channel: Channel,
        to: Address,
        correlation_id: CorrelationId,
        key_mode: KeyMode,
        now: DateTime<Utc>,
    ) -> Message {
        Message {
            id: MessageId::generate(),
            tenant_id,
            channel,
            to,
            from: None,
            body: None,
            subject: None,
            html: None,
            template: None,
            priority: Priority::Normal,
            recipient_timezone: None,
            send_at: None,
            metadata: Default::default(),
            callback_url: None,
            fallback_channels: vec![],
            status: Status::Queued,
            hold_reason: None,
            deferred_until: None,
            error_code: None,
            error_message: None,
            provider: None,
            provider_message_id: None,
            attempts: vec![],
            history: vec![HistoryEntry { status: Status::Queued, at: now }],
            created_at: now,
            updated_at: now,
            sent_at: None,
            delivered_at: None,
            segments: 1,
            encoding: None,
            estimated_cost_cents: 0,
            correlation_id,
            key_mode,
            generation: 0,
            version: 1,
            due_at: None,
            dead_lettered: false,
            idempotency_key: None,
            notes: vec![],
            reserved_cents: 0,
            receipts_by_id: false,
            budget_period: None,
            delivery_latency_ms: None,
            released_at: None,
            failed_at: None,
            archived_at: None,
            attempts_offset: 0,
            backoff_handle: None,
        }
    }
}

/// What travels on the queue: a pointer to the message record, never the content. The
/// recipient's address rides along (the queue is encrypted) so the sender reads the message
/// and the recipient's do-not-contact entry in one batch read.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    pub message_id: MessageId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub generation: u32,
    pub correlation_id: CorrelationId,
    /// The normalised recipient (absent in jobs queued before it was added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Without the recipient: a job may be logged.
impl std::fmt::Debug for SendJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendJob")
            .field("message_id", &self.message_id)
            .field("tenant_id", &self.tenant_id)
            .field("channel", &self.channel)
            .field("generation", &self.generation)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}
