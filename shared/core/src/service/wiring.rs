//! Builds every use-case service once per container from the adapters, giving each only
//! the ports it uses.
use super::accepting::Accepting;
use super::breakers::Breakers;
use super::callbacks::Callbacks;
use super::controls::Controls;
use super::dead_letters::DeadLetters;
use super::dnc::DoNotContact;
use super::jobs::{Jobs, Recovery};
use super::linking::{Linking, LinkingSettings};
use super::policy::{Holds, Policy, PolicyPorts};
use super::reading::Reading;
use super::receipts::Receipts;
use super::sending::{Sending, SendingSettings};
use super::support::{Audit, Outbox};
use super::tenancy::{Channels, Numbers, ProviderAccounts, Tenancy};
use super::Settings;
use crate::ports::*;
use std::sync::Arc;

/// The adapters of one deployment (DynamoDB, SQS, Secrets Manager, providers, …). Only
/// `Services::wire` reads this; no service sees more than its own ports.
pub struct Adapters {
    pub tenants: Arc<dyn TenantStore>,
    pub keys: Arc<dyn KeyStore>,
    pub channels: Arc<dyn ChannelStore>,
    pub numbers: Arc<dyn NumberStore>,
    pub messages: Arc<dyn MessageStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub work: Arc<dyn WorkIndex>,
    pub dead_letters: Arc<dyn DeadLetterIndex>,
    pub queue: Arc<dyn SendQueue>,
    pub callback_queue: Arc<dyn CallbackQueue>,
    pub callback_sender: Arc<dyn CallbackSender>,
    pub secrets: Arc<dyn SecretStore>,
    pub providers: Arc<dyn ProviderGateway>,
    pub audit: Arc<dyn AuditLog>,
    pub dnc: Arc<dyn DncStore>,
    pub budgets: Arc<dyn BudgetStore>,
    pub counters: Arc<dyn Counters>,
    pub windows: Arc<dyn WindowStore>,
    pub quotas: Arc<dyn QuotaStore>,
    pub features: Arc<dyn FeatureStore>,
    pub releases: Arc<dyn PendingReleases>,
    pub events: Arc<dyn EventLog>,
    pub inbound: Arc<dyn InboundStore>,
    pub orphans: Arc<dyn OrphanStore>,
    pub wa_index: Arc<dyn WhatsappIndex>,
    pub breakers: Arc<dyn BreakerStore>,
    pub linking: Arc<dyn LinkingStore>,
    pub telnyx_numbers: Arc<dyn TelnyxNumbers>,
    pub alerts: Arc<dyn Alerts>,
    pub clock: Arc<dyn Clock>,
}

/// Every use case, wired.
#[derive(Clone)]
pub struct Services {
    pub version: String,
    pub clock: Arc<dyn Clock>,
    pub audit: Arc<Audit>,
    pub accepting: Arc<Accepting>,
    pub sending: Arc<Sending>,
    pub policy: Arc<Policy>,
    pub receipts: Arc<Receipts>,
    pub callbacks: Arc<Callbacks>,
    pub tenancy: Arc<Tenancy>,
    pub channels: Arc<Channels>,
    pub numbers: Arc<Numbers>,
    pub accounts: Arc<ProviderAccounts>,
    pub controls: Arc<Controls>,
    pub dnc: Arc<DoNotContact>,
    pub reading: Arc<Reading>,
    pub breakers: Arc<Breakers>,
    pub dead_letters: Arc<DeadLetters>,
    pub linking: Arc<Linking>,
    pub jobs: Arc<Jobs>,
    /// The queue view of `GET /v1/system/queues`.
    pub queue: Arc<dyn SendQueue>,
}

impl Services {
    pub fn wire(a: Adapters, s: Settings) -> Services {
        let clock = a.clock.clone();
        let grace = s.enqueue_grace;
        let audit = Arc::new(Audit::new(a.audit.clone(), clock.clone()));
        let outbox = Arc::new(Outbox::new(a.queue.clone(), a.callback_queue.clone()));
        let policy = Arc::new(Policy::new(
            PolicyPorts {
                tenants: a.tenants.clone(),
                numbers: a.numbers.clone(),
                dnc: a.dnc.clone(),
                budgets: a.budgets.clone(),
                counters: a.counters.clone(),
                windows: a.windows.clone(),
                quotas: a.quotas.clone(),
                features: a.features.clone(),
                clock: clock.clone(),
            },
            s.pause_recheck,
        ));
        let holds = Arc::new(Holds::new(
            a.messages.clone(),
            a.work.clone(),
            a.releases.clone(),
            outbox.clone(),
            policy.clone(),
            clock.clone(),
            grace,
        ));
        let breakers = Arc::new(Breakers::new(a.breakers.clone(), audit.clone(), clock.clone(), s.breaker.clone()));
        let dnc = Arc::new(DoNotContact::new(a.dnc.clone(), clock.clone()));
        let receipts = Arc::new(Receipts {
            messages: a.messages.clone(),
            work: a.work.clone(),
            events: a.events.clone(),
            orphans: a.orphans.clone(),
            inbound: a.inbound.clone(),
            windows: a.windows.clone(),
            tenants: a.tenants.clone(),
            dnc: dnc.clone(),
            policy: policy.clone(),
            outbox: outbox.clone(),
            clock: clock.clone(),
            enqueue_grace: grace,
        });
        let linking = Arc::new(Linking {
            linking: a.linking.clone(),
            telnyx: a.telnyx_numbers.clone(),
            alerts: a.alerts.clone(),
            numbers: a.numbers.clone(),
            channels: a.channels.clone(),
            secrets: a.secrets.clone(),
            holds: holds.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
            settings: LinkingSettings {
                retry_delays: s.linking_retry_delays.clone(),
                search_delays: s.linking_search_delays.clone(),
            },
        });
        let dead_letters = Arc::new(DeadLetters {
            tenants: a.tenants.clone(),
            messages: a.messages.clone(),
            index: a.dead_letters.clone(),
            queue: a.queue.clone(),
            outbox: outbox.clone(),
            audit: audit.clone(),
            clock: clock.clone(),
            enqueue_grace: grace,
        });
        let recovery = Arc::new(Recovery {
            messages: a.messages.clone(),
            work: a.work.clone(),
            channels: a.channels.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            receipts: receipts.clone(),
            outbox: outbox.clone(),
            clock: clock.clone(),
            stale_after: s.stale_after,
            enqueue_grace: grace,
        });
        Services {
            version: s.version.clone(),
            accepting: Arc::new(Accepting {
                messages: a.messages.clone(),
                idempotency: a.idempotency.clone(),
                numbers: a.numbers.clone(),
                policy: policy.clone(),
                outbox: outbox.clone(),
                clock: clock.clone(),
                pricing: s.pricing.clone(),
                enqueue_grace: grace,
            }),
            sending: Arc::new(Sending {
                messages: a.messages.clone(),
                channels: a.channels.clone(),
                numbers: a.numbers.clone(),
                linking: a.linking.clone(),
                secrets: a.secrets.clone(),
                providers: a.providers.clone(),
                policy: policy.clone(),
                holds: holds.clone(),
                breakers: breakers.clone(),
                receipts: receipts.clone(),
                outbox: outbox.clone(),
                clock: clock.clone(),
                settings: SendingSettings { retry: s.retry.clone(), stale_after: s.stale_after, enqueue_grace: grace },
            }),
            callbacks: Arc::new(Callbacks {
                messages: a.messages.clone(),
                queue: a.callback_queue.clone(),
                sender: a.callback_sender.clone(),
                policy: policy.clone(),
                clock: clock.clone(),
            }),
            tenancy: Arc::new(Tenancy {
                tenants: a.tenants.clone(),
                keys: a.keys.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
                admin_key: s.admin_key.clone(),
            }),
            channels: Arc::new(Channels {
                channels: a.channels.clone(),
                secrets: a.secrets.clone(),
                providers: a.providers.clone(),
                wa_index: a.wa_index.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
                secret_prefix: s.secret_prefix.clone(),
            }),
            numbers: Arc::new(Numbers {
                numbers: a.numbers.clone(),
                linking: linking.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
            }),
            accounts: Arc::new(ProviderAccounts {
                numbers: a.numbers.clone(),
                channels: a.channels.clone(),
                secrets: a.secrets.clone(),
                wa_index: a.wa_index.clone(),
            }),
            controls: Arc::new(Controls {
                tenants: a.tenants.clone(),
                features: a.features.clone(),
                budgets: a.budgets.clone(),
                windows: a.windows.clone(),
                policy: policy.clone(),
                holds: holds.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
            }),
            reading: Arc::new(Reading {
                messages: a.messages.clone(),
                policy: policy.clone(),
                audit: audit.clone(),
                clock: clock.clone(),
            }),
            jobs: Arc::new(Jobs {
                messages: a.messages.clone(),
                work: a.work.clone(),
                tenants: a.tenants.clone(),
                budgets: a.budgets.clone(),
                outbox,
                policy: policy.clone(),
                holds,
                dead_letters: dead_letters.clone(),
                recovery,
                linking: linking.clone(),
                clock: clock.clone(),
                enqueue_grace: grace,
            }),
            queue: a.queue,
            dnc,
            policy,
            receipts,
            breakers,
            dead_letters,
            linking,
            audit,
            clock,
        }
    }
}
