//! What the domain needs from the outside world, named after the need, not the AWS API.
use crate::channel::{Channel, Provider};
use crate::errors::ProviderFailure;
use crate::ids::{KeyId, MessageId, TenantId};
use crate::message::{Message, SendJob, Template};
use crate::status::Status;
use crate::tenant::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// A conditional write lost to a concurrent one.
    #[error("conflict")]
    Conflict,
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<Status>,
    pub channel: Option<Channel>,
}

/// Sparse work index: messages that something must look at again by a certain time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkState {
    /// In the queue, or waiting for a retry; due = when it should have been picked up.
    Queued,
    /// Handed to the sender; due = when it counts as stale.
    Sending,
    /// Kept back (scheduled, deferred, held); due = when to release it, if known.
    Held,
}

impl WorkState {
    pub fn of(status: Status) -> Option<WorkState> {
        match status {
            Status::Queued => Some(WorkState::Queued),
            Status::Sending => Some(WorkState::Sending),
            Status::Scheduled | Status::Deferred => Some(WorkState::Held),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created,
    /// The Idempotency-Key is already taken; nothing was written.
    KeyTaken,
}

#[async_trait]
pub trait TenantRepo: Send + Sync {
    async fn insert_tenant(&self, tenant: &Tenant, keys: &[ApiKeyRecord]) -> StoreResult<()>;
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Every tenant (scheduled jobs only; paged through an index, never a scan).
    async fn all_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Replaces the tenant record (it must exist).
    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    async fn insert_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>>;
    async fn keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn delete_key(&self, tenant: &TenantId, key_id: &KeyId) -> StoreResult<bool>;
    async fn save_channel(&self, cfg: &ChannelConfig) -> StoreResult<()>;
    async fn channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>>;
    async fn channels(&self, tenant: &TenantId) -> StoreResult<Vec<ChannelConfig>>;
    /// Registers a number; `Conflict` when another tenant already owns it.
    async fn save_number(&self, number: &SendingNumber) -> StoreResult<()>;
    async fn numbers(&self, tenant: &TenantId) -> StoreResult<Vec<SendingNumber>>;
    /// Global lookup (webhooks find the tenant from the number).
    async fn number(&self, e164: &str) -> StoreResult<Option<SendingNumber>>;
    async fn delete_number(&self, tenant: &TenantId, e164: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait MessageRepo: Send + Sync {
    /// Writes the message and, atomically with it, the idempotency record.
    async fn insert(&self, msg: &Message, idem: Option<&IdempotencyRecord>) -> StoreResult<Inserted>;
    async fn idempotency(&self, tenant: &TenantId, key: &str) -> StoreResult<Option<IdempotencyRecord>>;
    /// Fills in the stored answer of an idempotent request once it is known.
    async fn complete_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<()>;
    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>>;
    /// Writes `msg` if the stored version is still `msg.version - 1`; false when it is not.
    async fn replace(&self, msg: &Message) -> StoreResult<bool>;
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &MessageFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Message>>;
    /// Messages in `state` due at or before `before`, oldest first.
    async fn due(&self, state: WorkState, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<MessageId>>;
    async fn by_provider_id(&self, provider: Provider, provider_message_id: &str) -> StoreResult<Option<MessageId>>;
    /// Dead letters (or archived ones) of a tenant whose index key starts with `prefix`
    /// (`channel#ERROR_CODE#…`), with that key.
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        archived: bool,
        prefix: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<(MessageId, String)>>;
    /// Messages waiting under an open-ended hold (see `Message::hold_key`), oldest first.
    async fn held(&self, hold_key: &str, limit: u32) -> StoreResult<Vec<MessageId>>;
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueDepth {
    pub queue: Channel,
    pub depth: u64,
    pub in_flight: u64,
    pub dlq_depth: u64,
}

#[async_trait]
pub trait MessageQueue: Send + Sync {
    async fn enqueue(&self, job: &SendJob, group_id: &str, dedup_id: &str) -> Result<(), QueueError>;
    /// Keeps a received message invisible for `delay` (the retry back-off).
    async fn retry_later(
        &self,
        channel: Channel,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), QueueError>;
    /// Records the redrive policy moved to the channel's SQS DLQ, with their receipt handles.
    async fn receive_dead_letters(&self, channel: Channel, max: i32) -> Result<Vec<(SendJob, String)>, QueueError>;
    async fn delete_dead_letter(&self, channel: Channel, receipt_handle: &str) -> Result<(), QueueError>;
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError>;
    /// Queues a status callback to the tenant (a standard queue, retried with back-off).
    async fn enqueue_callback(&self, job: &crate::inbound::CallbackJob) -> Result<(), QueueError>;
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &str) -> StoreResult<Option<String>>;
    async fn put(&self, name: &str, value: &str) -> StoreResult<()>;
}

/// One outbound send, resolved: provider, credentials and content.
#[derive(Debug, Clone)]
pub struct Outbound<'a> {
    pub provider: Provider,
    pub secrets: &'a ChannelSecrets,
    pub config: Option<&'a ChannelConfig>,
    pub message: &'a Message,
    pub from: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub provider_message_id: String,
    /// Some providers (the built-in simulator) confirm delivery synchronously.
    pub delivered: bool,
}

/// What a provider knows about a message Herald may or may not have handed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found {
        provider_message_id: String,
        delivered: bool,
    },
    NotFound,
    /// The provider offers no way to look a message up by its content.
    Unsupported,
}

#[async_trait]
pub trait ProviderGateway: Send + Sync {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure>;
    /// Finds a message sent at or after `since` matching `out` (recipient, sender, body).
    async fn lookup(&self, _out: &Outbound<'_>, _since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        Ok(Lookup::Unsupported)
    }
    /// Makes a sender address usable (locally: creates the SES identity in the emulator;
    /// in AWS identities are verified once, out of band, so this does nothing).
    async fn prepare_email_identity(&self, _from: &str) -> Result<(), String> {
        Ok(())
    }
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// "admin" or the key id that made the call.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    pub action: String,
    pub detail: serde_json::Value,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()>;
    async fn entries(&self, tenant: Option<&TenantId>, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

/// Template helper re-exported for adapters that build WhatsApp payloads.
pub type WhatsappTemplate = Template;
