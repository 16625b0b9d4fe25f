//! The send policy: guards that refuse at the API with a clear code, or hold a message
//! visibly and release it later. Never a silent drop. A new guard goes here (`gates.rs`
//! for checks made just before a send).
mod gates;
mod holds;
#[cfg(test)]
mod tests;

pub use gates::{Gate, NOTE_DNC_BYPASS};
pub use holds::Holds;

use super::HeraldError;
use crate::address::E164;
use crate::channel::Channel;
use crate::guards::{BudgetPeriod, DncEntry};
use crate::ids::TenantId;
use crate::message::{Message, Priority};
use crate::ports::{
    BudgetStore, Clock, Counters, DncStore, FeatureStore, NumberStore, QuotaStore, TenantStore, WindowStore,
};
use crate::quiet;
use crate::tenant::Tenant;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn feature_for(channel: Channel) -> String {
    format!("{channel}_sending")
}

pub(crate) fn tz(t: &Tenant) -> chrono_tz::Tz {
    t.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// The ports the send policy reads and counts with.
pub struct PolicyPorts {
    pub tenants: Arc<dyn TenantStore>,
    pub numbers: Arc<dyn NumberStore>,
    pub dnc: Arc<dyn DncStore>,
    pub budgets: Arc<dyn BudgetStore>,
    pub counters: Arc<dyn Counters>,
    pub windows: Arc<dyn WindowStore>,
    pub quotas: Arc<dyn QuotaStore>,
    pub features: Arc<dyn FeatureStore>,
    pub clock: Arc<dyn Clock>,
}

pub struct Policy {
    tenants: Arc<dyn TenantStore>,
    numbers: Arc<dyn NumberStore>,
    dnc: Arc<dyn DncStore>,
    budgets: Arc<dyn BudgetStore>,
    counters: Arc<dyn Counters>,
    windows: Arc<dyn WindowStore>,
    quotas: Arc<dyn QuotaStore>,
    features: Arc<dyn FeatureStore>,
    clock: Arc<dyn Clock>,
    /// How stale this container's view of the feature flags may be (tenants come through the
    /// per-container configuration cache, `cache::CachedConfig`, with the same bound).
    recheck: std::time::Duration,
    feature_cache: Mutex<Option<(BTreeMap<String, bool>, Instant)>>,
}

impl Policy {
    pub fn new(p: PolicyPorts, recheck: std::time::Duration) -> Self {
        Self {
            tenants: p.tenants,
            numbers: p.numbers,
            dnc: p.dnc,
            budgets: p.budgets,
            counters: p.counters,
            windows: p.windows,
            quotas: p.quotas,
            features: p.features,
            clock: p.clock,
            recheck,
            feature_cache: Default::default(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The tenant as this container last saw it: the tenant store is the per-container
    /// configuration cache (at most `pause_recheck` old, this container's writes at once).
    pub async fn tenant_recent(&self, id: &TenantId) -> Result<Option<Tenant>, HeraldError> {
        Ok(self.tenants.tenant(id).await?)
    }

    pub fn forget_features(&self) {
        *self.feature_cache.lock().unwrap() = None;
    }

    pub async fn channel_enabled(&self, channel: Channel) -> Result<bool, HeraldError> {
        let cached = self
            .feature_cache
            .lock()
            .unwrap()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.recheck)
            .map(|(f, _)| f.clone());
        let features = match cached {
            Some(f) => f,
            None => {
                let f = self.features.features().await?;
                *self.feature_cache.lock().unwrap() = Some((f.clone(), Instant::now()));
                f
            }
        };
        Ok(features.get(&feature_for(channel)).copied().unwrap_or(true))
    }

    pub fn budget_period(&self, tenant: &Tenant) -> BudgetPeriod {
        let local = self.now().with_timezone(&tz(tenant));
        BudgetPeriod { month: local.format("%Y-%m").to_string(), day: local.format("%Y-%m-%d").to_string() }
    }

    /// Fixed one-minute windows: `429` with the seconds left in the window.
    pub async fn check_rate(&self, tenant: &Tenant) -> Result<(), HeraldError> {
        let Some(limit) = tenant.rate_limit_per_minute else { return Ok(()) };
        let now = self.now();
        let window = now.format("%Y-%m-%dT%H:%M").to_string();
        if self.counters.take_rate(&tenant.id, &window, limit, now.timestamp() + 120).await? {
            return Ok(());
        }
        let retry_after_secs = 60 - u64::from(chrono::Timelike::second(&now)).min(59);
        Err(HeraldError::RateLimited { limit, retry_after_secs })
    }

    /// The do-not-contact entry that blocks `to`, if any (a phone entry blocks SMS and
    /// WhatsApp alike).
    pub async fn blocked(&self, tenant: &TenantId, to: &str) -> Result<Option<DncEntry>, HeraldError> {
        Ok(self.dnc.dnc_recent(tenant, to).await?)
    }

    /// Reserves the estimated cost in one conditional update; `402` when it does not fit.
    /// Without a daily or monthly budget nothing is written (spend is tracked while a budget
    /// is set: a tenant without one pays no write per message for it).
    pub async fn reserve(&self, tenant: &Tenant, cost: u64) -> Result<Option<BudgetPeriod>, HeraldError> {
        if cost == 0 || (tenant.daily_budget_cents.is_none() && tenant.monthly_budget_cents.is_none()) {
            return Ok(None);
        }
        let period = self.budget_period(tenant);
        let (daily, monthly) = (tenant.daily_budget_cents, tenant.monthly_budget_cents);
        if let Some(spend) = self.budgets.reserve_budget(&tenant.id, &period, cost, daily, monthly).await? {
            // The fuller of the two budgets, for the 90 % alarm (per tenant: the alarm names it).
            let pct =
                |spent: i64, limit: Option<u64>| limit.filter(|l| *l > 0).map(|l| spent as f64 * 100.0 / l as f64);
            let usage = pct(spend.daily_spent_cents, daily).into_iter().chain(pct(spend.monthly_spent_cents, monthly));
            if let Some(max) = usage.reduce(f64::max) {
                crate::metrics::emit("budget_usage_percent", max.round(), &[("tenant_id", tenant.id.as_str())]);
            }
            Ok(Some(period))
        } else {
            Err(HeraldError::BudgetExceeded(format!(
                "an estimated {cost} cents does not fit the remaining daily or monthly budget"
            )))
        }
    }

    /// Gives back what a message reserved (permanent failure, suppression, cancel).
    pub async fn release_reservation(&self, msg: &Message, reserved: u64) {
        let Some(period) = &msg.budget_period else { return };
        if reserved == 0 {
            return;
        }
        if let Err(e) = self.budgets.adjust_budget(&msg.tenant_id, period, -(reserved as i64)).await {
            tracing::error!(message_id = %msg.id, error = %e, "budget release failed");
        }
    }

    /// Settles a reservation against what the provider charged.
    pub async fn settle(&self, msg: &Message, actual: i64, reserved: u64) {
        let (Some(period), delta) = (&msg.budget_period, actual - reserved as i64) else { return };
        if delta != 0 {
            if let Err(e) = self.budgets.adjust_budget(&msg.tenant_id, period, delta).await {
                tracing::error!(message_id = %msg.id, error = %e, "budget settlement failed");
            }
        }
    }

    /// When the recipient's quiet hours end, if they are in them now.
    pub fn quiet_until(&self, tenant: &Tenant, msg: &Message, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if msg.channel == Channel::Email || msg.priority == Priority::Urgent {
            return None;
        }
        let q = tenant.quiet_hours.as_ref()?;
        let region = msg.to.phone().and_then(E164::region);
        let zone = quiet::recipient_zone(msg.recipient_timezone.as_deref(), region.as_deref(), &tenant.timezone);
        quiet::quiet_until(now, zone, q)
    }

    pub async fn whatsapp_window_open(&self, tenant: &TenantId, phone: &str) -> Result<bool, HeraldError> {
        let last = self.windows.whatsapp_window(tenant, phone).await?;
        Ok(last.is_some_and(|at| self.now() - at < Duration::hours(24)))
    }
}
