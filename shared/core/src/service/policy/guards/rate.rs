//! The tenant's per-minute rate limit: fixed one-minute windows, `429` with the seconds left.
use crate::ports::Counters;
use crate::service::policy::guard::{AcceptCheck, Guard, Verdict};
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct Rate {
    counters: Arc<dyn Counters>,
}

impl Rate {
    pub fn new(counters: Arc<dyn Counters>) -> Self {
        Self { counters }
    }
}

#[async_trait]
impl Guard for Rate {
    fn name(&self) -> &'static str {
        "rate_limit"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        let Some(limit) = c.tenant.rate_limit_per_minute else { return Ok(Verdict::Pass) };
        let now = c.now;
        let window = now.format("%Y-%m-%dT%H:%M").to_string();
        if self.counters.take_rate(&c.tenant.id, &window, limit, now.timestamp() + 120).await? {
            return Ok(Verdict::Pass);
        }
        let retry_after_secs = 60 - u64::from(chrono::Timelike::second(&now)).min(59);
        Ok(Verdict::Refuse(HeraldError::RateLimited { limit, retry_after_secs }))
    }
}
