//! Accepting a message: validate, ask the send policy (`Policy::at_acceptance`: refuse, hold,
//! price and reserve), enqueue, then record. With an
//! Idempotency-Key the key's record (naming the message) is written first, then the job, then
//! the message, each one write (no transaction): a retry completes a request that stopped
//! between them. The job goes first so that no accepted message can miss its queue: a
//! request that stops after the enqueue leaves a job whose message never appears (the sender
//! waits briefly, then drops it — the client got no answer), and a failed enqueue is a `503`
//! with nothing written. So a normal message needs no work-index entry (no due time) to be
//! found again — see `Sending::index_claim` (`sending/recover.rs`) for the sender that dies
//! mid-call.
mod batch;
mod draft;
mod request;
#[cfg(test)]
mod tests;

pub use request::{validate, Acceptance, SendRequest, TemplateRequest, Validated, MAX_IDEMPOTENCY_KEY, MAX_SMS_CHARS};

use super::budget::Budgets;
use super::policy::{AcceptCheck, Hold, Policy, Revalidate};
use super::support::{complete, insert_once, Once, Outbox, Unwritten};
use super::{Caller, HeraldError};
use crate::address::Address;
use crate::guards::BudgetPeriod;
use crate::ids::{CorrelationId, KeyMode};
use crate::message::Message;
use crate::ports::{CallbackTargets, Clock, IdempotencyStore, MessageStore, NumberStore};
use crate::status::Status;
use crate::tenant::{ApiKeyRecord, IdempotencyRecord, Tenant};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub struct Accepting {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) identities: Arc<super::tenancy::Identities>,
    pub(crate) targets: Arc<dyn CallbackTargets>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
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
    pub admitted: Admitted,
}

/// A message's size and price before it is sent.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Preview {
    /// The recipient as it will be stored (E.164, or a lower-cased address).
    pub to: String,
    pub characters: u32,
    pub segments: u32,
    pub encoding: Option<crate::segments::Encoding>,
    pub estimated_cost_cents: u64,
}

/// What the send policy decided for an admitted request.
#[derive(Default)]
pub(crate) struct Admitted {
    pub hold: Option<Hold>,
    pub cost: u64,
    pub reserved: Option<BudgetPeriod>,
}

impl<'a> Intake<'a> {
    fn new(
        tenant: &'a Tenant,
        key: &'a ApiKeyRecord,
        req: SendRequest,
        valid: Validated,
        idempotency_key: Option<String>,
        correlation_id: CorrelationId,
    ) -> Self {
        Intake {
            tenant,
            key,
            req,
            valid,
            notes: vec![],
            idempotency_key,
            correlation_id,
            admitted: Admitted::default(),
        }
    }
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
            msg.await_job(self.clock.now(), self.enqueue_grace);
        }
        if let Some(m) = complete(self.messages.as_ref(), &prev, msg).await? {
            if goes_now(&m) {
                self.outbox.enqueue(&m).await;
            }
        }
        Ok(acceptance)
    }

    #[tracing::instrument(name = "accept", skip_all, fields(channel = %req.channel))]
    pub async fn accept(
        &self,
        caller: &Caller,
        req: SendRequest,
        idempotency_key: Option<String>,
        correlation_id: CorrelationId,
    ) -> Result<Acceptance, HeraldError> {
        let Caller::Tenant { tenant, key, .. } = caller else { return Err(HeraldError::Forbidden) };
        if idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY) {
            let message = "Idempotency-Key must be 1 to 255 characters";
            return Err(HeraldError::validation("Idempotency-Key", "INVALID_LENGTH", message));
        }
        let hash = request_hash(&req);
        // Keys are scoped by tenant (the record's partition) and by mode: a test send never
        // answers for a live one. The separator is one no header value can carry, so no live
        // key spells a test one.
        let idempotency_key = idempotency_key.map(|k| match key.mode {
            KeyMode::Live => k,
            KeyMode::Test => format!("test\n{k}"),
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
        let intake = Intake::new(tenant, key, req, valid, idempotency_key, correlation_id);
        let intake = self.admit(intake).await?;
        self.record(intake, &hash).await
    }

    /// `POST /v1/messages/preview`: what sending would cost, without sending (the console's
    /// compose page shows it before the send button).
    pub async fn preview(&self, caller: &Caller, req: &SendRequest) -> Result<Preview, HeraldError> {
        let tenant = caller.tenant()?;
        let valid = validate(tenant.default_country.as_deref(), req)?;
        Ok(Preview {
            to: valid.to.as_str().to_string(),
            characters: req.body.as_deref().map(|b| b.chars().count() as u32).unwrap_or(0),
            segments: valid.segments,
            encoding: valid.encoding,
            estimated_cost_cents: self.policy.estimate(req.channel, valid.region.as_deref(), valid.segments),
        })
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

    /// Asks the send policy (`Policy::at_acceptance`): refused with its code, or admitted
    /// (perhaps to be held, perhaps falling back to SMS), priced and its budget reserved.
    async fn admit<'a>(&self, mut intake: Intake<'a>) -> Result<Intake<'a>, HeraldError> {
        let mut check = AcceptCheck {
            tenant: intake.tenant,
            mode: intake.key.mode,
            req: &mut intake.req,
            valid: &mut intake.valid,
            notes: &mut intake.notes,
            revalidate: self,
            now: self.clock.now(),
            hold: None,
            cost: 0,
            reserved: None,
        };
        self.policy.at_acceptance(&mut check).await?;
        intake.admitted = Admitted { hold: check.hold, cost: check.cost, reserved: check.reserved };
        Ok(intake)
    }

    /// Drafts the admitted message and its answer (nothing written yet).
    fn draft_answer(&self, intake: Intake<'_>) -> (Message, Acceptance) {
        let msg = self.draft(intake);
        let acceptance = Acceptance {
            id: msg.id.clone(),
            status: msg.status,
            deferred_until: msg.deferred_until,
            segments: msg.segments,
            encoding: msg.encoding,
            estimated_cost_cents: msg.estimated_cost_cents,
            correlation_id: msg.correlation_id.clone(),
        };
        (msg, acceptance)
    }

    /// Writes the idempotency record and the message, enqueued first when it goes now.
    async fn record(&self, intake: Intake<'_>, hash: &str) -> Result<Acceptance, HeraldError> {
        let tenant = intake.tenant;
        let key = intake.idempotency_key.clone();
        let (msg, acceptance) = self.draft_answer(intake);
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
                self.budgets.release(&msg, msg.reserved_cents).await;
                return self.answer_again(prev, hash, msg).await;
            }
            Err(Unwritten { error, key_claimed }) => {
                // With its key taken, the request is half done, as after a crash: the retry
                // completes the message without reserving again, so the reservation stays.
                if !key_claimed {
                    self.budgets.release(&msg, msg.reserved_cents).await;
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

#[async_trait::async_trait]
impl Revalidate for Accepting {
    async fn revalidate(&self, tenant: &Tenant, mode: KeyMode, req: &SendRequest) -> Result<Validated, HeraldError> {
        self.validated(tenant, mode, req).await
    }
}

fn accepted(msg: &Message) {
    tracing::info!(
        message_id = %msg.id, tenant_id = %msg.tenant_id, channel = %msg.channel, correlation_id = %msg.correlation_id,
        segments = msg.segments, status = %msg.status, "message accepted"
    );
}

impl Accepting {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        Accepting {
            messages: a.db.clone(),
            idempotency: a.db.clone(),
            numbers: a.config.clone(),
            policy: sh.policy.clone(),
            budgets: sh.budgets.clone(),
            identities: sh.identities.clone(),
            targets: a.callbacks.clone(),
            outbox: sh.outbox.clone(),
            clock: sh.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }
}
