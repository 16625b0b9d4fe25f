//! Holding messages out of the queue and releasing them. A held message waits in DynamoDB
//! (never as an SQS visibility timeout), under a hold key when its end is open.
use super::Gate;
use crate::ids::MessageId;
use crate::message::{HoldKey, Message};
use crate::ports::{Clock, MessageStore, PendingReleases, WorkIndex};
use crate::service::budget::Budgets;
use crate::service::support::{update_message, JobReport, Outbox};
use crate::service::HeraldError;
use crate::status::Status;
use crate::ErrorCode;
use std::sync::Arc;

const RELEASE_PAGE: u32 = 200;
/// One dispatch run releases at most this many per pending hold key.
const JOB_RELEASES: u32 = 2000;

pub struct Holds {
    messages: Arc<dyn MessageStore>,
    work: Arc<dyn WorkIndex>,
    releases: Arc<dyn PendingReleases>,
    outbox: Arc<Outbox>,
    budgets: Arc<Budgets>,
    clock: Arc<dyn Clock>,
    enqueue_grace: crate::message::EnqueueGrace,
}

impl Holds {
    pub fn new(
        messages: Arc<dyn MessageStore>,
        work: Arc<dyn WorkIndex>,
        releases: Arc<dyn PendingReleases>,
        outbox: Arc<Outbox>,
        budgets: Arc<Budgets>,
        clock: Arc<dyn Clock>,
        enqueue_grace: crate::message::EnqueueGrace,
    ) -> Self {
        Self { messages, work, releases, outbox, budgets, clock, enqueue_grace }
    }

    /// Applies a gate's decision to the message; it leaves the queue and waits in DynamoDB.
    pub async fn apply_gate(&self, msg: &Message, gate: Gate) -> Result<(), HeraldError> {
        let now = self.clock.now();
        let generation = msg.generation;
        let mut released = 0u64;
        let updated = update_message(self.messages.as_ref(), &msg.id, |m| {
            if m.generation != generation || !m.status.is_pending() {
                return false;
            }
            match &gate {
                Gate::Hold(h) => m.hold(h.reason, h.until, h.status, now),
                Gate::Suppress => {
                    m.hold_reason = None;
                    m.due_at = None;
                    m.error_code = Some(ErrorCode::RecipientOptedOut);
                    m.error_message =
                        Some("the recipient was added to the do-not-contact list after acceptance".into());
                    released = std::mem::take(&mut m.reserved_cents);
                    m.set_status(Status::Suppressed, now);
                }
            }
            true
        })
        .await?;
        if let Some(m) = updated {
            tracing::info!(
                message_id = %m.id, status = %m.status, hold_reason = ?m.hold_reason, deferred_until = ?m.deferred_until,
                "message held by the send policy"
            );
            self.budgets.release(&m, released).await;
            self.outbox.notify(&m).await;
        }
        Ok(())
    }

    /// Re-queues, oldest first, the messages waiting under `hold_key`. Returns how many.
    pub async fn release_holds(&self, hold_key: &HoldKey, max: u32) -> Result<u32, HeraldError> {
        let mut released = 0;
        while released < max {
            let ids = self.work.held(&hold_key.to_string(), RELEASE_PAGE.min(max - released)).await?;
            if ids.is_empty() {
                break;
            }
            let mut progressed = false;
            for id in ids {
                if self.release_one(&id, hold_key).await? {
                    released += 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(released)
    }

    async fn release_one(&self, id: &MessageId, hold_key: &HoldKey) -> Result<bool, HeraldError> {
        let now = self.clock.now();
        let grace = self.enqueue_grace;
        let m = update_message(self.messages.as_ref(), id, |m| {
            if m.hold_key().as_ref() != Some(hold_key) {
                return false;
            }
            m.requeue(now);
            m.await_job(now, grace);
            true
        })
        .await?;
        match m {
            Some(m) if m.status == Status::Queued && m.updated_at == now => {
                self.outbox.enqueue(&m).await;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Releases now what fits in one call and leaves the rest to the dispatch job.
    pub async fn release_or_defer(&self, hold_key: &HoldKey) -> Result<u32, HeraldError> {
        let n = self.release_holds(hold_key, RELEASE_PAGE).await?;
        if n >= RELEASE_PAGE {
            self.releases.set_pending_release(&hold_key.to_string(), true).await?;
        }
        Ok(n)
    }

    /// The dispatch job's part: goes on with releases a call left unfinished.
    pub async fn continue_releases(&self, report: &mut JobReport) -> Result<(), HeraldError> {
        for stored in self.releases.pending_releases().await? {
            let Some(key) = HoldKey::parse(&stored) else {
                tracing::warn!(key = %stored, "pending release under a key that names no hold; dropped");
                self.releases.set_pending_release(&stored, false).await?;
                continue;
            };
            let n = self.release_holds(&key, JOB_RELEASES).await?;
            report.released += n;
            if n < JOB_RELEASES {
                self.releases.set_pending_release(&stored, false).await?;
            }
        }
        Ok(())
    }
}
