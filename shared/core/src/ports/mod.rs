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
mod voice;
mod whatsapp;

pub use audit::{AuditEntry, AuditFilter, AuditLog};
pub use breakers::BreakerStore;
pub use budgets::BudgetStore;
pub use callbacks::{CallbackQueue, CallbackSender, CallbackTargets, DeliveryError, TargetRefused};
pub use channels::{ChannelStore, WhatsappIndex};
pub use clock::{Clock, SystemClock};
pub use counters::Counters;
pub use dnc::DncStore;
pub use events::{EventLog, InboundStore, OrphanStore};
pub use features::{FeatureStore, PendingReleases};
pub use identities::{EmailIdentities, IdentityCallError, IdentityStore};
pub use keys::KeyStore;
pub use linking::{AlertError, Alerts, LinkingStore, TelnyxNumbers};
pub use messages::{
    DeadLetterIndex, IdempotencyStore, Inserted, MessageFilter, MessageStore, SendReads, Stepped, WorkIndex, WorkState,
};
pub use numbers::NumberStore;
pub use provider::{Accepted, Lookup, Outbound, ProviderGateway};
pub use queue::{Enqueued, QueueDepth, QueueError, SendQueue};
pub use secrets::SecretStore;
pub use stats::StatsStore;
pub use tenants::TenantStore;
pub use voice::{RecordingStore, VoiceCarrier, VoiceStore};
pub use whatsapp::{QuotaStore, WindowStore};

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
