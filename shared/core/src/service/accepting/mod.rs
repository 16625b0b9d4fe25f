//! Accepting a message: validate, check the policy, price, enqueue, then record. With an
//! Idempotency-Key the key's record (naming the message) is written first, then the job, then
//! the message, each one write (no transaction): a retry completes a request that stopped
//! between them. The job goes first so that no accepted message can miss its queue: a
//! request that stops after the enqueue leaves a job whose message never appears (the sender
//! waits briefly, then drops it — the client got no answer), and a failed enqueue is a `503`
//! with nothing written. So a normal message needs no work-index entry (no due time) to be
//! found again — see `Sending::process` for the sender that dies mid-call.
mod batch;
mod draft;
mod request;
#[cfg(test)]
mod tests;

pub use request::{validate, Acceptance, SendRequest, TemplateRequest, Validated, MAX_IDEMPOTENCY_KEY, MAX_SMS_CHARS};

use super::policy::Policy;
use super::support::{complete, insert_once, Once, Outbox, Unwritten};
use super::{Caller, HeraldError};
use crate::address::Address;
use crate::channel::Channel;
use crate::ids::{CorrelationId, KeyMode};
use crate::message::Message;
use crate::ports::{CallbackTargets, Clock, IdempotencyStore, MessageStore, NumberStore};
use crate::pricing::Pricing;
use crate::status::Status;
use crate::tenant::{ApiKeyRecord, IdempotencyRecord, Tenant};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub struct Accepting {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) identities: Arc<super::tenancy::Identities>,
    pub(crate) targets: Arc<dyn CallbackTargets>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pricing: Pricing,
    pub(crate) enqueue_grace: std::time::Duration,
}

/// One accepted request, before it is written.
pub(crate) struct Intake<'a> {
    pub tenant: &'a Tenant,
    pub key: &'a ApiKeyRecord,
    pub req: SendRequest,
    pub valid: Validated,
    pub notes: Vec<String>,
    pub idempotency_key: Option<String>,
    pub correlation_id: CorrelationId,
}

fn request_hash(req: &SendRequest) -> String {
    let canonical = serde_json::to_value(req).unwrap_or_default();
    hex::encode(Sha256::digest(serde_json::to_vec(&canonical).unwrap_or_default()))
}

fn replay(prev: IdempotencyRecord, request_hash: &str) -> Result<Acceptance, HeraldError> {
    if prev.request_hash != request_hash {
        return Err(HeraldError::IdempotencyKeyReused);
    }
    serde_json::from_value(prev.response)
        .map_err(|e| HeraldError::Unavailable(format!("stored idempotent answer unreadable: {e}")))
}

impl Accepting {
    /// The answer of a taken key; the message it names is written now if its first request
    /// stopped before writing it.
    async fn answer_again(
        &self,
        prev: IdempotencyRecord,
        hash: &str,
        mut msg: Message,
    ) -> Result<Acceptance, HeraldError> {
        let acceptance = replay(prev.clone(), hash)?;
        msg.correlation_id = acceptance.correlation_id.clone();
        if goes_now(&msg) {
            // Written before its job here (the first request's job may be gone): a due time
            // lets the dispatch job enqueue it if this enqueue fails or SQS drops the copy.
            msg.due_at = Some(self.clock.now() + super::support::duration(self.enqueue_grace));
        }
        if let Some(m) = complete(self.messages.as_ref(), &prev, msg).await? {
            if goes_now(&m) {
                self.outbox.enqueue(&m).await;
            }
        }
        Ok(acceptance)
    }

    pub async fn accept(
        &self,
        caller: &Caller,
        req: SendRequest,
        idempotency_key: Option<String>,
        correlation_id: CorrelationId,
    ) -> Result<Acceptance, HeraldError> {
        let Caller::Tenant { tenant, key } = caller else { return Err(HeraldError::Forbidden) };
        if idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY) {
            let message = "Idempotency-Key must be 1 to 255 characters";
            return Err(HeraldError::validation("Idempotency-Key", "INVALID_LENGTH", message));
        }
        let hash = request_hash(&req);
        // Keys are scoped by tenant (the record's partition) and by mode: a test send never
        // answers for a live one.
        let idempotency_key = idempotency_key.map(|k| match key.mode {
            KeyMode::Live => k,
            KeyMode::Test => format!("test:{k}"),
        });
        if let Some(k) = &idempotency_key {
            if let Some(prev) = self.idempotency.idempotency(&tenant.id, k).await? {
                // Answered at once unless its message is missing (then completed below).
                let written = match &prev.message_id {
                    Some(id) => self.messages.message(id).await?.is_some(),
                    None => true,
                };
                if written || prev.request_hash != hash {
                    return replay(prev, &hash);
                }
            }
        }
        let valid = self.validated(tenant, key.mode, &req).await?;
        let intake = Intake { tenant, key, req, valid, notes: vec![], idempotency_key, correlation_id };
        let intake = self.admit(intake).await?;
        self.record(intake, &hash).await
    }

    /// Validation, plus the ownership of a requested sender (live keys only).
    async fn validated(&self, tenant: &Tenant, mode: KeyMode, req: &SendRequest) -> Result<Validated, HeraldError> {
        let valid = validate(tenant.default_country.as_deref(), req)?;
        match (&valid.from, mode) {
            (Some(Address::Phone(from)), KeyMode::Live) => {
                let number = self.numbers.number(from.as_str()).await?;
                if number.is_none_or(|n| n.tenant_id != tenant.id) {
                    let message = "'from' must be one of the tenant's registered numbers";
                    return Err(HeraldError::validation("from", "NOT_REGISTERED", message));
                }
            }
            // Test keys too: nobody sends as a domain they have not proven.
            (Some(Address::Email(from)), _) => self.identities.require_verified(&tenant.id, from).await?,
            _ => {}
        }
        if let Some(url) = &req.callback_url {
            let refused =
                |e: crate::ports::TargetRefused| HeraldError::validation("callback_url", "FORBIDDEN_TARGET", e.0);
            self.targets.check(url).await.map_err(refused)?;
        }
        Ok(valid)
    }

    /// The policy checks that refuse at once: channel flag, rate limit, WhatsApp window
    /// (falling back to SMS when asked), do-not-contact.
    async fn admit<'a>(&self, mut intake: Intake<'a>) -> Result<Intake<'a>, HeraldError> {
        let (tenant, channel) = (intake.tenant, intake.req.channel);
        if !self.policy.channel_enabled(channel).await? {
            return Err(HeraldError::ChannelDisabled(channel));
        }
        self.policy.check_rate(tenant).await?;
        let needs_window = channel == Channel::Whatsapp && intake.req.template.is_none();
        if needs_window && !self.policy.whatsapp_window_open(&tenant.id, &intake.valid.to).await? {
            if !intake.req.fallback_channels.as_ref().is_some_and(|f| f.contains(&Channel::Sms)) {
                return Err(HeraldError::WhatsappTemplateRequired);
            }
            if !self.policy.channel_enabled(Channel::Sms).await? {
                return Err(HeraldError::ChannelDisabled(Channel::Sms));
            }
            intake.req.channel = Channel::Sms;
            intake.req.fallback_channels = None;
            intake.valid = self.validated(tenant, intake.key.mode, &intake.req).await?;
            intake.notes.push("fallback:whatsapp->sms:outside_24h_window".to_string());
        }
        if self.policy.blocked(&tenant.id, &intake.valid.to).await?.is_some() {
            return Err(HeraldError::RecipientOptedOut);
        }
        Ok(intake)
    }

    /// Reserves the budget and drafts the message and its answer (nothing written yet).
    async fn reserve_and_draft(&self, intake: Intake<'_>) -> Result<(Message, Acceptance), HeraldError> {
        let (tenant, mode) = (intake.tenant, intake.key.mode);
        let cost = self.pricing.estimate(intake.req.channel, intake.valid.region.as_deref(), intake.valid.segments);
        let period = if mode == KeyMode::Live { self.policy.reserve(tenant, cost).await? } else { None };
        let msg = self.draft(intake, cost, period);
        let acceptance = Acceptance {
            id: msg.id.clone(),
            status: msg.status,
            deferred_until: msg.deferred_until,
            segments: msg.segments,
            encoding: msg.encoding,
            estimated_cost_cents: cost,
            correlation_id: msg.correlation_id.clone(),
        };
        Ok((msg, acceptance))
    }

    /// Reserves the budget, writes the idempotency record and the message, enqueues it.
    async fn record(&self, intake: Intake<'_>, hash: &str) -> Result<Acceptance, HeraldError> {
        let tenant = intake.tenant;
        let key = intake.idempotency_key.clone();
        let (msg, acceptance) = self.reserve_and_draft(intake).await?;
        let idem = key.as_ref().map(|k| IdempotencyRecord {
            tenant_id: tenant.id.clone(),
            key: k.clone(),
            request_hash: hash.to_string(),
            response: serde_json::to_value(&acceptance).unwrap_or_default(),
            created_at: msg.created_at,
            message_id: Some(msg.id.clone()),
        });
        // A message to send now is on its queue before it is written: a request that stops
        // between the two leaves a job without a message (the sender waits for it, then drops
        // it; the client had no answer), never a message without a job.
        let first = goes_now(&msg).then_some(self.outbox.as_ref());
        let written = insert_once(self.idempotency.as_ref(), self.messages.as_ref(), idem.as_ref(), &msg, first).await;
        match written {
            Ok(Once::Created(true)) => {}
            Ok(Once::Created(false)) => return Ok(acceptance),
            Ok(Once::Taken(prev)) => {
                self.policy.release_reservation(&msg, msg.reserved_cents).await;
                return self.answer_again(prev, hash, msg).await;
            }
            Err(Unwritten { error, key_claimed }) => {
                // With its key taken, the request is half done, as after a crash: the retry
                // completes the message without reserving again, so the reservation stays.
                if !key_claimed {
                    self.policy.release_reservation(&msg, msg.reserved_cents).await;
                }
                return Err(error);
            }
        }
        accepted(&msg);
        Ok(acceptance)
    }
}

/// A message that goes on its queue at acceptance (not held, not deferred).
fn goes_now(msg: &Message) -> bool {
    msg.status == Status::Queued && msg.hold_reason.is_none()
}

fn accepted(msg: &Message) {
    tracing::info!(
        message_id = %msg.id, tenant_id = %msg.tenant_id, channel = %msg.channel, correlation_id = %msg.correlation_id,
        segments = msg.segments, status = %msg.status, "message accepted"
    );
}
