//! Use cases, one small service each, holding only the ports it uses. The HTTP and Lambda
//! entrypoints translate events into calls on these; `Services::wire` builds them once per
//! container.
//!
//! | service | what it decides |
//! |---|---|
//! | `Accepting` | `POST /v1/messages`: validate, refuse or hold, reserve, record, enqueue |
//! | `Sending` | one queued message: route → admit → claim → call → record |
//! | `Policy`, `Holds` | the send policy: the guards (`policy/guards/`, one file each) in the one order `Policy::new` lists; held messages |
//! | `Budgets` | the ledgers: budget spend (reserve, release, settle, reset) and the WhatsApp quota |
//! | `Breakers` | the shared circuit breaker per provider |
//! | `Receipts` | provider receipts, inbound messages, mail events; each applied once |
//! | `Callbacks` | signed tenant status callbacks |
//! | `Tenancy`, `Channels`, `Numbers`, `ProviderAccounts` | tenants and keys, channel configuration, sending numbers, webhook accounts |
//! | `Controls`, `DoNotContact`, `Reading` | pause/resume and flags, the DNC list, reading and canceling messages |
//! | `DeadLetters`, `Linking`, `Jobs`, `Recovery` | the DLQ, Telnyx number linking, scheduled jobs, stale recovery |
//! | `Stats` | outcome counters and metrics from the message change stream; the stats and held views |
//! | `Voice` | missed-call text-back: settings, call events (forward, text back, voicemail, transcription), the calls API |
//! | `Webhooks` | provider webhooks: every account signed, then events applied once, call answers |
//! | `Operations` | the operator's console: circuit overrides, budget resets, quota view, any message, retry-now |
mod adapters;
mod caller;
mod error;
mod support;
#[cfg(test)]
pub(crate) mod testing;
mod wiring;

pub mod accepting;
pub mod breakers;
pub mod budget;
pub mod callbacks;
pub mod controls;
pub mod dead_letters;
pub mod dnc;
pub mod jobs;
pub mod linking;
pub mod operations;
pub mod policy;
pub mod reading;
pub mod receipts;
pub mod sending;
pub mod stats;
pub mod tenancy;
pub mod users;
pub mod voice;
pub mod webhooks;

pub use accepting::{Acceptance, SendRequest};
pub use breakers::{BreakerSettings, ProviderHealth};
pub use caller::{constant_time_eq, Caller};
pub use dead_letters::{DlqFilter, DlqStat, RetryReport};
pub use error::HeraldError;
pub use receipts::ReceiptOutcome;
pub use sending::JobOutcome;
pub use support::{Audit, JobReport, Outbox};
pub use tenancy::{ChannelUpdate, ChannelView, NewTenant, NumberAdded, NumberRequest, TenantCreated, TenantPatch};
pub use wiring::{Adapters, Services};

use crate::pricing::Pricing;
use crate::retry::RetryPolicy;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub retry: RetryPolicy,
    pub pricing: Pricing,
    /// A queued message not picked up this long after it was due is enqueued again.
    pub enqueue_grace: Duration,
    /// How long one dispatch run works (`HERALD_JOB_RUN_BUDGET`): inside its function's timeout.
    pub job_run_budget: Duration,
    pub stale_after: Duration,
    /// An attempt whose outcome is unknown waits this long for its receipt (`HERALD_AMBIGUOUS_WAIT`).
    pub ambiguous_wait: Duration,
    /// The AWS region SES sends from (the SES account's breaker).
    pub ses_region: String,
    /// Prefix of the Secrets Manager names holding channel credentials.
    pub secret_prefix: String,
    pub admin_key: String,
    /// Where the admin key lives (Lambda): re-read on the secrets cache's TTL.
    pub admin_key_secret: Option<String>,
    pub version: String,
    /// How stale a container's view of a tenant's pause flag and of feature flags may be.
    pub pause_recheck: Duration,
    pub breaker: BreakerSettings,
    pub linking_retry_delays: Vec<Duration>,
    pub linking_search_delays: Vec<Duration>,
    /// Locally (emulator only): count an identity created at SES as verified.
    pub ses_assume_verified: bool,
    /// Herald's public base URL (`HERALD_PUBLIC_URL`): registered numbers' webhooks point here.
    pub public_url: Option<String>,
    /// Console sessions: idle expiry and how often Cognito is asked about them.
    pub sessions: users::SessionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            pricing: Pricing::default(),
            enqueue_grace: Duration::from_secs(900),
            job_run_budget: Duration::from_secs(60),
            stale_after: Duration::from_secs(600),
            ambiguous_wait: Duration::from_secs(120),
            ses_region: "us-east-1".into(),
            secret_prefix: "herald".into(),
            admin_key: String::new(),
            admin_key_secret: None,
            version: env!("CARGO_PKG_VERSION").into(),
            pause_recheck: Duration::from_secs(60),
            breaker: Default::default(),
            linking_retry_delays: vec![Duration::from_secs(300), Duration::from_secs(900), Duration::from_secs(3600)],
            linking_search_delays: vec![Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)],
            ses_assume_verified: false,
            public_url: None,
            sessions: Default::default(),
        }
    }
}
