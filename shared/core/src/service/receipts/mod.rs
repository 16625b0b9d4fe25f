//! Provider events after their signature was checked: receipts move messages forward only,
//! inbound messages are stored and their keywords applied, mail events (bounces and
//! complaints) feed the do-not-contact list. Each provider event is applied once.
mod inbound;
mod mail;
#[cfg(test)]
mod tests;

use super::budget::Budgets;
use super::dnc::DoNotContact;
use super::support::{update_message_from, Outbox};
use super::HeraldError;
use crate::channel::Provider;
use crate::inbound::Receipt;
use crate::message::{Message, StatusStep};
use crate::ports::{Clock, EventLog, IdempotencyStore, InboundStore, MessageStore, OrphanStore, Stepped};
use crate::ports::{TenantStore, WindowStore, WorkIndex};
use crate::status::Status;
use std::sync::Arc;

const EVENT_TTL_SECS: i64 = 7 * 24 * 3600;
/// How long an early receipt waits for its message before it is dropped. A sender records
/// the provider id within seconds; stale recovery finds an ambiguous send's id well within.
pub const ORPHAN_EXPIRY: chrono::Duration = chrono::Duration::hours(1);

/// What one sweep of early receipts did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Swept {
    pub applied: u32,
    pub expired: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptOutcome {
    Applied(Status),
    /// Valid, but the message is already further along (or the step is not one we record).
    Ignored,
    /// Already seen this event.
    Duplicate,
    /// No message has that provider id yet: kept for the sender to pick up.
    Unknown,
}

pub struct Receipts {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) work: Arc<dyn WorkIndex>,
    pub(crate) events: Arc<dyn EventLog>,
    pub(crate) orphans: Arc<dyn OrphanStore>,
    pub(crate) inbound: Arc<dyn InboundStore>,
    pub(crate) windows: Arc<dyn WindowStore>,
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) dnc: Arc<DoNotContact>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
}

impl Receipts {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Runs `apply` once per provider event id; a duplicate is answered without applying.
    pub async fn once<T, F, Fut>(&self, provider: Provider, event_id: &str, apply: F) -> Result<Option<T>, HeraldError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, HeraldError>>,
    {
        let key = format!("EVT#{provider}#{event_id}");
        if self.events.seen(&key).await? {
            tracing::info!(provider = %provider, event_id, "duplicate provider event ignored");
            return Ok(None);
        }
        // Applied first, recorded after: a crash in between means the provider's retry
        // applies it again, which every application tolerates (receipts only move forward,
        // inbound messages and DNC entries are keyed, a reply is created once).
        let v = apply().await?;
        self.events.first_event(&key, self.now().timestamp() + EVENT_TTL_SECS).await?;
        Ok(Some(v))
    }

    #[tracing::instrument(name = "receipt", skip_all, fields(provider = %r.provider))]
    pub async fn apply_receipt(&self, r: &Receipt) -> Result<ReceiptOutcome, HeraldError> {
        // Provider event time → now: the webhook lag alarm. Providers that give no event time
        // (Twilio) stamp the receipt with now: lag 0, not worth a metric line.
        let lag = (self.clock.now() - r.at).num_milliseconds();
        if lag > 0 {
            crate::metrics::emit("webhook_lag_ms", lag as f64, &[("provider", r.provider.as_str())]);
        }
        // Herald's own id, echoed by the provider, finds the message without the index.
        let found = match &r.message_id {
            Some(id) => Some(id.clone()),
            None => self.work.by_provider_id(r.provider, &r.provider_message_id).await?,
        };
        let Some(id) = found else {
            tracing::warn!(
                provider = %r.provider, provider_message_id = %r.provider_message_id,
                "receipt for an unknown provider message id; kept in case the sender has not written it yet"
            );
            self.orphans.save_orphan(r).await?;
            return Ok(ReceiptOutcome::Unknown);
        };
        let now = self.now();
        // The common receipt (delivered / read for a recorded send) is one conditional write;
        // when it does not apply, the copy the store returned starts the full transition.
        let mut known = None;
        if let Some(step) = StatusStep::of(r, now) {
            match self.messages.step(&id, &step).await? {
                Stepped::Applied(m) => return Ok(self.applied(&m, r, None).await),
                Stepped::Refused(current) => known = current,
            }
        }
        let (mut settle, mut applied): (Option<(i64, u64)>, bool) = (None, false);
        let updated = update_message_from(self.messages.as_ref(), &id, known, |m| match m.apply_receipt(r, now) {
            Some(s) => {
                (settle, applied) = (s, true);
                true
            }
            None => false,
        })
        .await?;
        match updated {
            Some(m) if applied && m.status == r.status => Ok(self.applied(&m, r, settle).await),
            _ => Ok(ReceiptOutcome::Ignored),
        }
    }

    async fn applied(&self, m: &Message, r: &Receipt, settle: Option<(i64, u64)>) -> ReceiptOutcome {
        if let Some((actual, reserved)) = settle {
            self.budgets.settle(m, actual, reserved).await;
        }
        tracing::info!(message_id = %m.id, provider = %r.provider, status = %r.status, "receipt applied");
        self.outbox.notify(m).await;
        ReceiptOutcome::Applied(r.status)
    }

    /// Receipts kept because their message was not found yet: applied once the index
    /// finds the message (the dispatch job runs this). One that still finds nothing after
    /// `ORPHAN_EXPIRY` never will (a retry for an archived message, a number-level callback
    /// without Herald's id): it is dropped, so the sweep's oldest page never fills with them.
    pub async fn sweep_orphans(&self, older_than: chrono::Duration) -> Result<Swept, HeraldError> {
        let now = self.now();
        let mut swept = Swept::default();
        for r in self.orphans.old_orphans(now - older_than, 100).await? {
            if self.work.by_provider_id(r.provider, &r.provider_message_id).await?.is_some() {
                self.apply_orphans(r.provider, &r.provider_message_id).await;
                swept.applied += 1;
            } else if r.at < now - ORPHAN_EXPIRY {
                tracing::warn!(
                    provider = %r.provider, provider_message_id = %r.provider_message_id,
                    "an early receipt never found its message; dropped"
                );
                crate::metrics::emit("early_receipts_expired", 1.0, &[("provider", r.provider.as_str())]);
                self.orphans.drop_orphans(r.provider, &r.provider_message_id).await?;
                swept.expired += 1;
            }
        }
        Ok(swept)
    }

    /// After the sender stored a provider id: receipts that beat it there are applied now.
    pub async fn apply_orphans(&self, provider: Provider, provider_message_id: &str) {
        match self.orphans.take_orphans(provider, provider_message_id).await {
            Ok(receipts) => {
                for r in receipts {
                    if let Err(e) = self.apply_receipt(&r).await {
                        tracing::error!(error = %e, "could not apply an early receipt");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read early receipts"),
        }
    }
}

impl Receipts {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        Receipts {
            messages: a.db.clone(),
            idempotency: a.db.clone(),
            work: a.db.clone(),
            events: a.db.clone(),
            orphans: a.db.clone(),
            inbound: a.db.clone(),
            windows: a.db.clone(),
            tenants: a.config.clone(),
            dnc: sh.dnc.clone(),
            budgets: sh.budgets.clone(),
            outbox: sh.outbox.clone(),
            clock: sh.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }
}
