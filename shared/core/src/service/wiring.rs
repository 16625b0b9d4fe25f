//! Builds every use-case service once per container from the adapters, giving each only
//! the ports it uses.
use super::accepting::Accepting;
use super::breakers::Breakers;
use super::budget::Budgets;
use super::callbacks::Callbacks;
use super::controls::Controls;
use super::dead_letters::DeadLetters;
use super::dnc::DoNotContact;
use super::jobs::{Jobs, Recovery};
use super::linking::{Linking, LinkingSettings};
use super::operations::Operations;
use super::policy::{Holds, Policy, PolicyPorts};
use super::reading::Reading;
use super::receipts::Receipts;
use super::sending::{Sending, SendingSettings};
use super::stats::Stats;
use super::support::{Audit, Outbox};
use super::tenancy::{Channels, Identities, Numbers, ProviderAccounts, Tenancy};
use super::voice::Voice;
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
}

/// The services others are built on, shared by all of them.
struct Base {
    identities: Arc<Identities>,
    clock: Arc<dyn Clock>,
    audit: Arc<Audit>,
    outbox: Arc<Outbox>,
    policy: Arc<Policy>,
    budgets: Arc<Budgets>,
    holds: Arc<Holds>,
    dnc: Arc<DoNotContact>,
}

impl Base {
    fn new(a: &Adapters, s: &Settings) -> Base {
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
        let dnc = Arc::new(DoNotContact::new(a.db.clone(), clock.clone()));
        let identities = Arc::new(Identities {
            store: a.db.clone(),
            ses: a.email_identities.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
            assume_verified: s.ses_assume_verified,
        });
        Base { identities, clock, audit, outbox, policy, budgets, holds, dnc }
    }

    fn receipts(&self, a: &Adapters, s: &Settings) -> Receipts {
        Receipts {
            messages: a.db.clone(),
            idempotency: a.db.clone(),
            work: a.db.clone(),
            events: a.db.clone(),
            orphans: a.db.clone(),
            inbound: a.db.clone(),
            windows: a.db.clone(),
            tenants: a.config.clone(),
            dnc: self.dnc.clone(),
            budgets: self.budgets.clone(),
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }

    fn linking(&self, a: &Adapters, s: &Settings) -> Linking {
        Linking {
            linking: a.db.clone(),
            telnyx: a.telnyx_numbers.clone(),
            alerts: a.alerts.clone(),
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            holds: self.holds.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            settings: LinkingSettings {
                retry_delays: s.linking_retry_delays.clone(),
                search_delays: s.linking_search_delays.clone(),
            },
        }
    }

    fn sending(&self, a: &Adapters, s: &Settings, breakers: Arc<Breakers>, receipts: Arc<Receipts>) -> Sending {
        Sending {
            messages: a.db.clone(),
            reads: a.db.clone(),
            channels: a.config.clone(),
            numbers: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            policy: self.policy.clone(),
            budgets: self.budgets.clone(),
            holds: self.holds.clone(),
            breakers,
            receipts,
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            settings: SendingSettings {
                retry: s.retry.clone(),
                stale_after: s.stale_after,
                enqueue_grace: s.enqueue_grace.into(),
                ambiguous_wait: s.ambiguous_wait,
                ses_region: s.ses_region.clone(),
            },
        }
    }

    fn jobs(
        &self,
        a: &Adapters,
        s: &Settings,
        receipts: Arc<Receipts>,
        linking: Arc<Linking>,
        dead_letters: Arc<DeadLetters>,
    ) -> Jobs {
        let recovery = Recovery {
            messages: a.db.clone(),
            work: a.db.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            receipts,
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            stale_after: s.stale_after,
            enqueue_grace: s.enqueue_grace.into(),
        };
        Jobs {
            messages: a.db.clone(),
            work: a.db.clone(),
            tenants: a.config.clone(),
            budgets: self.budgets.clone(),
            outbox: self.outbox.clone(),
            holds: self.holds.clone(),
            dead_letters,
            receipts: recovery.receipts.clone(),
            recovery: Arc::new(recovery),
            linking,
            clock: self.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }

    fn dead_letters(&self, a: &Adapters, s: &Settings) -> DeadLetters {
        DeadLetters {
            tenants: a.config.clone(),
            messages: a.db.clone(),
            index: a.db.clone(),
            queue: a.queues.clone(),
            outbox: self.outbox.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
            budgets: self.budgets.clone(),
        }
    }

    fn accepting(&self, a: &Adapters, s: &Settings) -> Accepting {
        Accepting {
            messages: a.db.clone(),
            idempotency: a.db.clone(),
            numbers: a.config.clone(),
            policy: self.policy.clone(),
            budgets: self.budgets.clone(),
            identities: self.identities.clone(),
            targets: a.callbacks.clone(),
            outbox: self.outbox.clone(),
            clock: self.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }

    fn controls(&self, a: &Adapters) -> Controls {
        Controls {
            tenants: a.config.clone(),
            features: a.db.clone(),
            budgets: self.budgets.clone(),
            windows: a.db.clone(),
            policy: self.policy.clone(),
            holds: self.holds.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
        }
    }

    fn tenancy(&self, a: &Adapters, s: &Settings) -> Tenancy {
        let (tenants, keys, audit, clock) =
            (a.config.clone(), a.config.clone(), self.audit.clone(), self.clock.clone());
        Tenancy { tenants, keys, audit, clock, admin_key: s.admin_key.clone() }
    }

    fn channels(&self, a: &Adapters, s: &Settings) -> Channels {
        Channels {
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            wa_index: a.db.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            secret_prefix: s.secret_prefix.clone(),
            identities: self.identities.clone(),
        }
    }
}

impl Base {
    fn operations(&self, a: &Adapters, s: &Settings, breakers: Arc<Breakers>) -> Operations {
        Operations {
            tenants: a.config.clone(),
            budgets: self.budgets.clone(),
            quotas: a.db.clone(),
            messages: a.db.clone(),
            work: a.db.clone(),
            queue: a.queues.clone(),
            breakers,
            holds: self.holds.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }
}

impl Base {
    fn voice(&self, a: &Adapters, accepting: Arc<Accepting>) -> Voice {
        Voice {
            store: a.db.clone(),
            recordings: a.recordings.clone(),
            carrier: a.voice_carrier.clone(),
            features: a.db.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            accepting,
            tenants: a.config.clone(),
            outbox: self.outbox.clone(),
            targets: a.callbacks.clone(),
            audit: self.audit.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl Services {
    pub fn wire(a: Adapters, s: Settings) -> Services {
        let base = Base::new(&a, &s);
        let breakers = Arc::new(Breakers::new(a.db.clone(), base.audit.clone(), base.clock.clone(), s.breaker.clone()));
        let receipts = Arc::new(base.receipts(&a, &s));
        let accepting = Arc::new(base.accepting(&a, &s));
        let voice = Arc::new(base.voice(&a, accepting.clone()));
        let linking = Arc::new(base.linking(&a, &s));
        let dead_letters = Arc::new(base.dead_letters(&a, &s));
        let (clock, audit, policy) = (base.clock.clone(), base.audit.clone(), base.policy.clone());
        let accounts = ProviderAccounts {
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            wa_index: a.db.clone(),
        };
        let callbacks = Callbacks {
            messages: a.db.clone(),
            queue: a.queues.clone(),
            sender: a.callbacks.clone(),
            tenants: a.config.clone(),
            voice: a.db.clone(),
            clock: clock.clone(),
        };
        let numbers = Numbers {
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            linking: linking.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
            voice: voice.clone(),
            public_url: s.public_url.clone(),
        };
        let reading = Reading {
            messages: a.db.clone(),
            budgets: base.budgets.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
        };
        Services {
            version: s.version.clone(),
            voice,
            accepting,
            sending: Arc::new(base.sending(&a, &s, breakers.clone(), receipts.clone())),
            jobs: Arc::new(base.jobs(&a, &s, receipts.clone(), linking.clone(), dead_letters.clone())),
            tenancy: Arc::new(base.tenancy(&a, &s)),
            channels: Arc::new(base.channels(&a, &s)),
            controls: Arc::new(base.controls(&a)),
            operations: Arc::new(base.operations(&a, &s, breakers.clone())),
            stats: Arc::new(Stats::new(a.db.clone(), a.queues.clone(), clock.clone())),
            callbacks: Arc::new(callbacks),
            numbers: Arc::new(numbers),
            identities: base.identities.clone(),
            accounts: Arc::new(accounts),
            reading: Arc::new(reading),
            dnc: base.dnc,
            policy,
            budgets: base.budgets,
            receipts,
            breakers,
            dead_letters,
            linking,
            audit,
            clock,
        }
    }
}
