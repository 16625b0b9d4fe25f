//! A receipt's forward step as data, for the common case — a `delivered` or `read` receipt
//! for a message whose send was recorded — so the store can write it as one conditional
//! update without reading the message first. Anything else (failures, prices to settle, a
//! receipt that links an unanswered attempt) takes the read-modify-write path.
use super::{HistoryEntry, Message};
use crate::ids::TenantId;
use crate::inbound::Receipt;
use crate::status::Status;
use chrono::{DateTime, Utc};

/// The times a receipt's status records: the one rule the full transition
/// (`Message::apply_receipt`) and the one-write step both follow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Set, with the created → delivered latency.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Set only where there is none yet.
    pub sent_at_if_absent: Option<DateTime<Utc>>,
    pub delivered_at_if_absent: Option<DateTime<Utc>>,
}

impl Progress {
    pub fn of(status: Status, at: DateTime<Utc>) -> Progress {
        match status {
            Status::Delivered => Progress { delivered_at: Some(at), sent_at_if_absent: Some(at), ..Default::default() },
            Status::Read => Progress { delivered_at_if_absent: Some(at), ..Default::default() },
            Status::Sent => Progress { sent_at_if_absent: Some(at), ..Default::default() },
            _ => Progress::default(),
        }
    }

    pub fn apply(&self, m: &mut Message) {
        if let Some(at) = self.delivered_at {
            m.delivered_at = Some(at);
            m.delivery_latency_ms = Some((at - m.released_at.unwrap_or(m.created_at)).num_milliseconds());
        }
        if let Some(at) = self.sent_at_if_absent {
            m.sent_at.get_or_insert(at);
        }
        if let Some(at) = self.delivered_at_if_absent {
            m.delivered_at.get_or_insert(at);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusStep {
    /// Only that tenant's message (the credentials that verified the receipt).
    pub tenant_id: Option<TenantId>,
    /// The message carries this provider id already.
    pub provider_message_id: String,
    /// The statuses the step moves forward from.
    pub from: Vec<Status>,
    pub to: Status,
    /// When Herald applies it (`updated_at`, the history entry).
    pub now: DateTime<Utc>,
    pub progress: Progress,
}

impl StatusStep {
    /// The step of a receipt that needs no more than a condition on the stored message.
    pub fn of(r: &Receipt, now: DateTime<Utc>) -> Option<StatusStep> {
        let progressing = matches!(r.status, Status::Delivered | Status::Read);
        if !progressing || r.message_id.is_none() || r.price_cents.is_some() {
            return None;
        }
        let from: Vec<Status> =
            [Status::Sent, Status::Delivered].into_iter().filter(|s| s.accepts_receipt(r.status)).collect();
        Some(StatusStep {
            tenant_id: r.tenant_id.clone(),
            provider_message_id: r.provider_message_id.clone(),
            from,
            to: r.status,
            now,
            progress: Progress::of(r.status, r.at),
        })
    }

    /// The store's condition: the message is in a state the step applies to, and the step
    /// changes no index key (nothing due, nothing held).
    pub fn applies_to(&self, m: &Message) -> bool {
        self.tenant_id.as_ref().is_none_or(|t| *t == m.tenant_id)
            && m.provider_message_id.as_deref() == Some(self.provider_message_id.as_str())
            && self.from.contains(&m.status)
            && m.due_at.is_none()
            && m.hold_reason.is_none()
    }

    /// The history entry the step appends.
    pub fn history_entry(&self) -> HistoryEntry {
        HistoryEntry { status: self.to, at: self.now }
    }

    /// The step applied to a copy, as the store writes it (the version moves by one).
    pub fn apply(&self, m: &mut Message) {
        self.progress.apply(m);
        m.set_status(self.to, self.now);
        m.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::tests::sample;
    use crate::Provider;

    fn receipt(m: &Message, status: Status, price: Option<i64>) -> Receipt {
        Receipt {
            provider: Provider::Twilio,
            provider_message_id: "SM1".into(),
            status,
            error_code: None,
            error: None,
            error_message: None,
            at: m.created_at + chrono::Duration::seconds(3),
            price_cents: price,
            message_id: Some(m.id.clone()),
            tenant_id: Some(m.tenant_id.clone()),
        }
    }

    /// Wherever the step applies, it writes exactly what the full transition would.
    #[test]
    fn a_step_is_the_receipt_transition() {
        let (now, mut applied) = (Utc::now(), 0);
        for current in [Status::Sending, Status::Sent, Status::Delivered, Status::Read, Status::Failed] {
            for incoming in [Status::Sent, Status::Delivered, Status::Read, Status::Failed] {
                let mut m = sample(now);
                m.status = current;
                m.provider_message_id = Some("SM1".into());
                let r = receipt(&m, incoming, None);
                let Some(step) = StatusStep::of(&r, now) else {
                    assert!(!matches!(incoming, Status::Delivered | Status::Read), "{incoming} has a step");
                    continue;
                };
                if !step.applies_to(&m) {
                    assert!(!matches!(current, Status::Sent) || incoming == Status::Sent, "{current} → {incoming}");
                    continue;
                }
                let (mut stepped, mut full) = (m.clone(), m.clone());
                step.apply(&mut stepped);
                assert!(full.apply_receipt(&r, now).is_some());
                full.version += 1;
                assert_eq!(stepped, full, "{current} → {incoming}");
                applied += 1;
            }
        }
        // sent → delivered, sent → read, delivered → read
        assert_eq!(applied, 3);
    }

    #[test]
    fn priced_foreign_or_unlinked_receipts_take_the_full_path() {
        let now = Utc::now();
        let mut m = sample(now);
        m.status = Status::Sent;
        m.provider_message_id = Some("SM1".into());
        assert!(StatusStep::of(&receipt(&m, Status::Delivered, Some(1)), now).is_none());
        let step = StatusStep::of(&receipt(&m, Status::Delivered, None), now).unwrap();
        let mut other = m.clone();
        other.tenant_id = TenantId::generate();
        assert!(!step.applies_to(&other));
        let mut unlinked = m.clone();
        unlinked.provider_message_id = None;
        assert!(!step.applies_to(&unlinked));
        let mut due = m;
        due.due_at = Some(now);
        assert!(!step.applies_to(&due));
    }
}
