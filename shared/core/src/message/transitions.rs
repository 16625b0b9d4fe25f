//! A message's transitions: pure, testable; adapters persist the result with an optimistic
//! `version` check.
use super::*;
use crate::inbound::Receipt;

/// A message record stays bounded (DynamoDB items stop at 400 KB): the newest this many
/// history entries and notes are kept (the first history entry, its acceptance, always).
const MAX_HISTORY: usize = 100;
const MAX_NOTES: usize = 20;

impl Message {
    pub fn set_status(&mut self, status: Status, now: DateTime<Utc>) {
        if self.status != status {
            self.status = status;
            self.history.push(HistoryEntry { status, at: now });
            if self.history.len() > MAX_HISTORY {
                self.history.drain(1..self.history.len() - MAX_HISTORY + 1);
            }
        }
        self.updated_at = now;
    }

    fn note(&mut self, note: String) {
        self.notes.push(note);
        if self.notes.len() > MAX_NOTES {
            self.notes.drain(..self.notes.len() - MAX_NOTES);
        }
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
        self.backoff_handle = None;
        self.hold_reason = None;
        self.deferred_until = None;
        self.due_at = None;
        self.set_status(Status::Sending, now);
        n
    }

    fn current_attempt(&mut self) -> Option<&mut Attempt> {
        let open = |a: &&mut Attempt| matches!(a.outcome, AttemptOutcome::InProgress | AttemptOutcome::Unknown);
        self.attempts.last_mut().filter(open)
    }

    /// The provider took the message. A receipt may already have moved it further.
    pub fn record_sent(&mut self, provider_message_id: String, now: DateTime<Utc>, delivered: bool) {
        if let Some(a) = self.current_attempt() {
            a.outcome = AttemptOutcome::Sent;
        }
        self.provider_message_id = Some(provider_message_id);
        self.sent_at.get_or_insert(now);
        // Nothing is due any more: a receipt or nothing at all follows.
        self.due_at = None;
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

    /// The provider may or may not have the message: it stays `sending`, looked at again at
    /// `recheck` (a receipt may settle it first).
    pub fn record_unknown(&mut self, provider_message: String, now: DateTime<Utc>, recheck: DateTime<Utc>) {
        let provider = self.provider.map(|p| p.as_str()).unwrap_or("provider");
        // A receipt that linked the message first already settled the attempt.
        let Some(a) = self.current_attempt() else { return };
        a.outcome = AttemptOutcome::Unknown;
        a.error_code = Some(ErrorCode::TemporaryError);
        self.error_message = Some(provider_message);
        self.note(format!("ambiguous:{provider}:no answer, outcome unknown"));
        self.due_at = Some(recheck);
        self.updated_at = now;
    }

    /// The attempt whose outcome is not known yet (in progress, or ambiguous).
    pub fn open_attempt(&self) -> Option<&Attempt> {
        self.attempts.last().filter(|a| matches!(a.outcome, AttemptOutcome::InProgress | AttemptOutcome::Unknown))
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
        self.note(format!("dlq_retry by {actor} at {}", now.to_rfc3339()));
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

    /// The key under which an open-ended hold waits for its release; holds with a known
    /// end (quiet hours, warmup) are found by their due time instead.
    pub fn hold_key(&self) -> Option<HoldKey> {
        if !self.status.is_pending() {
            return None;
        }
        Some(match self.hold_reason? {
            r @ (HoldReason::TenantPaused | HoldReason::QuotaExceeded) => HoldKey::Tenant(self.tenant_id.clone(), r),
            r @ (HoldReason::ChannelDisabled | HoldReason::ProviderCircuitOpen) => HoldKey::Channel(r, self.channel),
            HoldReason::NumberNotLinked => HoldKey::Number(self.from.as_deref().unwrap_or_default().to_string()),
            HoldReason::QuietHours | HoldReason::WarmupCap => return None,
        })
    }

    /// Written before its job: if the job is not picked up within `grace` after `at`, the
    /// dispatch job finds the message by this due time and enqueues it again.
    pub fn await_job(&mut self, at: DateTime<Utc>, grace: EnqueueGrace) {
        self.due_at = Some(at + grace.0);
    }

    /// Back into the queue as a fresh enqueue (new generation, new dedup id).
    pub fn requeue(&mut self, now: DateTime<Utc>) {
        if matches!(self.status, Status::Scheduled | Status::Deferred) {
            self.released_at = Some(now);
        }
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
            to: Some(self.to.as_str().to_string()),
        }
    }

    /// The provider named the message in a receipt before (or instead of) answering the send:
    /// the open attempt went out.
    fn link(&mut self, provider: Provider, provider_message_id: &str, now: DateTime<Utc>) {
        if let Some(a) = self.current_attempt() {
            a.outcome = AttemptOutcome::Sent;
        }
        self.provider = Some(provider);
        self.provider_message_id = Some(provider_message_id.to_string());
        self.sent_at.get_or_insert(now);
        self.error_code = None;
        self.error_message = None;
        self.due_at = None;
        if self.status == Status::Sending {
            self.set_status(Status::Sent, now);
        }
    }

    /// Applies a provider receipt. None when the message is already further along; else
    /// the (actual, reserved) cents to settle, when the receipt settles the reservation.
    pub fn apply_receipt(&mut self, r: &Receipt, now: DateTime<Utc>) -> Option<Option<(i64, u64)>> {
        if r.tenant_id.as_ref().is_some_and(|t| *t != self.tenant_id) {
            tracing::warn!(message_id = %self.id, provider = %r.provider, "receipt verified by another tenant's credentials ignored");
            return None;
        }
        let linked = match &self.provider_message_id {
            Some(p) if *p != r.provider_message_id => return None,
            Some(_) => false,
            None if r.message_id.as_ref() == Some(&self.id) => {
                self.link(r.provider, &r.provider_message_id, now);
                true
            }
            None => return None,
        };
        if !self.status.accepts_receipt(r.status) {
            return linked.then_some(None);
        }
        match r.status {
            Status::Failed => {
                self.error_code = Some(r.error.unwrap_or(ErrorCode::Undeliverable));
                self.error_message = r
                    .error_message
                    .clone()
                    .or_else(|| r.error_code.as_ref().map(|c| format!("{} error {c}", r.provider)));
                self.dead_lettered = true;
                self.due_at = None;
            }
            other => super::Progress::of(other, r.at).apply(self),
        }
        let settle = match (self.sane_price(r.price_cents), r.status) {
            (Some(price), _) => Some((price, std::mem::take(&mut self.reserved_cents))),
            (None, Status::Failed) => Some((0, std::mem::take(&mut self.reserved_cents))),
            _ => None,
        };
        self.set_status(r.status, now);
        Some(settle)
    }

    /// A reported price settles the reservation only when it is a plausible charge for this
    /// message: not negative, and at most ten times the estimate (or a dollar).
    fn sane_price(&self, price: Option<i64>) -> Option<i64> {
        let bound = (self.estimated_cost_cents as i64).saturating_mul(10).max(100);
        match price {
            Some(p) if (0..=bound).contains(&p) => Some(p),
            Some(p) => {
                tracing::warn!(message_id = %self.id, price_cents = p, bound, "implausible provider price ignored");
                None
            }
            None => None,
        }
    }
}
