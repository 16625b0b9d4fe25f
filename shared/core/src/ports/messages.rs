use super::{Page, StoreResult};
use crate::channel::{Channel, Provider};
use crate::guards::DncEntry;
use crate::ids::{KeyMode, MessageId, TenantId};
use crate::message::{Message, StatusStep};
use crate::status::Status;
use crate::tenant::IdempotencyRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    /// Test keys see test messages only, live keys live ones only.
    pub mode: KeyMode,
    /// The recipient, normalised (E.164 or a lower-cased address).
    pub to: Option<String>,
    /// Created at or after / before (ids sort by creation time: a key range, not a filter).
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl MessageFilter {
    pub fn matches(&self, m: &Message) -> bool {
        self.status.is_none_or(|st| m.status == st)
            && self.channel.is_none_or(|ch| m.channel == ch)
            && self.to.as_ref().is_none_or(|to| m.to.as_str() == to)
            && self.since.is_none_or(|t| m.created_at >= t)
            && self.until.is_none_or(|t| m.created_at < t)
    }
}

/// Sparse work index: messages that something must look at again by a certain time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkState {
    /// Queued or sending: due = when to look again (re-enqueue a message written before
    /// its job, recover one a dead sender left in `sending`, settle an unknown attempt). A
    /// normal send never enters it: acceptance enqueues before it writes, and a claim is
    /// indexed only when SQS redelivers its job (see `Sending::index_claim`).
    Active,
    /// Kept back (scheduled, deferred, held); due = when to release it, if known.
    Held,
}

impl WorkState {
    pub fn of(status: Status) -> Option<WorkState> {
        match status {
            Status::Queued | Status::Sending => Some(WorkState::Active),
            Status::Scheduled | Status::Deferred => Some(WorkState::Held),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created,
    /// A message with this id exists already; nothing was written.
    Exists,
}

/// Message records, the source of truth; every change is a versioned write.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Writes a new message (one conditional write; never over an existing one).
    async fn insert(&self, msg: &Message) -> StoreResult<Inserted>;
    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>>;
    /// Several messages by id, in that order (missing ones left out), in batch reads.
    async fn messages(&self, ids: &[MessageId]) -> StoreResult<Vec<Message>>;
    /// Writes `msg` if the stored version is still `msg.version - 1`; false when it is not.
    async fn replace(&self, msg: &Message) -> StoreResult<bool>;
    /// Applies a receipt's step in one conditional write without reading first (see
    /// `StatusStep::applies_to`).
    async fn step(&self, id: &MessageId, step: &StatusStep) -> StoreResult<Stepped>;
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &MessageFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Message>>;
    /// A tenant's messages created between two ids (ids sort by creation time), oldest first.
    async fn created_between(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        from: &MessageId,
        to: &MessageId,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
}

/// The sender's first read: a queued message and its recipient's do-not-contact entry,
/// together (one batch read, both strongly consistent).
#[async_trait]
pub trait SendReads: Send + Sync {
    async fn message_and_dnc(
        &self,
        id: &MessageId,
        tenant: &TenantId,
        to: &str,
    ) -> StoreResult<(Option<Message>, Option<DncEntry>)>;
}

/// What a `MessageStore::step` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Stepped {
    /// Written: the message after the step.
    Applied(Message),
    /// The step does not apply: the current copy when the store returned it with the
    /// refusal (None: no such message).
    Refused(Option<Message>),
}

/// Answers already given to idempotent requests.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn idempotency(&self, tenant: &TenantId, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
    /// Takes the key with its answer (one conditional write, no transaction); false when it
    /// is taken already.
    async fn claim_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<bool>;
    /// Fills in the stored answer of an idempotent request once it is known.
    async fn complete_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<()>;
}

/// The sparse indexes that find messages needing work: due times, holds, provider ids.
#[async_trait]
pub trait WorkIndex: Send + Sync {
    /// Messages in `state` due at or before `before`, oldest first.
    async fn due(&self, state: WorkState, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<MessageId>>;
    /// Messages waiting under an open-ended hold (see `Message::hold_key`), oldest first.
    async fn held(&self, hold_key: &str, limit: u32) -> StoreResult<Vec<MessageId>>;
    async fn by_provider_id(&self, provider: Provider, provider_message_id: &str) -> StoreResult<Option<MessageId>>;
}

/// Dead letters by `channel#ERROR_CODE#failed_at`, so stats and filters read index keys only.
#[async_trait]
pub trait DeadLetterIndex: Send + Sync {
    /// Dead letters (or archived ones) of a tenant whose index key starts with `prefix`,
    /// with that key.
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        archived: bool,
        prefix: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<(MessageId, String)>>;
}
