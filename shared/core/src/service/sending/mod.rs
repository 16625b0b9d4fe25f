//! Sending one queued message, as a pipeline: route (provider, credentials, sender) →
//! admit (the send policy and the circuit breaker) → claim → call the provider → record.
//! The `queued → sending` claim, conditioned on the version read, is written before the
//! provider is called: a redelivered or concurrent copy of the same SQS record loses that
//! condition and never calls the provider a second time.
mod admit;
mod record;
mod recover;
mod route;
#[cfg(test)]
mod tests;

use super::breakers::Breakers;
use super::budget::Budgets;
use super::policy::{Holds, Policy};
use super::receipts::Receipts;
use super::support::Outbox;
use super::HeraldError;
use crate::channel::Provider;
use crate::guards::DncEntry;
use crate::guards::ProviderAccount;
use crate::message::Message;
use crate::message::SendJob;
use crate::ports::SendReads;
use crate::ports::{ChannelStore, Clock, MessageStore, NumberStore, ProviderGateway, SecretStore};
use crate::retry::RetryPolicy;
use crate::status::Status;
use crate::tenant::{ChannelConfig, ChannelSecrets};
use std::sync::Arc;
use std::time::Duration;

/// What the queue consumer should do with the record.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Finished (sent, or nothing left to do): delete the record.
    Done,
    /// Keep the record, invisible for this long (retry back-off).
    RetryAfter(Duration),
    /// Keep the record, invisible for this long: its message is not written yet.
    NotYet(Duration),
    /// Terminal failure: recorded as a dead letter, delete the record.
    DeadLetter { reason: String },
}

/// How one attempt will go out: the provider, its credentials and the sender address.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub provider: Provider,
    /// The provider account the send goes through (its circuit breaker).
    pub account: ProviderAccount,
    pub secrets: ChannelSecrets,
    pub config: Option<ChannelConfig>,
    pub from: Option<String>,
    /// This attempt carries the half-open breaker's probe.
    pub probe: bool,
    /// Set when the circuit breaker moved the message to the backup provider.
    pub failover: Option<String>,
}

pub struct SendingSettings {
    pub retry: RetryPolicy,
    pub stale_after: Duration,
    pub enqueue_grace: crate::message::EnqueueGrace,
    /// How long an ambiguous attempt waits for its receipt before recovery looks it up.
    pub ambiguous_wait: Duration,
    /// The SES account's region (its breaker's key).
    pub ses_region: String,
}

pub struct Sending {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) reads: Arc<dyn SendReads>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) providers: Arc<dyn ProviderGateway>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) breakers: Arc<Breakers>,
    pub(crate) receipts: Arc<Receipts>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: SendingSettings,
}

impl Sending {
    /// Keeps the job on its queue, invisible for `delay`; a back-off (not a message still
    /// being written) is noted on the message, so an operator's retry-now finds it.
    pub async fn wait_out(&self, job: &SendJob, receipt_handle: &str, delay: Duration, backoff: bool) {
        if !self.outbox.retry_later(job.channel, receipt_handle, delay).await || !backoff {
            return;
        }
        if let Err(e) = self.note_backoff(job, receipt_handle).await {
            tracing::warn!(message_id = %job.message_id, error = %e, "could not note the back-off; retry-now will not find this message");
        }
    }

    /// Makes a job that was not tried (behind its group's failed head) visible at once.
    pub async fn release_untried(&self, job: &SendJob, receipt_handle: &str) {
        self.outbox.retry_later(job.channel, receipt_handle, Duration::ZERO).await;
    }

    /// Keeps the queue record's receipt handle on a message waiting out a back-off, so an
    /// operator's retry-now can make it visible at once.
    async fn note_backoff(&self, job: &SendJob, receipt_handle: &str) -> Result<(), HeraldError> {
        super::support::update_message(self.messages.as_ref(), &job.message_id, |m| {
            let waiting = m.status == Status::Queued && m.generation == job.generation;
            if waiting {
                m.backoff_handle = Some(receipt_handle.to_string());
            }
            waiting
        })
        .await?;
        Ok(())
    }

    /// The message, and its recipient's do-not-contact entry when the job names the
    /// recipient (read together; None: the send policy reads it itself).
    async fn read(&self, job: &SendJob) -> Result<(Option<Message>, Option<Option<DncEntry>>), HeraldError> {
        let Some(to) = &job.to else { return Ok((self.messages.message(&job.message_id).await?, None)) };
        let (msg, dnc) = self.reads.message_and_dnc(&job.message_id, &job.tenant_id, to).await?;
        // Only an entry for this message's own tenant and recipient answers for it.
        let same = msg.as_ref().is_some_and(|m| m.tenant_id == job.tenant_id && m.to.as_str() == to.as_str());
        Ok((msg, same.then_some(dnc)))
    }

    pub async fn process(&self, job: &SendJob) -> Result<JobOutcome, HeraldError> {
        match self.read(job).await? {
            (Some(msg), dnc) => self.proceed(job, msg, dnc).await,
            (None, _) => self.not_written(job).await,
        }
    }

    /// The pipeline, from the message (and do-not-contact entry) just read.
    async fn proceed(
        &self,
        job: &SendJob,
        msg: Message,
        dnc: Option<Option<DncEntry>>,
    ) -> Result<JobOutcome, HeraldError> {
        if msg.generation == job.generation && msg.status == Status::Sending {
            // Redelivered while claimed: the sender holding it died, or is still calling.
            return self.index_claim(&msg).await;
        }
        if msg.generation != job.generation || msg.status != Status::Queued {
            // An older enqueue, a duplicate delivery, or a message already handled.
            tracing::info!(
                message_id = %msg.id, status = %msg.status, generation = msg.generation, job_generation = job.generation,
                "stale or duplicate job; nothing to do"
            );
            return Ok(JobOutcome::Done);
        }
        if let Some(gate) = self.policy.before_send(&msg, dnc, None).await? {
            self.holds.apply_gate(&msg, gate).await?;
            return Ok(JobOutcome::Done);
        }
        let plan = match self.route(&msg).await? {
            Ok(plan) => plan,
            Err(unroutable) => return self.fail_unroutable(&msg, unroutable).await,
        };
        let Some(plan) = self.admit(&msg, plan).await? else { return Ok(JobOutcome::Done) };
        let Some(claimed) = self.claim(&msg, &plan).await? else { return Ok(JobOutcome::Done) };
        self.call(claimed, plan).await
    }
}

impl Sending {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
        breakers: Arc<Breakers>,
        receipts: Arc<Receipts>,
    ) -> Self {
        Sending {
            messages: a.db.clone(),
            reads: a.db.clone(),
            channels: a.config.clone(),
            numbers: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            policy: sh.policy.clone(),
            budgets: sh.budgets.clone(),
            holds: sh.holds.clone(),
            breakers,
            receipts,
            outbox: sh.outbox.clone(),
            clock: sh.clock.clone(),
            settings: SendingSettings {
                retry: s.retry.clone(),
                stale_after: s.stale_after,
                enqueue_grace: s.enqueue_grace.into(),
                ambiguous_wait: s.ambiguous_wait,
                ses_region: s.ses_region.clone(),
            },
        }
    }
}
