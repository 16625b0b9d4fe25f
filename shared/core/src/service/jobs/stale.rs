//! Stale recovery: a message left in `sending` (the sender died between the provider call
//! and the status write) is looked up at the provider before anything is re-sent. It finds
//! such a message in the work index, where the redelivery of its unacknowledged job put it
//! (`sending/recover.rs`).
//!
//! Guarantee: with Twilio, at most once — the message is re-sent only when the provider's
//! message list (by recipient, sender and day, matched on the body) does not have it. With
//! providers that cannot be searched (Telnyx, WhatsApp, SES), at least once: a receipt for
//! the message would already have linked it, so no trace after `HERALD_STALE_AFTER` means it
//! is re-sent, and a provider that did get it sends a duplicate.
use crate::errors::ErrorCode;
use crate::message::{Attempt, AttemptOutcome, Message};
use crate::ports::{ChannelStore, Clock, MessageStore, ProviderGateway, SecretStore, WorkIndex};
use crate::ports::{Lookup, Outbound, WorkState};
use crate::service::receipts::Receipts;
use crate::service::support::{channel_secrets, duration, update_message, JobReport, Outbox};
use crate::service::HeraldError;
use crate::status::Status;
use serde_json::json;
use std::sync::Arc;

pub struct Recovery {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) work: Arc<dyn WorkIndex>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) providers: Arc<dyn ProviderGateway>,
    pub(crate) receipts: Arc<Receipts>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) stale_after: std::time::Duration,
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
}

impl Recovery {
    pub async fn run(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "stale-recovery".into(), ..Default::default() };
        let now = self.clock.now();
        // The active entries hold queued messages too: the dispatch job handles those.
        for id in self.work.due(WorkState::Active, now, 100).await? {
            let Some(msg) = self.messages.message(&id).await? else { continue };
            if msg.status != Status::Sending || msg.due_at.is_none_or(|d| d > now) {
                continue;
            }
            report.examined += 1;
            let Some(attempt) = msg.open_attempt().cloned() else { continue };
            // The claim kept the due time it was queued with: a send claimed late is not
            // stale until `stale_after` after its claim.
            let stale_at = attempt.at + duration(self.stale_after);
            if attempt.outcome == AttemptOutcome::InProgress && stale_at > now {
                self.look_again_at(&msg, stale_at).await?;
                continue;
            }
            // The runbook's "stuck in sending" alert: one per message found stale.
            crate::metrics::emit("stuck_sending", 1.0, &[("channel", msg.channel.as_str())]);
            let config = self.channels.effective_channel(&msg.tenant_id, msg.channel).await?;
            let secrets = match &config {
                Some(c) => channel_secrets(self.secrets.as_ref(), c).await?,
                None => Default::default(),
            };
            let out = Outbound {
                provider: attempt.provider,
                secrets: &secrets,
                config: config.as_ref(),
                message: &msg,
                from: msg.from.as_deref(),
            };
            // Only a message created after this attempt's claim can be this attempt (a clock
            // skew of a few seconds allowed); an earlier one with the same text is another.
            match self.providers.lookup(&out, attempt.at - chrono::Duration::seconds(5)).await {
                Ok(Lookup::Found { provider_message_id, delivered }) => {
                    self.found(&msg, &attempt, provider_message_id, delivered, &mut report).await?
                }
                Ok(lookup) => self.requeue(&msg, &attempt, lookup == Lookup::NotFound, &mut report).await?,
                Err(e) => {
                    // The provider cannot answer now: look again on the next run.
                    report.errors += 1;
                    tracing::warn!(message_id = %msg.id, provider = %attempt.provider, error = %e.message, "stale message: provider lookup failed");
                    self.look_again_later(&msg).await?;
                }
            }
        }
        Ok(report)
    }

    async fn look_again_later(&self, msg: &Message) -> Result<(), HeraldError> {
        self.look_again_at(msg, self.clock.now() + duration(self.stale_after)).await
    }

    async fn look_again_at(&self, msg: &Message, later: chrono::DateTime<chrono::Utc>) -> Result<(), HeraldError> {
        update_message(self.messages.as_ref(), &msg.id, |m| {
            if m.status != Status::Sending {
                return false;
            }
            m.due_at = Some(later);
            true
        })
        .await?;
        Ok(())
    }

    /// The provider has it: recorded as sent, never sent again.
    async fn found(
        &self,
        msg: &Message,
        attempt: &Attempt,
        provider_message_id: String,
        delivered: bool,
        report: &mut JobReport,
    ) -> Result<(), HeraldError> {
        let (now, n) = (self.clock.now(), attempt.n);
        let m = update_message(self.messages.as_ref(), &msg.id, |m| {
            if m.status != Status::Sending || m.attempts.len() as u32 != n {
                return false;
            }
            m.record_sent(provider_message_id.clone(), now, delivered);
            m.due_at = None;
            m.notes.push("stale_recovery:found_at_provider".into());
            true
        })
        .await?;
        if let Some(m) = m.filter(|m| m.status != Status::Sending) {
            tracing::warn!(message_id = %m.id, "stale message was found at the provider; not sent again");
            report
                .details
                .push(json!({"message_id": m.id, "action": "found", "provider_message_id": provider_message_id}));
            self.outbox.notify(&m).await;
            self.receipts.apply_orphans(attempt.provider, &provider_message_id).await;
        }
        Ok(())
    }

    /// Not at the provider (or it cannot be asked): back in the queue.
    async fn requeue(
        &self,
        msg: &Message,
        attempt: &Attempt,
        not_found: bool,
        report: &mut JobReport,
    ) -> Result<(), HeraldError> {
        let (now, n) = (self.clock.now(), attempt.n);
        let grace = self.enqueue_grace;
        let m = update_message(self.messages.as_ref(), &msg.id, |m| {
            if m.status != Status::Sending || m.attempts.len() as u32 != n {
                return false;
            }
            let why = match (not_found, m.attempts.last().map(|a| a.outcome)) {
                (true, _) => "not_at_provider",
                (false, Some(AttemptOutcome::Unknown)) => "ambiguous_no_receipt_resent",
                (false, _) => "no_lookup",
            };
            if let Some(a) = m.attempts.last_mut() {
                a.outcome = AttemptOutcome::Retry;
                a.error_code = Some(ErrorCode::TemporaryError);
            }
            m.notes.push(format!("stale_recovery:{why}"));
            m.requeue(now);
            m.await_job(now, grace);
            true
        })
        .await?;
        if let Some(m) = m.filter(|m| m.status == Status::Queued) {
            tracing::warn!(message_id = %m.id, "stale message re-queued");
            report.requeued += 1;
            report.details.push(json!({"message_id": m.id, "action": "requeued"}));
            self.outbox.enqueue(&m).await;
        }
        Ok(())
    }
}
