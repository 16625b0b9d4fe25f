//! Turns an admitted request into the message record, held when the send policy said so
//! (the tenant is paused, the recipient is in quiet hours).
use super::{Accepting, Intake};
use crate::message::{HistoryEntry, Message, Template};
use crate::status::Status;

impl Accepting {
    pub(crate) fn draft(&self, intake: Intake<'_>) -> Message {
        let now = self.clock.now();
        let Intake { tenant, key, req, valid, notes, idempotency_key, correlation_id, admitted } = intake;
        let (cost, period) = (admitted.cost, admitted.reserved);
        let scheduled = req.send_at.is_some_and(|t| t > now + chrono::Duration::seconds(1));
        let status = if scheduled { Status::Scheduled } else { Status::Queued };
        let mut msg = Message::draft(tenant.id.clone(), req.channel, valid.to, correlation_id, key.mode, now);
        msg.from = valid.from;
        msg.body = req.body;
        msg.subject = req.subject;
        msg.html = req.html;
        msg.template = req.template.map(|t| Template { name: t.name, language: t.language, parameters: t.parameters });
        msg.priority = req.priority.unwrap_or_default();
        msg.recipient_timezone = req.recipient_timezone;
        msg.send_at = req.send_at;
        msg.metadata = req.metadata.unwrap_or_default();
        msg.callback_url = req.callback_url;
        msg.fallback_channels = req.fallback_channels.unwrap_or_default();
        msg.status = status;
        msg.history = vec![HistoryEntry { status, at: now }];
        msg.segments = valid.segments;
        msg.encoding = valid.encoding;
        msg.estimated_cost_cents = cost;
        // Scheduled: due when it is to go. Queued: none (enqueued before it is written).
        msg.due_at = if scheduled { req.send_at } else { None };
        msg.idempotency_key = idempotency_key;
        msg.notes = notes;
        msg.reserved_cents = if period.is_some() { cost } else { 0 };
        msg.budget_period = period;
        if let Some(h) = admitted.hold {
            msg.hold(h.reason, h.until, h.status, now);
        }
        msg
    }
}
