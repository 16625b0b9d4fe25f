//! The ledgers: a tenant's spend against its daily and monthly budgets (reserve at
//! acceptance, release on failure or cancel, settle on the provider's price, reset), and the
//! WhatsApp daily quota (`quota.rs`). Guards refuse or hold on what these say; the rest of
//! Herald only reserves, releases and settles.
mod quota;

use super::HeraldError;
use crate::guards::BudgetPeriod;
use crate::message::Message;
use crate::ports::{BudgetStore, Clock, QuotaStore, TenantStore};
use crate::tenant::Tenant;
use serde::Serialize;
use std::sync::Arc;

/// A tenant's spend in its current day and month, with its budgets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub daily_spent_cents: i64,
    pub daily_budget_cents: Option<u64>,
    pub monthly_spent_cents: i64,
    pub monthly_budget_cents: Option<u64>,
    pub day: String,
    pub month: String,
}

pub struct Budgets {
    store: Arc<dyn BudgetStore>,
    quotas: Arc<dyn QuotaStore>,
    tenants: Arc<dyn TenantStore>,
    clock: Arc<dyn Clock>,
}

impl Budgets {
    pub fn new(
        store: Arc<dyn BudgetStore>,
        quotas: Arc<dyn QuotaStore>,
        tenants: Arc<dyn TenantStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, quotas, tenants, clock }
    }

    /// The tenant's current local day and month.
    pub fn period(&self, tenant: &Tenant) -> BudgetPeriod {
        let local = self.clock.now().with_timezone(&super::policy::tz(tenant));
        BudgetPeriod { month: local.format("%Y-%m").to_string(), day: local.format("%Y-%m-%d").to_string() }
    }

    /// Reserves the estimated cost in one conditional update; `402` when it does not fit.
    /// Without a daily or monthly budget nothing is written (spend is tracked while a budget
    /// is set: a tenant without one pays no write per message for it).
    pub async fn reserve(&self, tenant: &Tenant, cost: u64) -> Result<Option<BudgetPeriod>, HeraldError> {
        if cost == 0 || (tenant.daily_budget_cents.is_none() && tenant.monthly_budget_cents.is_none()) {
            return Ok(None);
        }
        let period = self.period(tenant);
        let (daily, monthly) = (tenant.daily_budget_cents, tenant.monthly_budget_cents);
        let Some(spend) = self.store.reserve_budget(&tenant.id, &period, cost, daily, monthly).await? else {
            return Err(HeraldError::BudgetExceeded(format!(
                "an estimated {cost} cents does not fit the remaining daily or monthly budget"
            )));
        };
        // The fuller of the two budgets, for the 90 % alarm (per tenant: the alarm names it).
        let pct = |spent: i64, limit: Option<u64>| limit.filter(|l| *l > 0).map(|l| spent as f64 * 100.0 / l as f64);
        let usage = pct(spend.daily_spent_cents, daily).into_iter().chain(pct(spend.monthly_spent_cents, monthly));
        if let Some(max) = usage.reduce(f64::max) {
            crate::metrics::emit_tagged("budget_usage_percent", max.round(), &[("tenant_id", tenant.id.as_str())]);
        }
        Ok(Some(period))
    }

    /// Gives back what a message reserved (permanent failure, suppression, cancel).
    pub async fn release(&self, msg: &Message, reserved: u64) {
        let Some(period) = &msg.budget_period else { return };
        if reserved == 0 {
            return;
        }
        if let Err(e) = self.store.adjust_budget(&msg.tenant_id, period, -(reserved as i64)).await {
            tracing::error!(message_id = %msg.id, error = %e, "budget release failed");
        }
    }

    /// Settles a reservation against what the provider charged.
    pub async fn settle(&self, msg: &Message, actual: i64, reserved: u64) {
        let (Some(period), delta) = (&msg.budget_period, actual - reserved as i64) else { return };
        if delta != 0 {
            if let Err(e) = self.store.adjust_budget(&msg.tenant_id, period, delta).await {
                tracing::error!(message_id = %msg.id, error = %e, "budget settlement failed");
            }
        }
    }

    /// The tenant's spend in its current day and month, with its budgets.
    pub async fn view(&self, tenant: &Tenant) -> Result<Budget, HeraldError> {
        let period = self.period(tenant);
        let spend = self.store.spend(&tenant.id, &period).await?;
        Ok(Budget {
            daily_spent_cents: spend.daily_spent_cents,
            daily_budget_cents: tenant.daily_budget_cents,
            monthly_spent_cents: spend.monthly_spent_cents,
            monthly_budget_cents: tenant.monthly_budget_cents,
            day: period.day,
            month: period.month,
        })
    }

    /// Opens the tenant's current day and month (at zero when new) and returns their spend.
    pub async fn open_period(&self, tenant: &Tenant) -> Result<(BudgetPeriod, crate::guards::Spend), HeraldError> {
        let period = self.period(tenant);
        self.store.adjust_budget(&tenant.id, &period, 0).await?;
        let spend = self.store.spend(&tenant.id, &period).await?;
        Ok((period, spend))
    }

    /// Sets the spend of the current day (or month) back to zero.
    pub async fn reset(&self, tenant: &Tenant, month: bool) -> Result<(), HeraldError> {
        Ok(self.store.reset_budget(&tenant.id, &self.period(tenant), month).await?)
    }
}
