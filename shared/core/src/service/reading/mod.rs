//! Messages read back by their tenant, and canceled before they are sent. Another tenant's
//! message answers exactly as a missing one does.
use super::budget::Budgets;
use super::support::{update_message, Audit};
use super::{Caller, HeraldError};
use crate::ids::MessageId;
use crate::message::Message;
use crate::ports::{Clock, MessageFilter, MessageStore, Page};
use crate::status::Status;
use serde_json::json;
use std::sync::Arc;

pub struct Reading {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Reading {
    pub async fn message(&self, caller: &Caller, id: &str) -> Result<Message, HeraldError> {
        let tenant = caller.tenant()?;
        let id = MessageId::parse(id).ok_or(HeraldError::NotFound)?;
        match self.messages.message(&id).await? {
            Some(m) if m.tenant_id == tenant.id && m.key_mode == caller.mode() => Ok(m),
            _ => Err(HeraldError::NotFound),
        }
    }

    pub async fn messages(
        &self,
        caller: &Caller,
        mut filter: MessageFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Message>, HeraldError> {
        let tenant = caller.tenant()?;
        filter.mode = caller.mode();
        // A recipient as typed ("(512) 555-0100", "Ann@Example.org") finds the stored form.
        filter.to = filter.to.filter(|t| !t.trim().is_empty()).map(|raw| {
            crate::address::Address::parse(&raw, tenant.default_country.as_deref())
                .map(|a| a.as_str().to_string())
                .unwrap_or_else(|_| raw.trim().to_ascii_lowercase())
        });
        Ok(self.messages.list(&tenant.id, &filter, limit.clamp(1, 100), cursor).await?)
    }

    /// `POST /v1/messages/{id}/cancel`: only before sending; the reservation is released.
    pub async fn cancel(&self, caller: &Caller, id: &str) -> Result<Message, HeraldError> {
        let msg = self.message(caller, id).await?;
        let now = self.clock.now();
        let mut released = 0;
        let updated = update_message(self.messages.as_ref(), &msg.id, |m| {
            if !m.status.is_pending() {
                return false;
            }
            released = std::mem::take(&mut m.reserved_cents);
            m.hold_reason = None;
            m.due_at = None;
            m.set_status(Status::Canceled, now);
            true
        })
        .await?
        .ok_or(HeraldError::NotFound)?;
        if updated.status != Status::Canceled {
            let message = format!("the message is {} and can no longer be canceled", updated.status);
            return Err(HeraldError::Conflict(message));
        }
        self.budgets.release(&updated, released).await;
        self.audit.record(caller, Some(&updated.tenant_id), "message.cancel", json!({"message_id": updated.id})).await;
        Ok(updated)
    }
}

impl Reading {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(sh: &crate::service::wiring::Shared, a: &crate::service::Adapters) -> Self {
        Self { messages: a.db.clone(), budgets: sh.budgets.clone(), audit: sh.audit.clone(), clock: sh.clock.clone() }
    }
}
