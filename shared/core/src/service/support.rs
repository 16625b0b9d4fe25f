//! Small pieces several use cases share: the versioned read-modify-write of a message, the
//! outbox (send queue and status callbacks), the audit trail and channel credentials.
use super::{Caller, HeraldError};
use crate::ids::{MessageId, TenantId};
use crate::inbound::CallbackJob;
use crate::message::Message;
use crate::ports::{
    AuditEntry, AuditFilter, AuditLog, CallbackQueue, Clock, IdempotencyStore, Inserted, MessageStore, Page,
};
use crate::ports::{Enqueued, SecretStore, SendQueue};
use crate::tenant::{ChannelConfig, ChannelSecrets, IdempotencyRecord};
use serde::Serialize;
use std::sync::Arc;

/// What a scheduled job did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct JobReport {
    pub job: String,
    pub examined: u32,
    pub released: u32,
    pub requeued: u32,
    pub errors: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

/// A reason, required for every operator change (kept in the audit log): not blank, at most
/// 500 characters. Returned trimmed.
pub fn require_reason(reason: Option<&str>) -> Result<String, HeraldError> {
    match reason {
        Some(r) if !r.trim().is_empty() && r.len() <= 500 => Ok(r.trim().to_string()),
        _ => Err(HeraldError::validation("reason", "REQUIRED", "a reason (up to 500 characters) is required")),
    }
}

/// Read-modify-write of a tenant: read from the table (never a cached copy), changed by
/// `f`, written under its version check, retried when another write came first. `f` may
/// refuse (its error is returned, nothing written).
pub async fn update_tenant<F, R>(
    store: &dyn crate::ports::TenantStore,
    id: &TenantId,
    now: chrono::DateTime<chrono::Utc>,
    mut f: F,
) -> Result<(crate::tenant::Tenant, R), HeraldError>
where
    F: FnMut(&mut crate::tenant::Tenant) -> Result<R, HeraldError>,
{
    for _ in 0..5 {
        let mut t = store.fresh_tenant(id).await?.ok_or(HeraldError::NotFound)?;
        let out = f(&mut t)?;
        t.updated_at = now;
        match store.save_tenant(&t).await {
            Ok(()) => {
                t.version += 1;
                return Ok((t, out));
            }
            Err(crate::ports::StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(HeraldError::Conflict("the tenant is being changed concurrently; try again".into()))
}

/// Read-modify-write of a message under its version check, retried on conflicts.
/// `f` returns false to leave the message as it is.
pub async fn update_message<F>(store: &dyn MessageStore, id: &MessageId, f: F) -> Result<Option<Message>, HeraldError>
where
    F: FnMut(&mut Message) -> bool + Send,
{
    update_message_from(store, id, None, f).await
}

/// `update_message` starting from a copy the caller holds (its version is tried first, so an
/// uncontended update costs one write and no read).
pub async fn update_message_from<F>(
    store: &dyn MessageStore,
    id: &MessageId,
    mut known: Option<Message>,
    mut f: F,
) -> Result<Option<Message>, HeraldError>
where
    F: FnMut(&mut Message) -> bool + Send,
{
    for _ in 0..8 {
        let current = match known.take() {
            Some(m) => Some(m),
            None => store.message(id).await?,
        };
        let Some(mut msg) = current else { return Ok(None) };
        if !f(&mut msg) {
            return Ok(Some(msg));
        }
        msg.version += 1;
        if store.replace(&msg).await? {
            return Ok(Some(msg));
        }
    }
    Err(HeraldError::Conflict(format!("message {id} is being updated concurrently")))
}

/// What writing a message under an idempotency key did.
#[derive(Debug)]
pub enum Once {
    /// This request took the key; `true` when it also wrote the message (false: a retry
    /// completed it first).
    Created(bool),
    /// The key was taken: the record that answers.
    Taken(IdempotencyRecord),
}

/// Why `insert_once` stopped, and whether the request had taken its idempotency key by then
/// (then it is half done, as after a crash: its retry completes the message).
#[derive(Debug)]
pub struct Unwritten {
    pub error: HeraldError,
    pub key_claimed: bool,
}

impl From<Unwritten> for HeraldError {
    fn from(u: Unwritten) -> Self {
        u.error
    }
}

/// Writes a new message once, without a transaction: first the idempotency key's record if
/// there is one (naming the message), then the job when `enqueue_first` is given, then the
/// message. A request that stops between them leaves a record without its message: the retry
/// finds the key taken and `complete`s it.
pub async fn insert_once(
    idem: &dyn IdempotencyStore,
    messages: &dyn MessageStore,
    record: Option<&IdempotencyRecord>,
    msg: &Message,
    enqueue_first: Option<&Outbox>,
) -> Result<Once, Unwritten> {
    let before = |error: HeraldError| Unwritten { error, key_claimed: false };
    if let Some(record) = record {
        if !idem.claim_idempotency(record).await.map_err(|e| before(e.into()))? {
            let prev = idem.idempotency(&record.tenant_id, &record.key).await.map_err(|e| before(e.into()))?;
            let vanished = || before(HeraldError::Conflict("idempotency record vanished".into()));
            return prev.map(Once::Taken).ok_or_else(vanished);
        }
    }
    let after = |error: HeraldError| Unwritten { error, key_claimed: record.is_some() };
    if let Some(outbox) = enqueue_first {
        outbox.try_enqueue(msg).await.map_err(after)?;
    }
    let inserted = messages.insert(msg).await.map_err(|e| after(e.into()))?;
    Ok(Once::Created(inserted == Inserted::Created))
}

/// The message a taken key names, written now from this retry's copy of the request if the
/// first request never wrote it (its reservation, if any, stays counted: none is taken again).
/// Some(message) when this call wrote it.
pub async fn complete(
    messages: &dyn MessageStore,
    prev: &IdempotencyRecord,
    mut msg: Message,
) -> Result<Option<Message>, HeraldError> {
    let Some(id) = &prev.message_id else { return Ok(None) };
    if messages.message(id).await?.is_some() {
        return Ok(None);
    }
    msg.id = id.clone();
    msg.created_at = prev.created_at;
    (msg.reserved_cents, msg.budget_period) = (0, None);
    msg.notes.push("idempotency:completed_by_retry".into());
    tracing::warn!(message_id = %msg.id, "an earlier request stopped between its writes; its retry completes it");
    Ok((messages.insert(&msg).await? == Inserted::Created).then_some(msg))
}

/// A channel's credentials (empty when none are stored or they do not parse).
pub async fn channel_secrets(secrets: &dyn SecretStore, config: &ChannelConfig) -> Result<ChannelSecrets, HeraldError> {
    let raw = secrets.get(&config.secret_name).await?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

pub fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// How often `Outbox::try_enqueue` and `try_enqueue_batch` try a job before answering 503.
const ENQUEUE_TRIES: u32 = 3;

/// The back-off before enqueue try `attempt` (50 ms, then 100 ms): none before the first, and
/// none after the last failure, which answers at once.
async fn pause_before_retry(attempt: u32) {
    if attempt > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50 << (attempt - 1))).await;
    }
}

/// Where messages and status changes leave the service: the send queue and the callbacks.
pub struct Outbox {
    queue: Arc<dyn SendQueue>,
    callbacks: Arc<dyn CallbackQueue>,
}

impl Outbox {
    pub fn new(queue: Arc<dyn SendQueue>, callbacks: Arc<dyn CallbackQueue>) -> Self {
        Self { queue, callbacks }
    }

    /// Keeps a received job on its queue, invisible for `delay` (zero: visible at once).
    pub async fn retry_later(&self, channel: crate::Channel, receipt_handle: &str, delay: std::time::Duration) -> bool {
        match self.queue.retry_later(channel, receipt_handle, delay).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not set a job's visibility; the queue's visibility timeout applies");
                false
            }
        }
    }

    /// Puts the message's current generation on its channel queue. A failure is logged and
    /// left to the dispatch job, which finds the message through its due time.
    pub async fn enqueue(&self, msg: &Message) -> bool {
        match self.try_enqueue(msg).await {
            Ok(()) => true,
            Err(_) => {
                tracing::error!(message_id = %msg.id, "enqueue failed; the dispatch job will enqueue it when due");
                false
            }
        }
    }

    /// Puts the message's current generation on its channel queue (three tries), or says
    /// why not: for a message that is enqueued before it is written (see `Accepting`).
    pub async fn try_enqueue(&self, msg: &Message) -> Result<(), HeraldError> {
        let mut last = String::new();
        for attempt in 0..ENQUEUE_TRIES {
            pause_before_retry(attempt).await;
            match self.queue.enqueue(&msg.job(), &msg.group_id(), &msg.dedup_id()).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(message_id = %msg.id, attempt, error = %e, "enqueue failed");
                    last = e.to_string();
                }
            }
        }
        Err(HeraldError::Unavailable(format!("send queue: {last}")))
    }

    /// `try_enqueue` for many messages: ten of one channel per request, each failed entry
    /// tried again (three tries in all). One result per message, in order.
    pub async fn try_enqueue_batch(&self, msgs: &[&Message]) -> Vec<Result<(), HeraldError>> {
        let mut results: Vec<Option<String>> = vec![Some("not tried".into()); msgs.len()];
        for attempt in 0..ENQUEUE_TRIES {
            let pending: Vec<usize> = (0..msgs.len()).filter(|&i| results[i].is_some()).collect();
            if pending.is_empty() {
                break;
            }
            pause_before_retry(attempt).await;
            for ch in crate::Channel::ALL {
                let of_channel: Vec<usize> = pending.iter().copied().filter(|&i| msgs[i].channel == ch).collect();
                for chunk in of_channel.chunks(10) {
                    let jobs: Vec<Enqueued> = chunk
                        .iter()
                        .map(|&i| Enqueued {
                            job: msgs[i].job(),
                            group_id: msgs[i].group_id(),
                            dedup_id: msgs[i].dedup_id(),
                        })
                        .collect();
                    for (&i, r) in chunk.iter().zip(self.queue.enqueue_batch(&jobs).await) {
                        results[i] = r.err().map(|e| e.to_string());
                    }
                }
            }
        }
        let failed = |(i, r): (usize, Option<String>)| match r {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(message_id = %msgs[i].id, error = %e, "enqueue failed");
                Err(HeraldError::Unavailable(format!("send queue: {e}")))
            }
        };
        results.into_iter().enumerate().map(failed).collect()
    }

    /// Queues a call event for the tenant's voice callback URL.
    pub async fn notify_call(&self, tenant: &TenantId, call_sid: &str, event: &str, at: chrono::DateTime<chrono::Utc>) {
        let call = Some(crate::inbound::CallNotice { call_sid: call_sid.into(), event: event.into() });
        let job = CallbackJob { message_id: None, tenant_id: tenant.clone(), status: crate::Status::Sent, at, call };
        if let Err(e) = self.callbacks.enqueue_callback(&job).await {
            tracing::error!(call_sid, error = %e, "could not queue the call callback");
        }
    }

    /// Queues a callback for the message's current status, if the tenant asked for them.
    pub async fn notify(&self, m: &Message) {
        if m.callback_url.is_none() {
            return;
        }
        let job = CallbackJob {
            message_id: Some(m.id.clone()),
            tenant_id: m.tenant_id.clone(),
            status: m.status,
            at: m.updated_at,
            call: None,
        };
        if let Err(e) = self.callbacks.enqueue_callback(&job).await {
            tracing::error!(message_id = %m.id, error = %e, "could not queue the status callback");
        }
    }
}

/// The audit trail: every admin and settings change, with who, what, when.
pub struct Audit {
    log: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    /// Refused webhooks per (provider, tenant, reason) since their last audit entry.
    refusals: std::sync::Mutex<std::collections::HashMap<String, (u64, std::time::Instant)>>,
}

/// A flood of forged webhooks writes at most one audit entry per kind per container and
/// this long (the metric counts each one).
const REFUSAL_AUDIT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Audit {
    pub fn new(log: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Self {
        Self { log, clock, refusals: Default::default() }
    }

    /// A webhook refused for its signature: a metric each time, an audit entry (provider,
    /// tenant when known, reason; never a secret or the signature) at most once a minute
    /// per kind, counting those in between.
    pub async fn webhook_refused(&self, provider: crate::Provider, tenant: Option<&TenantId>, reason: &str) {
        crate::metrics::emit("webhook_signature_failures", 1.0, &[("provider", provider.as_str())]);
        let kind = format!("{provider}#{}#{reason}", tenant.map(|t| t.as_str()).unwrap_or("-"));
        let count = {
            let mut all = self.refusals.lock().unwrap();
            let entry = all.entry(kind.clone()).or_insert((0, std::time::Instant::now() - REFUSAL_AUDIT_EVERY));
            entry.0 += 1;
            if entry.1.elapsed() < REFUSAL_AUDIT_EVERY {
                return;
            }
            let n = entry.0;
            *entry = (0, std::time::Instant::now());
            n
        };
        let detail = serde_json::json!({"provider": provider, "reason": reason, "count": count});
        self.write("webhooks".into(), tenant, "webhook.signature_failed", detail).await;
    }

    pub async fn record(&self, caller: &Caller, tenant: Option<&TenantId>, action: &str, detail: serde_json::Value) {
        self.write(caller.actor(), tenant, action, detail).await
    }

    /// An entry made by the system on someone's behalf (an inbound keyword, a bounce, a job).
    pub async fn record_as(&self, actor: &str, tenant: Option<&TenantId>, action: &str, detail: serde_json::Value) {
        self.write(actor.to_string(), tenant, action, detail).await
    }

    async fn write(&self, actor: String, tenant: Option<&TenantId>, action: &str, detail: serde_json::Value) {
        let entry =
            AuditEntry { at: self.clock.now(), actor, tenant_id: tenant.cloned(), action: action.into(), detail };
        if let Err(e) = self.log.record(&entry).await {
            tracing::error!(action, error = %e, "audit write failed");
        }
    }

    /// `GET /v1/admin/audit`.
    pub async fn entries(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<AuditEntry>, HeraldError> {
        caller.require_admin()?;
        Ok(self.log.entries(filter, limit, cursor).await?)
    }
}
