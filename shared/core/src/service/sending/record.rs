//! Claim, call, record: the attempt is claimed with a conditional write, the provider is
//! called once, and its answer is applied to the freshest copy of the message.
use super::{JobOutcome, Plan, Sending};
use crate::address::{Address, E164};
use crate::errors::ProviderFailure;
use crate::message::{HoldKey, HoldReason, Message};
use crate::ports::{Accepted, Outbound};
use crate::service::support::{duration, update_message_from};
use crate::service::HeraldError;
use crate::Channel;
use chrono::{DateTime, Utc};

impl Sending {
    /// The at-most-once guard: `queued → sending` on the version read. None when another
    /// sender claimed it first.
    pub(crate) async fn claim(&self, msg: &Message, plan: &Plan) -> Result<Option<Message>, HeraldError> {
        let now = self.clock.now();
        let mut claimed = msg.clone();
        if let Some(note) = &plan.failover {
            claimed.notes.push(note.clone());
        }
        claimed.begin_attempt(plan.provider, now);
        if msg.channel == Channel::Sms {
            claimed.from = plan.from.clone().map(|f| Address::Phone(E164::from_stored(f))).or(claimed.from.clone());
        }
        // No index write: if this sender dies mid-call, SQS redelivers the job and that puts
        // the claim in the work index (`recover.rs`). A message queued with a due time (a
        // release, a retry) keeps it: stale recovery waits until `stale_after` past the claim.
        claimed.due_at = msg.due_at;
        claimed.version += 1;
        if !self.messages.replace(&claimed).await? {
            tracing::info!(message_id = %msg.id, "another sender claimed this message first");
            return Ok(None);
        }
        Ok(Some(claimed))
    }

    /// Calls the provider once and records what it answered.
    pub(crate) async fn call(&self, claimed: Message, plan: Plan) -> Result<JobOutcome, HeraldError> {
        let attempt_no = claimed.attempts.len() as u32;
        tracing::info!(
            message_id = %claimed.id, tenant_id = %claimed.tenant_id, correlation_id = %claimed.correlation_id,
            provider = %plan.provider, attempt = attempt_no, "calling provider"
        );
        let out = Outbound {
            provider: plan.provider,
            secrets: &plan.secrets,
            config: plan.config.as_ref(),
            message: &claimed,
            from: plan.from.as_deref(),
        };
        let started = std::time::Instant::now();
        let result = self.providers.send(&out).await;
        // Provider API latency (the outbound runbook's alert): one value per call.
        let took = started.elapsed().as_millis() as f64;
        crate::metrics::emit("provider_call_ms", took, &[("provider", plan.provider.as_str())]);
        tracing::info!(message_id = %claimed.id, provider = %plan.provider, duration_ms = took, ok = result.is_ok(), "provider answered");
        let outcome = result.as_ref().err().map(|f| f.classify());
        if let Err(e) = self.breakers.record_outcome(&plan.account, outcome, plan.probe).await {
            tracing::warn!(error = %e, "could not record the provider outcome for the circuit breaker");
        }
        let closed_circuit = plan.probe && result.is_ok();
        // The provider's answer is recorded first: nothing after it (the release below) may
        // delay it past the invocation's deadline and leave a sent message looking unsent.
        let recorded = match result {
            Ok(accepted) => self.attempt_sent(&claimed, attempt_no, accepted).await,
            // A failed probe re-opened the circuit: the message goes straight back through
            // admission (failover or a visible hold) instead of probing again after a back-off.
            Err(failure) => self.attempt_failed(&claimed, attempt_no, failure, plan.probe).await,
        };
        if closed_circuit {
            // The probe closed the circuit: what it held goes back to the queue, oldest first.
            let key = HoldKey::Channel(HoldReason::ProviderCircuitOpen, claimed.channel);
            match self.holds.release_or_defer(&key).await {
                Ok(n) => tracing::info!(released = n, "circuit closed: held messages released"),
                Err(e) => tracing::warn!(error = %e, "could not release the circuit's holds; the dispatch job will"),
            }
        }
        recorded
    }

    async fn attempt_sent(
        &self,
        msg: &Message,
        attempt_no: u32,
        accepted: Accepted,
    ) -> Result<JobOutcome, HeraldError> {
        let provider = msg.provider.unwrap_or(crate::Provider::Simulator);
        let pmid = accepted.provider_message_id;
        tracing::info!(message_id = %msg.id, provider = %provider, provider_message_id = %pmid, "provider accepted");
        let m = self
            .finish_attempt(msg, attempt_no, |m, now| {
                m.record_sent(pmid.clone(), now, accepted.delivered);
                m.receipts_by_id = accepted.linked;
            })
            .await?;
        if let Some(m) = m {
            self.outbox.notify(&m).await;
            if !accepted.linked {
                self.receipts.apply_orphans(provider, &pmid).await;
            }
        }
        Ok(JobOutcome::Done)
    }

    async fn attempt_failed(
        &self,
        msg: &Message,
        attempt_no: u32,
        failure: ProviderFailure,
        probe: bool,
    ) -> Result<JobOutcome, HeraldError> {
        if failure.ambiguous {
            return self.attempt_unknown(msg, attempt_no, failure).await;
        }
        let class = failure.classify();
        let provider_code = failure.code.clone().or(failure.http_status.map(|s| s.to_string()));
        let counted = attempt_no.saturating_sub(msg.attempts_offset);
        let exhausted = self.settings.retry.exhausted(counted);
        tracing::warn!(
            message_id = %msg.id, provider = %failure.provider, attempt = attempt_no, http_status = ?failure.http_status,
            provider_code = ?failure.code, error_code = class.code.as_str(), retryable = class.retryable, exhausted,
            "provider refused"
        );
        if class.retryable && !exhausted {
            let delay = if probe {
                std::time::Duration::ZERO
            } else {
                self.settings.retry.delay(counted, failure.retry_after, &mut rand::thread_rng())
            };
            let next = self.clock.now() + duration(delay);
            let grace = self.settings.enqueue_grace;
            self.finish_attempt(msg, attempt_no, |m, now| {
                m.record_retry(class.code, provider_code.clone(), failure.message.clone(), now, next);
                // The work index looks again only if the queue loses the message.
                m.await_job(next, grace);
            })
            .await?;
            return Ok(JobOutcome::RetryAfter(delay));
        }
        let released = std::sync::atomic::AtomicU64::new(0);
        let m = self
            .finish_attempt(msg, attempt_no, |m, now| {
                released.store(std::mem::take(&mut m.reserved_cents), std::sync::atomic::Ordering::SeqCst);
                m.record_failure(class.code, provider_code.clone(), failure.message.clone(), now)
            })
            .await?;
        if let Some(m) = m {
            self.budgets.release(&m, released.load(std::sync::atomic::Ordering::SeqCst)).await;
            self.outbox.notify(&m).await;
        }
        Ok(JobOutcome::DeadLetter { reason: class.code.as_str().into() })
    }

    /// The provider may have the message: it is not re-sent now. A receipt (linked by Herald's
    /// id in the per-message callback) or the stale-recovery job's lookup settles it.
    async fn attempt_unknown(
        &self,
        msg: &Message,
        attempt_no: u32,
        failure: ProviderFailure,
    ) -> Result<JobOutcome, HeraldError> {
        let recheck = self.clock.now() + duration(self.settings.ambiguous_wait);
        tracing::warn!(
            message_id = %msg.id, provider = %failure.provider, attempt = attempt_no,
            "provider outcome unknown; not re-sent until a receipt or a lookup settles it"
        );
        self.finish_attempt(msg, attempt_no, |m, now| m.record_unknown(failure.message.clone(), now, recheck)).await?;
        Ok(JobOutcome::Done)
    }

    /// Applies the attempt's result to the freshest copy (a receipt may have landed first).
    async fn finish_attempt<F>(&self, msg: &Message, attempt_no: u32, apply: F) -> Result<Option<Message>, HeraldError>
    where
        F: Fn(&mut Message, DateTime<Utc>) + Send + Sync,
    {
        let now = self.clock.now();
        let mut applied = false;
        // The claimed copy is tried first: a receipt that landed meanwhile makes that write
        // lose its version check, and the retry reads the fresh copy.
        let m = update_message_from(self.messages.as_ref(), &msg.id, Some(msg.clone()), |m| {
            if m.attempts.len() as u32 != attempt_no {
                return false;
            }
            apply(m, now);
            applied = true;
            true
        })
        .await?;
        Ok(m.filter(|_| applied))
    }
}
