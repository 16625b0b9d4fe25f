//! Builds every use-case service once per container from the adapters, giving each only
//! the ports it uses.
use super::accepting::Accepting;
use super::breakers::Breakers;
use super::budget::Budgets;
use super::callbacks::Callbacks;
use super::controls::Controls;
use super::dead_letters::DeadLetters;
use super::dnc::DoNotContact;
use super::jobs::Jobs;
use super::linking::Linking;
use super::operations::Operations;
use super::policy::{Holds, Policy, PolicyPorts};
use super::reading::Reading;
use super::receipts::Receipts;
use super::sending::Sending;
use super::stats::Stats;
use super::support::{Audit, Outbox};
use super::tenancy::{Channels, Identities, Numbers, ProviderAccounts, Tenancy};
use super::users::{Sessions, Users};
use super::voice::Voice;
use super::webhooks::Webhooks;
use super::Settings;
use crate::ports::*;
use std::sync::Arc;

pub use super::adapters::Adapters;

/// Every use case, wired.
#[derive(Clone)]
pub struct Services {
    pub version: String,
    pub clock: Arc<dyn Clock>,
    pub audit: Arc<Audit>,
    pub accepting: Arc<Accepting>,
    pub sending: Arc<Sending>,
    pub policy: Arc<Policy>,
    pub budgets: Arc<Budgets>,
    pub receipts: Arc<Receipts>,
    pub callbacks: Arc<Callbacks>,
    pub tenancy: Arc<Tenancy>,
    pub channels: Arc<Channels>,
    pub numbers: Arc<Numbers>,
    pub identities: Arc<Identities>,
    pub accounts: Arc<ProviderAccounts>,
    pub controls: Arc<Controls>,
    pub dnc: Arc<DoNotContact>,
    pub reading: Arc<Reading>,
    pub breakers: Arc<Breakers>,
    pub dead_letters: Arc<DeadLetters>,
    pub linking: Arc<Linking>,
    pub jobs: Arc<Jobs>,
    pub operations: Arc<Operations>,
    pub stats: Arc<Stats>,
    pub voice: Arc<Voice>,
    pub webhooks: Arc<Webhooks>,
    pub users: Arc<Users>,
    pub sessions: Arc<Sessions>,
}

/// The services others are built on, shared by all of them.
pub(crate) struct Shared {
    pub identities: Arc<Identities>,
    pub clock: Arc<dyn Clock>,
    pub audit: Arc<Audit>,
    pub outbox: Arc<Outbox>,
    pub policy: Arc<Policy>,
    pub budgets: Arc<Budgets>,
    pub holds: Arc<Holds>,
    pub dnc: Arc<DoNotContact>,
}

impl Shared {
    fn new(a: &Adapters, s: &Settings) -> Shared {
        let clock = a.clock.clone();
        let audit = Arc::new(Audit::new(a.db.clone(), clock.clone()));
        let outbox = Arc::new(Outbox::new(a.queues.clone(), a.queues.clone()));
        let budgets = Arc::new(Budgets::new(a.db.clone(), a.db.clone(), a.config.clone(), clock.clone()));
        let ports = PolicyPorts {
            tenants: a.config.clone(),
            numbers: a.config.clone(),
            dnc: a.db.clone(),
            counters: a.db.clone(),
            windows: a.db.clone(),
            features: a.db.clone(),
            linking: a.db.clone(),
            clock: clock.clone(),
        };
        let policy = Arc::new(Policy::new(ports, budgets.clone(), s.pricing.clone(), s.pause_recheck));
        let (messages, work, releases) = (a.db.clone(), a.db.clone(), a.db.clone());
        let holds = Arc::new(Holds::new(
            messages,
            work,
            releases,
            outbox.clone(),
            budgets.clone(),
            clock.clone(),
            s.enqueue_grace.into(),
        ));
        let dnc = Arc::new(DoNotContact::new(a.db.clone(), clock.clone(), audit.clone()));
        let identities = Arc::new(Identities {
            store: a.db.clone(),
            ses: a.email_identities.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
            assume_verified: s.ses_assume_verified,
        });
        Shared { identities, clock, audit, outbox, policy, budgets, holds, dnc }
    }
}

impl Services {
    /// Every service, each built by its own constructor; the order is what each needs.
    pub fn wire(a: Adapters, s: Settings) -> Services {
        let sh = Shared::new(&a, &s);
        let breakers = Arc::new(Breakers::new(a.db.clone(), sh.audit.clone(), sh.clock.clone(), s.breaker.clone()));
        let receipts = Arc::new(Receipts::new(&sh, &a, &s));
        let accepting = Arc::new(Accepting::new(&sh, &a, &s));
        let voice = Arc::new(Voice::new(&sh, &a, accepting.clone()));
        let linking = Arc::new(Linking::new(&sh, &a, &s));
        let dead_letters = Arc::new(DeadLetters::new(&sh, &a, &s));
        let accounts = Arc::new(ProviderAccounts::new(&a));
        let webhooks = Arc::new(Webhooks::new(accounts.clone(), receipts.clone(), voice.clone(), sh.audit.clone()));
        let users = Arc::new(Users {
            store: a.users.clone(),
            pool: a.user_pool.clone(),
            tenants: a.config.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
        });
        Services {
            version: s.version.clone(),
            sending: Arc::new(Sending::new(&sh, &a, &s, breakers.clone(), receipts.clone())),
            jobs: Arc::new(Jobs::new(&sh, &a, &s, receipts.clone(), linking.clone(), dead_letters.clone())),
            numbers: Arc::new(Numbers::new(&sh, &a, &s, (linking.clone(), voice.clone()))),
            operations: Arc::new(Operations::new(&sh, &a, &s, breakers.clone())),
            tenancy: Arc::new(Tenancy::new(&sh, &a, &s)),
            channels: Arc::new(Channels::new(&sh, &a, &s)),
            controls: Arc::new(Controls::new(&sh, &a)),
            callbacks: Arc::new(Callbacks::new(&sh, &a)),
            reading: Arc::new(Reading::new(&sh, &a)),
            accounts,
            webhooks,
            sessions: Arc::new(Sessions::new(users.clone(), s.sessions.clone())),
            users,
            stats: Arc::new(Stats::new(a.db.clone(), a.queues.clone(), sh.clock.clone())),
            identities: sh.identities,
            dnc: sh.dnc,
            policy: sh.policy,
            budgets: sh.budgets,
            audit: sh.audit,
            clock: sh.clock,
            voice,
            accepting,
            receipts,
            breakers,
            dead_letters,
            linking,
        }
    }
}
