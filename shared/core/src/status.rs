//! The message status machine. Receipts only ever move a message forward; the sender's own
//! retry (sending → queued) is the one step back, and it is an explicit transition.
use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Scheduled,
    Queued,
    Deferred,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    Canceled,
    Suppressed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Queued => "queued",
            Status::Deferred => "deferred",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// Progress towards the recipient; terminal non-delivery states have none.
    fn rank(self) -> Option<u8> {
        match self {
            Status::Scheduled | Status::Queued | Status::Deferred => Some(0),
            Status::Sending => Some(1),
            Status::Sent => Some(2),
            Status::Delivered => Some(3),
            Status::Read => Some(4),
            Status::Failed | Status::Canceled | Status::Suppressed => None,
        }
    }

    /// No further change will come from Herald itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Read | Status::Failed | Status::Canceled | Status::Suppressed | Status::Sent
        )
    }

    /// Still waiting to be handed to a provider.
    pub fn is_pending(self) -> bool {
        matches!(self, Status::Scheduled | Status::Queued | Status::Deferred)
    }

    /// Whether a provider receipt saying `incoming` may replace `self`.
    /// `sent` after `delivered` is ignored; `failed` is accepted until delivery is confirmed.
    pub fn accepts_receipt(self, incoming: Status) -> bool {
        let Some(current) = self.rank() else { return false };
        match incoming {
            Status::Failed => current <= 2,
            other => other.rank().is_some_and(|r| r > current && r >= 2),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn receipts_only_move_forward() {
        assert!(Sending.accepts_receipt(Sent));
        assert!(Sending.accepts_receipt(Delivered));
        assert!(Sent.accepts_receipt(Delivered));
        assert!(Delivered.accepts_receipt(Read));
        assert!(Sent.accepts_receipt(Read), "read may come without delivered");
        assert!(!Delivered.accepts_receipt(Sent));
        assert!(!Delivered.accepts_receipt(Delivered));
        assert!(!Read.accepts_receipt(Delivered));
        assert!(Sent.accepts_receipt(Failed));
        assert!(Queued.accepts_receipt(Delivered), "a receipt may beat the sender's write");
        assert!(!Delivered.accepts_receipt(Failed));
        assert!(!Failed.accepts_receipt(Delivered));
        assert!(!Canceled.accepts_receipt(Sent));
        assert!(!Sending.accepts_receipt(Queued));
    }

    #[test]
    fn parse_round_trip() {
        for s in [Scheduled, Queued, Deferred, Sending, Sent, Delivered, Read, Failed, Canceled, Suppressed] {
            assert_eq!(super::Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(super::Status::parse("nope"), None);
    }
}
