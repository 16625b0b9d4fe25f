//! The tenant's daily and monthly budgets: each live message reserves its estimated cost at
//! acceptance (`402 BUDGET_EXCEEDED` when it does not fit). Last in the list: what it
//! reserves is given back by the caller when the message is not written after all.
use crate::ids::KeyMode;
use crate::pricing::Pricing;
use crate::service::budget::Budgets;
use crate::service::policy::guard::{AcceptCheck, Guard, Verdict};
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct BudgetGuard {
    budgets: Arc<Budgets>,
    pricing: Pricing,
}

impl BudgetGuard {
    pub fn new(budgets: Arc<Budgets>, pricing: Pricing) -> Self {
        Self { budgets, pricing }
    }
}

#[async_trait]
impl Guard for BudgetGuard {
    fn name(&self) -> &'static str {
        "budget"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        c.cost = self.pricing.estimate(c.req.channel, c.valid.region.as_deref(), c.valid.segments);
        if c.mode == KeyMode::Live {
            match self.budgets.reserve(c.tenant, c.cost).await {
                Ok(period) => c.reserved = period,
                Err(e @ HeraldError::BudgetExceeded(_)) => return Ok(Verdict::Refuse(e)),
                Err(e) => return Err(e),
            }
        }
        Ok(Verdict::Pass)
    }
}
