//! The kill switch: a paused tenant's messages are accepted and held, and held again if
//! they reach a sender; resuming releases them in order.
use crate::message::HoldReason;
use crate::service::policy::guard::{AcceptCheck, Guard, Hold, SendCheck, Verdict};
use crate::service::policy::Gate;
use crate::service::HeraldError;
use async_trait::async_trait;

pub struct KillSwitch;

#[async_trait]
impl Guard for KillSwitch {
    fn name(&self) -> &'static str {
        "kill_switch"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        Ok(match c.tenant.paused {
            Some(_) => Verdict::Hold(Hold::open(HoldReason::TenantPaused)),
            None => Verdict::Pass,
        })
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        Ok(c.tenant.paused.is_some().then(|| Gate::held(HoldReason::TenantPaused)))
    }
}
