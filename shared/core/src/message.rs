//! A message and everything that happens to it. Transitions are methods here, pure and
//! testable; adapters persist the result with an optimistic `version` check.
use crate::channel::{Channel, Provider};
use crate::errors::ErrorCode;
use crate::ids::{CorrelationId, KeyMode, MessageId, TenantId};
use crate::segments::Encoding;
use crate::status::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    #[default]
    Normal,
    Bulk,
}

/// Why a message that could go is being kept back. Always visible on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    InProgress,
    Sent,
    Retry,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub n: u32,
    pub at: DateTime<Utc>,
    pub provider: Provider,
    pub outcome: AttemptOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: Status,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default)]
    pub fallback_channels: Vec<Channel>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<HoldReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    pub estimated_cost_cents: u64,
    pub correlation_id: CorrelationId,
    pub key_mode: KeyMode,
    /// Bumped each time the message is (re-)enqueued: the SQS deduplication id and the
    /// sender's claim both carry it, so a stale copy of an older enqueue is recognised.
    pub generation: u32,
    /// Optimistic-concurrency counter for every write.
    pub version: u64,
    /// When the work index should look at this message next (retry due, hold release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub dead_lettered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Notes on decisions taken for this message (e.g. an urgent quiet-hours bypass).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Budget reserved at acceptance and not yet released or settled.
    #[serde(default)]
    pub reserved_cents: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_period: Option<crate::guards::BudgetPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<DateTime<Utc>>,
    /// Set when a dead letter is moved to the archive (kept for audit, then expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
    /// Attempts made before the last retry from the DLQ: the attempt budget starts again.
    #[serde(default)]
    pub attempts_offset: u32,
    /// Created → delivered, once a receipt confirms delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_latency_ms: Option<i64>,
}

impl Message {
    /// A new queued message with nothing decided yet; callers fill in content and policy.
    pub fn draft(
        tenant_id: TenantId,
        channel: Channel,
        to: String,
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
            budget_period: None,
            delivery_latency_ms: None,
            failed_at: None,
            archived_at: None,
            attempts_offset: 0,
        }
    }

    pub fn set_status(&mut self, status: Status, now: DateTime<Utc>) {
        if self.status != status {
            self.status = status;
            self.history.push(HistoryEntry { status, at: now });
        }
        self.updated_at = now;
    }

    pub fn attempts_made(&self) -> u32 {
        self.attempts.iter().filter(|a| a.outcome != AttemptOutcome::InProgress).count() as u32
    }

    /// queued → sending, with a new in-progress attempt. The caller persists this with a
    /// version check *before* calling the provider: that write is the at-most-once guard.
    pub fn begin_attempt(&mut self, provider: Provider, now: DateTime<Utc>) -> u32 {
        let n = self.attempts.len() as u32 + 1;
        self.attempts.push(Attempt {
            n,
            at: now,
            provider,
            outcome: AttemptOutcome::InProgress,
            error_code: None,
            provider_error_code: None,
            next_retry_at: None,
        });
        self.provider = Some(provider);
        self.hold_reason = None;
        self.deferred_until = None;
        self.due_at = None;
        self.set_status(Status::Sending, now);
        n
    }

    fn current_attempt(&mut self) -> Option<&mut Attempt> {
        self.attempts.last_mut().filter(|a| a.outcome == AttemptOutcome::InProgress)
    }

    /// The provider took the message. A receipt may already have moved it further.
    pub fn record_sent(&mut self, provider_message_id: String, now: DateTime<Utc>, delivered: bool) {
        if let Some(a) = self.current_attempt() {
            a.outcome = AttemptOutcome::Sent;
        }
        self.provider_message_id = Some(provider_message_id);
        self.sent_at.get_or_insert(now);
        self.error_code = None;
        self.error_message = None;
        if self.status == Status::Sending {
            self.set_status(Status::Sent, now);
        }
        if delivered && self.status.accepts_receipt(Status::Delivered) {
            self.delivered_at = Some(now);
            self.set_status(Status::Delivered, now);
        }
    }

    /// A retryable failure: back to queued, due again at `next`.
    pub fn record_retry(
        &mut self,
        code: ErrorCode,
        provider_code: Option<String>,
        message: String,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) {
        if let Some(a) = self.current_attempt() {
            a.outcome = AttemptOutcome::Retry;
            a.error_code = Some(code);
            a.provider_error_code = provider_code;
            a.next_retry_at = Some(next);
        }
        self.error_code = Some(code);
        self.error_message = Some(message);
        self.due_at = Some(next);
        self.set_status(Status::Queued, now);
    }

    /// Terminal failure: the message is dead-lettered with its contract error code.
    pub fn record_failure(
        &mut self,
        code: ErrorCode,
        provider_code: Option<String>,
        message: String,
        now: DateTime<Utc>,
    ) {
        if let Some(a) = self.current_attempt() {
            a.outcome = AttemptOutcome::Failed;
            a.error_code = Some(code);
            a.provider_error_code = provider_code;
        }
        self.error_code = Some(code);
        self.error_message = Some(message);
        self.dead_lettered = true;
        self.failed_at = Some(now);
        self.due_at = None;
        self.set_status(Status::Failed, now);
    }

    /// Out of the dead-letter queue and back in line, with a fresh attempt budget.
    pub fn retry_from_dlq(&mut self, actor: &str, now: DateTime<Utc>) {
        self.attempts_offset = self.attempts.len() as u32;
        self.dead_lettered = false;
        self.error_code = None;
        self.error_message = None;
        self.failed_at = None;
        self.notes.push(format!("dlq_retry by {actor} at {}", now.to_rfc3339()));
        self.requeue(now);
    }

    /// The DLQ index sort key: channel and error code first, so stats and filters read keys.
    pub fn dlq_sort_key(&self) -> Option<String> {
        if !(self.dead_lettered && self.status == Status::Failed && self.archived_at.is_none()) {
            return None;
        }
        let code = self.error_code.map(|c| c.as_str()).unwrap_or("PROVIDER_ERROR");
        let at = self.failed_at.unwrap_or(self.updated_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Some(format!("{}#{}#{}#{}", self.channel, code, at, self.id))
    }

    /// Keeps a pending message back until `until` (or until released when `None`).
    pub fn hold(&mut self, reason: HoldReason, until: Option<DateTime<Utc>>, status: Status, now: DateTime<Utc>) {
        self.hold_reason = Some(reason);
        self.deferred_until = until;
        self.due_at = until;
        self.set_status(status, now);
    }

    /// The index partition under which an open-ended hold waits for its release; holds
    /// with a known end (quiet hours, warmup) are found by their due time instead.
    pub fn hold_key(&self) -> Option<String> {
        if !self.status.is_pending() {
            return None;
        }
        Some(match self.hold_reason? {
            HoldReason::TenantPaused => format!("HOLD#{}#TENANT_PAUSED", self.tenant_id),
            HoldReason::QuotaExceeded => format!("HOLD#{}#QUOTA_EXCEEDED", self.tenant_id),
            HoldReason::ChannelDisabled => hold_key_channel(HoldReason::ChannelDisabled, self.channel),
            HoldReason::ProviderCircuitOpen => hold_key_channel(HoldReason::ProviderCircuitOpen, self.channel),
            HoldReason::NumberNotLinked => format!("HOLD#NUMBER#{}", self.from.as_deref().unwrap_or_default()),
            HoldReason::QuietHours | HoldReason::WarmupCap => return None,
        })
    }

    /// Back into the queue as a fresh enqueue (new generation, new dedup id).
    pub fn requeue(&mut self, now: DateTime<Utc>) {
        self.generation += 1;
        self.hold_reason = None;
        self.deferred_until = None;
        self.due_at = None;
        self.set_status(Status::Queued, now);
    }

    /// The SQS deduplication id of the current generation.
    pub fn dedup_id(&self) -> String {
        format!("{}-g{}", self.id, self.generation)
    }

    /// The FIFO message group: tenant + recipient, so one recipient's back-off blocks no one else.
    pub fn group_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(format!("{}|{}", self.tenant_id, self.to).as_bytes());
        format!("{}-{}", self.tenant_id, &hex::encode(h)[..24])
    }

    pub fn job(&self) -> SendJob {
        SendJob {
            message_id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            channel: self.channel,
            generation: self.generation,
            correlation_id: self.correlation_id.clone(),
        }
    }
}

pub fn hold_key_channel(reason: HoldReason, channel: Channel) -> String {
    let r = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!("HOLD#*#{r}#{channel}")
}

pub fn hold_key_tenant(reason: HoldReason, tenant: &TenantId) -> String {
    let r = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!("HOLD#{tenant}#{r}")
}

/// What travels on the queue: a pointer to the message record, never the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    pub message_id: MessageId,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub generation: u32,
    pub correlation_id: CorrelationId,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(now: DateTime<Utc>) -> Message {
        let mut m = Message::draft(
            TenantId::generate(),
            Channel::Sms,
            "+14155550100".into(),
            CorrelationId::generate(),
            KeyMode::Live,
            now,
        );
        m.body = Some("hi".into());
        m.encoding = Some(Encoding::Gsm7);
        m.estimated_cost_cents = 1;
        m.version = 0;
        m
    }

    #[test]
    fn attempt_lifecycle() {
        let now = Utc::now();
        let mut m = sample(now);
        assert_eq!(m.begin_attempt(Provider::Twilio, now), 1);
        assert_eq!(m.status, Status::Sending);
        m.record_retry(ErrorCode::TemporaryError, Some("503".into()), "down".into(), now, now);
        assert_eq!(m.status, Status::Queued);
        assert_eq!(m.attempts_made(), 1);
        assert_eq!(m.begin_attempt(Provider::Twilio, now), 2);
        m.record_sent("SM1".into(), now, false);
        assert_eq!(m.status, Status::Sent);
        assert_eq!(m.error_code, None);
        assert_eq!(
            m.attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(),
            vec![AttemptOutcome::Retry, AttemptOutcome::Sent]
        );
        let statuses: Vec<_> = m.history.iter().map(|h| h.status).collect();
        assert_eq!(statuses, vec![Status::Queued, Status::Sending, Status::Queued, Status::Sending, Status::Sent]);
    }

    #[test]
    fn sent_does_not_undo_an_earlier_receipt() {
        let now = Utc::now();
        let mut m = sample(now);
        m.begin_attempt(Provider::Telnyx, now);
        m.set_status(Status::Delivered, now);
        m.record_sent("id".into(), now, false);
        assert_eq!(m.status, Status::Delivered);
    }

    #[test]
    fn group_and_dedup_ids() {
        let now = Utc::now();
        let mut m = sample(now);
        let g = m.group_id();
        assert!(g.len() <= 128);
        let d0 = m.dedup_id();
        m.requeue(now);
        assert_ne!(d0, m.dedup_id());
        assert_eq!(g, m.group_id());
    }
}
