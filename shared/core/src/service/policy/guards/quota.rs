//! WhatsApp's daily conversation quota: above 90 % only urgent messages pass, at 100 % none
//! do; the rest wait for the quota's reset.
use crate::channel::Channel;
use crate::message::{HoldReason, Priority};
use crate::service::budget::Budgets;
use crate::service::policy::guard::{Guard, SendCheck};
use crate::service::policy::{Gate, Hold};
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct WhatsappQuota {
    budgets: Arc<Budgets>,
}

impl WhatsappQuota {
    pub fn new(budgets: Arc<Budgets>) -> Self {
        Self { budgets }
    }
}

#[async_trait]
impl Guard for WhatsappQuota {
    fn name(&self) -> &'static str {
        "whatsapp_quota"
    }
    fn needs_route(&self) -> bool {
        true
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        let limit = match (c.channel(), c.route.and_then(|r| r.daily_quota)) {
            (Channel::Whatsapp, Some(limit)) if limit > 0 => limit,
            _ => return Ok(None),
        };
        let msg = c.msg;
        let state = self.budgets.current_quota(&msg.tenant_id, limit, c.now).await?;
        let soft = (u64::from(limit) * 9).div_ceil(10) as u32;
        let below = if msg.priority == Priority::Urgent { limit } else { soft };
        let Some(sent) = self.budgets.take_quota(&msg.tenant_id, below).await? else {
            tracing::info!(message_id = %msg.id, sent = state.sent, limit, "whatsapp quota reached; deferred until reset");
            return Ok(Some(Gate::Hold(Hold::deferred(HoldReason::QuotaExceeded, state.reset_at))));
        };
        let before = u64::from(sent - 1) * 100 / u64::from(limit.max(1));
        let after = u64::from(sent) * 100 / u64::from(limit.max(1));
        for threshold in [70u64, 85, 90, 95] {
            if before < threshold && after >= threshold {
                tracing::warn!(tenant_id = %msg.tenant_id, threshold, sent, limit, "whatsapp quota threshold crossed");
                crate::metrics::emit_tagged(
                    "whatsapp_quota_threshold",
                    threshold as f64,
                    &[("tenant_id", msg.tenant_id.as_str())],
                );
            }
        }
        Ok(None)
    }
}
