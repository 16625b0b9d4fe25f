use super::StoreResult;
use crate::guards::{BudgetPeriod, Spend};
use crate::ids::TenantId;
use async_trait::async_trait;

/// Spend per tenant-local day and month.
#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// Adds `cost` to the day and month of `period` in one conditional update and returns
    /// the spend after it; None when either limit would be passed.
    async fn reserve_budget(
        &self,
        tenant: &TenantId,
        period: &BudgetPeriod,
        cost: u64,
        daily: Option<u64>,
        monthly: Option<u64>,
    ) -> StoreResult<Option<Spend>>;
    /// Releases (negative) or settles a reservation.
    async fn adjust_budget(&self, tenant: &TenantId, period: &BudgetPeriod, delta: i64) -> StoreResult<()>;
    async fn spend(&self, tenant: &TenantId, period: &BudgetPeriod) -> StoreResult<Spend>;
    /// Sets the spend of `period`'s day (or, with `month`, its month) back to zero.
    async fn reset_budget(&self, tenant: &TenantId, period: &BudgetPeriod, month: bool) -> StoreResult<()>;
}
