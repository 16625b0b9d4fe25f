//! The send policy: guards that refuse at the API with a clear code, or hold a message
//! visibly and release it later. Never a silent drop.
//!
//! The guards and their order are listed once, in `Policy::new`. A new guard is one file in
//! `guards/` (implementing `Guard`) and one line in that list, plus its error code if it
//! refuses.
#[cfg(test)]
mod added;
mod guard;
pub mod guards;
mod holds;
#[cfg(test)]
mod tests;

pub use guard::{AcceptCheck, Guard, Hold, Revalidate, Route, SendCheck, Verdict};
pub use guards::{feature_for, NOTE_DNC_BYPASS};
pub use holds::Holds;

use super::budget::Budgets;
use super::HeraldError;
use crate::guards::DncEntry;
use crate::message::{HoldReason, Message};
use crate::ports::{Clock, Counters, DncStore, FeatureStore, LinkingStore, NumberStore, TenantStore, WindowStore};
use crate::pricing::Pricing;
use crate::tenant::Tenant;
use chrono::{DateTime, Utc};
use guards::*;
use std::sync::Arc;

pub(crate) fn tz(t: &Tenant) -> chrono_tz::Tz {
    t.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// What the send policy decided for a message about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Hold(Hold),
    Suppress,
}

impl Gate {
    /// Held until something releases it (no end known).
    pub fn held(reason: HoldReason) -> Gate {
        Gate::Hold(Hold::open(reason))
    }
}

/// The ports the guards read and count with.
pub struct PolicyPorts {
    pub tenants: Arc<dyn TenantStore>,
    pub numbers: Arc<dyn NumberStore>,
    pub dnc: Arc<dyn DncStore>,
    pub counters: Arc<dyn Counters>,
    pub windows: Arc<dyn WindowStore>,
    pub features: Arc<dyn FeatureStore>,
    pub linking: Arc<dyn LinkingStore>,
    pub clock: Arc<dyn Clock>,
}

pub struct Policy {
    guards: Vec<Arc<dyn Guard>>,
    pricing: Pricing,
    tenants: Arc<dyn TenantStore>,
    flags: Arc<Flags>,
    clock: Arc<dyn Clock>,
}

impl Policy {
    pub fn new(p: PolicyPorts, budgets: Arc<Budgets>, pricing: Pricing, recheck: std::time::Duration) -> Self {
        let flags = Arc::new(Flags::new(p.features, recheck));
        let prices = pricing.clone();
        // The send policy, in the order it is asked (at acceptance, then before each send).
        let guards: Vec<Arc<dyn Guard>> = vec![
            Arc::new(KillSwitch),
            Arc::new(ChannelFlag::new(flags.clone())),
            Arc::new(Rate::new(p.counters.clone())),
            Arc::new(WhatsappWindow::new(p.windows, flags.clone())),
            Arc::new(DoNotContact::new(p.dnc)),
            Arc::new(QuietHours),
            Arc::new(NumberLinked::new(p.linking)),
            Arc::new(Warmup::new(p.numbers, p.counters)),
            Arc::new(WhatsappQuota::new(budgets.clone())),
            Arc::new(BudgetGuard::new(budgets, pricing)),
        ];
        Self { guards, pricing: prices, tenants: p.tenants, flags, clock: p.clock }
    }

    /// What a message is estimated to cost (the budget guard's price).
    pub fn estimate(&self, channel: crate::Channel, region: Option<&str>, segments: u32) -> u64 {
        self.pricing.estimate(channel, region, segments)
    }

    /// The same policy with `guard` asked just before the budget (tests, and the shape a new
    /// guard takes in the list).
    #[cfg(test)]
    pub(crate) fn with_guard(mut self, guard: Arc<dyn Guard>) -> Self {
        let at = self.guards.len() - 1;
        self.guards.insert(at, guard);
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.guards.iter().map(|g| g.name()).collect()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Forgets the feature flags this container cached (after a change through it).
    pub fn forget_features(&self) {
        self.flags.forget();
    }

    /// Asks every guard about a request: the first refusal is the answer; otherwise the
    /// first hold decided (if any) is in `c.hold`, the estimated cost and any reservation in
    /// `c.cost` and `c.reserved`.
    pub async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<(), HeraldError> {
        for guard in &self.guards {
            match guard.at_acceptance(c).await? {
                Verdict::Pass => {}
                Verdict::Refuse(e) => return Err(e),
                Verdict::Hold(h) => {
                    c.hold.get_or_insert(h);
                }
            }
        }
        Ok(())
    }

    /// Asks the guards about a message about to be sent: without a route, those that need
    /// none (before routing); with one, those that do. The first that stops it answers.
    /// `dnc`: the recipient's do-not-contact entry when the caller read it already.
    pub async fn before_send(
        &self,
        msg: &Message,
        dnc: Option<Option<DncEntry>>,
        route: Option<Route<'_>>,
    ) -> Result<Option<Gate>, HeraldError> {
        let Some(tenant) = self.tenants.tenant(&msg.tenant_id).await? else {
            // A message whose tenant is gone is never sent.
            return Ok(route.is_none().then_some(Gate::Suppress));
        };
        let check = SendCheck { msg, tenant: &tenant, dnc, route, now: self.clock.now() };
        for guard in self.guards.iter().filter(|g| g.needs_route() == route.is_some()) {
            if let Some(gate) = guard.before_send(&check).await? {
                return Ok(Some(gate));
            }
        }
        Ok(None)
    }
}
