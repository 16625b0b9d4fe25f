//! WhatsApp's 24-hour customer-service window: outside it only a template may go, or the
//! message falls back to SMS when the request allows it.
use super::Flags;
use crate::channel::Channel;
use crate::ports::WindowStore;
use crate::service::policy::guard::{AcceptCheck, Guard, Verdict};
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct WhatsappWindow {
    windows: Arc<dyn WindowStore>,
    flags: Arc<Flags>,
}

impl WhatsappWindow {
    pub fn new(windows: Arc<dyn WindowStore>, flags: Arc<Flags>) -> Self {
        Self { windows, flags }
    }
}

#[async_trait]
impl Guard for WhatsappWindow {
    fn name(&self) -> &'static str {
        "whatsapp_window"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        if c.req.channel != Channel::Whatsapp || c.req.template.is_some() {
            return Ok(Verdict::Pass);
        }
        let last = self.windows.whatsapp_window(&c.tenant.id, &c.valid.to).await?;
        if last.is_some_and(|at| c.now - at < chrono::Duration::hours(24)) {
            return Ok(Verdict::Pass);
        }
        if !c.req.fallback_channels.as_ref().is_some_and(|f| f.contains(&Channel::Sms)) {
            return Ok(Verdict::Refuse(HeraldError::WhatsappTemplateRequired));
        }
        if !self.flags.channel_enabled(Channel::Sms).await? {
            return Ok(Verdict::Refuse(HeraldError::ChannelDisabled(Channel::Sms)));
        }
        c.req.channel = Channel::Sms;
        c.req.fallback_channels = None;
        *c.valid = c.revalidate.revalidate(c.tenant, c.mode, c.req).await?;
        c.notes.push("fallback:whatsapp->sms:outside_24h_window".to_string());
        Ok(Verdict::Pass)
    }
}
