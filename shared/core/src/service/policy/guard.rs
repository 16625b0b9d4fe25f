//! What a guard is: one rule of the send policy, asked at acceptance (refuse with the
//! contract's code, hold the message it is about to write, or pass) and again just before a
//! send (hold, suppress or pass). `Policy` runs the guards in the one order it lists.
use super::Gate;
use crate::address::Address;
use crate::channel::{Channel, Provider};
use crate::guards::{BudgetPeriod, DncEntry};
use crate::ids::KeyMode;
use crate::message::{HoldReason, Message, Priority};
use crate::service::accepting::{SendRequest, Validated};
use crate::service::HeraldError;
use crate::status::Status;
use crate::tenant::Tenant;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Guard: Send + Sync {
    /// Its name, for logs and tests.
    fn name(&self) -> &'static str;
    /// At the API, before anything is written.
    async fn at_acceptance(&self, _c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        Ok(Verdict::Pass)
    }
    /// Just before a send, with the freshest data this container has.
    async fn before_send(&self, _c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        Ok(None)
    }
    /// Its send-time check needs the route (provider, sender): asked after routing.
    fn needs_route(&self) -> bool {
        false
    }
}

/// A guard's answer at acceptance.
#[derive(Debug)]
pub enum Verdict {
    Pass,
    /// The request is refused with this error; nothing is written.
    Refuse(HeraldError),
    /// The message is written held (the first hold decided wins; refusals still apply).
    Hold(Hold),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub reason: HoldReason,
    pub until: Option<DateTime<Utc>>,
    pub status: Status,
}

impl Hold {
    /// Held until something releases it (no end known): the message stays `queued`.
    pub fn open(reason: HoldReason) -> Hold {
        Hold { reason, until: None, status: Status::Queued }
    }

    /// Deferred to a known time, when the dispatch job releases it.
    pub fn deferred(reason: HoldReason, until: DateTime<Utc>) -> Hold {
        Hold { reason, until: Some(until), status: Status::Deferred }
    }
}

/// Validates a request again after a guard changed it (a WhatsApp message falling back to
/// SMS): sender ownership and the channel's own rules.
#[async_trait]
pub trait Revalidate: Send + Sync {
    async fn revalidate(&self, tenant: &Tenant, mode: KeyMode, req: &SendRequest) -> Result<Validated, HeraldError>;
}

/// One request on its way in, as the guards see (and may change) it.
pub struct AcceptCheck<'a> {
    pub tenant: &'a Tenant,
    pub mode: KeyMode,
    pub req: &'a mut SendRequest,
    pub valid: &'a mut Validated,
    pub notes: &'a mut Vec<String>,
    pub revalidate: &'a dyn Revalidate,
    pub now: DateTime<Utc>,
    /// The hold decided so far, if any.
    pub hold: Option<Hold>,
    /// The estimated cost, and the budget period it was reserved in (the budget guard).
    pub cost: u64,
    pub reserved: Option<BudgetPeriod>,
}

impl AcceptCheck<'_> {
    /// Scheduled for later than now: the dispatch job sends it, and checks it then.
    pub fn scheduled(&self) -> bool {
        self.req.send_at.is_some_and(|t| t > self.now + chrono::Duration::seconds(1))
    }
    pub fn priority(&self) -> Priority {
        self.req.priority.unwrap_or_default()
    }
    pub fn to(&self) -> &Address {
        &self.valid.to
    }
}

/// Where a message goes, once routed.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub provider: Provider,
    pub from: Option<&'a str>,
    /// The channel's daily quota (WhatsApp).
    pub daily_quota: Option<u32>,
}

/// One queued message about to be sent.
pub struct SendCheck<'a> {
    pub msg: &'a Message,
    pub tenant: &'a Tenant,
    /// The recipient's do-not-contact entry when the caller read it already.
    pub dnc: Option<Option<DncEntry>>,
    /// Set for the guards asked after routing.
    pub route: Option<Route<'a>>,
    pub now: DateTime<Utc>,
}

impl SendCheck<'_> {
    pub fn channel(&self) -> Channel {
        self.msg.channel
    }
}
