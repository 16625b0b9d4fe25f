//! A new number's daily warmup cap: past it, SMS from that number waits for the tenant's
//! next local day.
use crate::channel::{Channel, Provider};
use crate::message::HoldReason;
use crate::ports::{Counters, NumberStore};
use crate::quiet;
use crate::service::policy::guard::{Guard, SendCheck};
use crate::service::policy::{tz, Gate, Hold};
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct Warmup {
    numbers: Arc<dyn NumberStore>,
    counters: Arc<dyn Counters>,
}

impl Warmup {
    pub fn new(numbers: Arc<dyn NumberStore>, counters: Arc<dyn Counters>) -> Self {
        Self { numbers, counters }
    }
}

#[async_trait]
impl Guard for Warmup {
    fn name(&self) -> &'static str {
        "warmup"
    }
    fn needs_route(&self) -> bool {
        true
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        let Some(route) = c.route else { return Ok(None) };
        let (Channel::Sms, Some(from)) = (c.channel(), route.from) else { return Ok(None) };
        if route.provider == Provider::Simulator {
            return Ok(None);
        }
        let Some(number) = self.numbers.number(from).await? else { return Ok(None) };
        let Some(cap) = number.daily_cap else { return Ok(None) };
        let (now, zone) = (c.now, tz(c.tenant));
        let day = quiet::local_date(now, zone);
        if self.counters.take_warmup(from, &day, cap, now.timestamp() + 3 * 86400).await? {
            return Ok(None);
        }
        tracing::info!(message_id = %c.msg.id, "warmup cap reached for the sending number; deferred to tomorrow");
        let until = quiet::next_local_midnight(now, zone);
        Ok(Some(Gate::Hold(Hold::deferred(HoldReason::WarmupCap, until))))
    }
}
