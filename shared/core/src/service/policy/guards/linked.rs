//! Sending from a Telnyx number that is not linked to its messaging profile yet would fail
//! at Telnyx: the message is held until linking finishes.
use crate::channel::Provider;
use crate::linking::LinkStatus;
use crate::message::HoldReason;
use crate::ports::LinkingStore;
use crate::service::policy::guard::{Guard, SendCheck};
use crate::service::policy::Gate;
use crate::service::HeraldError;
use async_trait::async_trait;
use std::sync::Arc;

pub struct NumberLinked {
    linking: Arc<dyn LinkingStore>,
}

impl NumberLinked {
    pub fn new(linking: Arc<dyn LinkingStore>) -> Self {
        Self { linking }
    }
}

#[async_trait]
impl Guard for NumberLinked {
    fn name(&self) -> &'static str {
        "number_linked"
    }
    fn needs_route(&self) -> bool {
        true
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        let Some(route) = c.route else { return Ok(None) };
        let (Provider::Telnyx, Some(from)) = (route.provider, route.from) else { return Ok(None) };
        match self.linking.linking(from).await? {
            Some(st) if st.status != LinkStatus::Linked => {
                tracing::info!(message_id = %c.msg.id, "sending number not linked yet; held");
                Ok(Some(Gate::held(HoldReason::NumberNotLinked)))
            }
            _ => Ok(None),
        }
    }
}
