//! Quiet hours in the recipient's zone: a normal message waits for the window's end (held
//! `deferred`); an urgent one goes, noted. Email is never held for them.
use crate::address::{Address, E164};
use crate::channel::Channel;
use crate::message::{HoldReason, Priority};
use crate::service::policy::guard::{AcceptCheck, Guard, Hold, SendCheck, Verdict};
use crate::service::policy::Gate;
use crate::service::HeraldError;
use crate::tenant::Tenant;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// When the recipient's quiet hours end, if a message of this kind would wait for them now.
pub fn quiet_until(
    tenant: &Tenant,
    (channel, priority): (Channel, Priority),
    to: &Address,
    recipient_timezone: Option<&str>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if channel == Channel::Email || priority == Priority::Urgent {
        return None;
    }
    let q = tenant.quiet_hours.as_ref()?;
    let region = to.phone().and_then(E164::region);
    let zone = crate::quiet::recipient_zone(recipient_timezone, region.as_deref(), &tenant.timezone);
    crate::quiet::quiet_until(now, zone, q)
}

pub struct QuietHours;

#[async_trait]
impl Guard for QuietHours {
    fn name(&self) -> &'static str {
        "quiet_hours"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        if c.hold.is_some() || c.scheduled() {
            return Ok(Verdict::Pass);
        }
        // As they would be for a normal message: urgent ones go, noted.
        let normal = (c.req.channel, Priority::Normal);
        let Some(until) = quiet_until(c.tenant, normal, c.to(), c.req.recipient_timezone.as_deref(), c.now) else {
            return Ok(Verdict::Pass);
        };
        if c.priority() == Priority::Urgent {
            c.notes.push(format!("quiet_hours_bypassed:urgent (quiet until {})", until.to_rfc3339()));
            return Ok(Verdict::Pass);
        }
        Ok(Verdict::Hold(Hold::deferred(HoldReason::QuietHours, until)))
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        let m = c.msg;
        let until = quiet_until(c.tenant, (m.channel, m.priority), &m.to, m.recipient_timezone.as_deref(), c.now);
        Ok(until.map(|until| Gate::Hold(Hold::deferred(HoldReason::QuietHours, until))))
    }
}
