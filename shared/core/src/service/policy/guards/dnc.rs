//! The do-not-contact list: refused at the API (`422 RECIPIENT_OPTED_OUT`), suppressed when
//! the entry came after acceptance. A phone entry blocks SMS and WhatsApp alike.
use crate::ports::DncStore;
use crate::service::policy::guard::{AcceptCheck, Guard, SendCheck, Verdict};
use crate::service::policy::Gate;
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

/// Marks the one message allowed past the do-not-contact list: an opt-out confirmation.
pub const NOTE_DNC_BYPASS: &str = "dnc_bypass:opt_out_confirmation";

pub struct DoNotContact {
    dnc: Arc<dyn DncStore>,
}

impl DoNotContact {
    pub fn new(dnc: Arc<dyn DncStore>) -> Self {
        Self { dnc }
    }
}

#[async_trait]
impl Guard for DoNotContact {
    fn name(&self) -> &'static str {
        "do_not_contact"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        Ok(match self.dnc.dnc_recent(&c.tenant.id, &c.valid.to).await? {
            Some(_) => Verdict::Refuse(HeraldError::RecipientOptedOut),
            None => Verdict::Pass,
        })
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        if c.msg.notes.iter().any(|n| n == NOTE_DNC_BYPASS) {
            return Ok(None);
        }
        let entry = match &c.dnc {
            Some(known) => known.clone(),
            None => self.dnc.dnc_recent(&c.msg.tenant_id, &c.msg.to).await?,
        };
        Ok(entry.map(|_| Gate::Suppress))
    }
}
