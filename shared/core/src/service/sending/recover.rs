//! The two jobs a sender gets that are not a normal send: one whose message is not written
//! (yet), and one redelivered while its message is claimed.
//!
//! Acceptance enqueues before it writes, so a job can arrive a moment before its message, or
//! — when the request stopped between the two — without one ever coming (that client got no
//! answer: nothing was accepted). A claim writes no work-index entry: while the sender that
//! claimed a message is alive, it records the result and SQS deletes the job. If it dies
//! mid-call, SQS redelivers the job after the visibility timeout, and that redelivery puts
//! the message in the work index at `claim + HERALD_STALE_AFTER`, where stale recovery (and
//! the console's stuck list) find it — the provider is never called blindly again.
use super::{JobOutcome, Sending};
use crate::message::{AttemptOutcome, Message, SendJob};
use crate::service::support::{duration, update_message_from};
use crate::service::HeraldError;
use crate::status::Status;
use std::time::Duration;

/// How long a job may wait for its message: longer than any request that enqueued it can
/// still be writing (an API invocation's timeout, DynamoDB's own retries).
pub(crate) const UNWRITTEN_WAIT: Duration = Duration::from_secs(120);
/// Re-reads within one invocation before the job goes back to the queue.
const REREADS: [u64; 2] = [50, 200];

/// How long the job stays away before the next look: 1 s while its request may still be
/// writing, then a quarter of its age (≤ 30 s), so a job whose request stopped blocks its
/// group for `UNWRITTEN_WAIT` with about a dozen receives, not a hundred.
pub(crate) fn not_yet_delay(age: Duration) -> Duration {
    (age / 4).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

impl Sending {
    /// A job whose message is missing: read again briefly (the accepting request is usually
    /// writing it right now), then let the queue bring the job back, and drop it once it is
    /// older than `UNWRITTEN_WAIT`.
    pub(crate) async fn not_written(&self, job: &SendJob) -> Result<JobOutcome, HeraldError> {
        let created = job.message_id.created_ms().unwrap_or(0) as i64;
        let age = Duration::from_millis((self.clock.now().timestamp_millis() - created).max(0) as u64);
        if age >= UNWRITTEN_WAIT {
            tracing::warn!(message_id = %job.message_id, "job for a message never written (its request stopped); dropping the job");
            return Ok(JobOutcome::Done);
        }
        for ms in REREADS {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            if let (Some(msg), dnc) = self.read(job).await? {
                // Written now: the pipeline goes on from this read.
                return self.proceed(job, msg, dnc).await;
            }
        }
        tracing::info!(message_id = %job.message_id, "job arrived before its message; trying again shortly");
        Ok(JobOutcome::NotYet(not_yet_delay(age)))
    }

    /// A redelivered job of a claimed message: indexes the claim for stale recovery at
    /// `claim + stale_after` (once; an attempt already settled or indexed is left alone).
    pub(crate) async fn index_claim(&self, msg: &Message) -> Result<JobOutcome, HeraldError> {
        let Some(claimed_at) = msg.open_attempt().filter(|a| a.outcome == AttemptOutcome::InProgress).map(|a| a.at)
        else {
            return Ok(JobOutcome::Done);
        };
        let stale_at = claimed_at + duration(self.settings.stale_after);
        let generation = msg.generation;
        let mut indexed = false;
        // From the copy just read: an uncontended update is one write and no read.
        update_message_from(self.messages.as_ref(), &msg.id, Some(msg.clone()), |m| {
            indexed = m.status == Status::Sending
                && m.generation == generation
                && m.due_at.is_none()
                && m.open_attempt().is_some_and(|a| a.at == claimed_at && a.outcome == AttemptOutcome::InProgress);
            if indexed {
                m.due_at = Some(stale_at);
            }
            indexed
        })
        .await?;
        if indexed {
            tracing::warn!(message_id = %msg.id, stale_at = %stale_at, "job redelivered while its message is claimed; stale recovery will look at it");
        }
        Ok(JobOutcome::Done)
    }
}
