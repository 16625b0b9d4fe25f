//! What the domain needs from the outside world: one narrow trait per thing it holds,
//! named after the need, not the AWS API. Adapters (DynamoDB, SQS, Secrets Manager, the
//! provider clients) implement them; use-case services hold only the ones they use.
mod audit;
mod breakers;
mod budgets;
mod callbacks;
mod channels;
mod clock;
mod counters;
mod dnc;
mod events;
mod features;
mod identities;
mod keys;
mod linking;
mod messages;
mod numbers;
mod provider;
mod queue;
mod secrets;
mod stats;
mod tenants;
mod users;
mod voice;
mod webhooks;
mod whatsapp;

pub use audit::{AuditEntry, AuditFilter, AuditLog};
pub use breakers::BreakerStore;
pub use budgets::BudgetStore;
pub use callbacks::{CallbackQueue, CallbackSender, CallbackTargets, DeliveryError, TargetRefused};
pub use channels::{ChannelStore, WhatsappIndex};
pub use clock::{Clock, SystemClock};
pub use counters::Counters;
pub use dnc::DncStore;
pub use events::{EventLog, InboundStore, OrphanRef, OrphanStore};
pub use features::{FeatureStore, PendingReleases};
pub use identities::{Created, EmailIdentities, IdentityCallError, IdentityStore};
pub use keys::KeyStore;
pub use linking::{AlertError, Alerts, LinkingStore, TelnyxAccess, TelnyxNumbers};
pub use messages::{
    DeadLetterIndex, IdempotencyStore, Inserted, MessageFilter, MessageStore, SendReads, Stepped, WorkIndex, WorkState,
};
pub use numbers::NumberStore;
pub use provider::{Accepted, Carrier, CredentialProblem, Lookup, Outbound, ProviderGateway};
pub use queue::{Enqueued, QueueDepth, QueueError, SendQueue};
pub use secrets::SecretStore;
pub use stats::StatsStore;
pub use tenants::TenantStore;
pub use users::{PoolError, SignIn, Tokens, UserPool, UserStore};
pub use voice::{RecordingStore, VoiceCarrier, VoiceStore};
pub use webhooks::{rejected, Account, ProviderEvent, ReceivedWebhook, Rejected, Reply};
pub use whatsapp::{QuotaStore, WindowStore};

/// Everything Herald keeps in its one table (DynamoDB; `Memory` in unit tests). Services
/// still hold only the narrow ports they use: an `Arc<dyn Db>` coerces to each of them.
pub trait Db:
    MessageStore
    + SendReads
    + IdempotencyStore
    + WorkIndex
    + DeadLetterIndex
    + AuditLog
    + DncStore
    + BudgetStore
    + Counters
    + WindowStore
    + QuotaStore
    + FeatureStore
    + PendingReleases
    + EventLog
    + InboundStore
    + OrphanStore
    + WhatsappIndex
    + BreakerStore
    + LinkingStore
    + IdentityStore
    + StatsStore
    + VoiceStore
{
}
impl<T> Db for T where
    T: MessageStore
        + SendReads
        + IdempotencyStore
        + WorkIndex
        + DeadLetterIndex
        + AuditLog
        + DncStore
        + BudgetStore
        + Counters
        + WindowStore
        + QuotaStore
        + FeatureStore
        + PendingReleases
        + EventLog
        + InboundStore
        + OrphanStore
        + WhatsappIndex
        + BreakerStore
        + LinkingStore
        + IdentityStore
        + StatsStore
        + VoiceStore
{
}

/// Configuration: tenants, keys, channels and numbers (read through the per-container cache).
pub trait ConfigStore: TenantStore + KeyStore + ChannelStore + NumberStore {}
impl<T: TenantStore + KeyStore + ChannelStore + NumberStore> ConfigStore for T {}

/// The queues messages and callbacks leave by.
pub trait Queues: SendQueue + CallbackQueue {}
impl<T: SendQueue + CallbackQueue> Queues for T {}

/// Tenant callbacks: where they may go, and sending them.
pub trait Callbacks: CallbackSender + CallbackTargets {}
impl<T: CallbackSender + CallbackTargets> Callbacks for T {}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// A conditional write lost to a concurrent one.
    #[error("conflict")]
    Conflict,
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A pagination cursor that is not one this list handed out.
    #[error("bad cursor")]
    BadCursor,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
