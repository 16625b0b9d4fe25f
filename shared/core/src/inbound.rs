//! Provider events as the domain sees them, once a webhook's signature has been checked.
use crate::channel::{Channel, Provider};
use crate::ids::{MessageId, TenantId};
use crate::status::Status;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A delivery receipt: the provider says where one of our messages is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub provider: Provider,
    pub provider_message_id: String,
    pub status: Status,
    /// The provider's error code on failed / undelivered receipts.
    #[serde(default)]
    pub error_code: Option<String>,
    /// What that code means, as the provider's module classified it.
    #[serde(default)]
    pub error: Option<crate::ErrorCode>,
    #[serde(default)]
    pub error_message: Option<String>,
    pub at: DateTime<Utc>,
    /// Actual price in cents when the provider reports one (settles the reservation).
    #[serde(default)]
    pub price_cents: Option<i64>,
    /// Herald's id for the message, when the provider echoes it back (the per-message
    /// callback URL, WhatsApp's `biz_opaque_callback_data`, SES tags): the receipt links the
    /// message even when the send's answer never arrived.
    #[serde(default)]
    pub message_id: Option<crate::MessageId>,
    /// The tenant whose credentials verified the event: it applies to that tenant's
    /// messages only (None: the provider's own channel, as SES through SNS).
    #[serde(default)]
    pub tenant_id: Option<TenantId>,
}

/// What an email provider reported about a sent mail (SES events through SNS).
#[derive(Debug, Clone, PartialEq)]
pub struct MailEvent {
    /// Unique per provider event (deduplication).
    pub event_id: String,
    /// Herald's message id, from the tags set at send time.
    pub message_id: Option<crate::MessageId>,
    pub provider_message_id: String,
    /// The tenant the mail was tagged with when it was sent.
    pub tenant_id: Option<TenantId>,
    pub kind: MailEventKind,
    /// The addresses a hard bounce or complaint is about.
    pub recipients: Vec<crate::EmailAddress>,
    /// The provider's code for a failed delivery, and what it means.
    pub error_code: Option<(String, crate::ErrorCode)>,
    /// When the provider says it happened (the webhook-lag metric), if it says.
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailEventKind {
    Delivery,
    Bounce {
        permanent: bool,
    },
    Complaint,
    /// SES refused to send it (a virus in it): failed, nobody put on the list.
    Reject,
}

/// A message someone sent to one of the tenant's numbers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub id: String,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub provider: Provider,
    pub provider_message_id: String,
    pub from: String,
    /// The tenant's number (or WhatsApp phone_number_id) it was sent to.
    pub to: String,
    pub body: String,
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

pub const OPT_OUT: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"];
pub const OPT_IN: &[&str] = &["START", "YES", "UNSTOP"];
pub const HELP: &[&str] = &["HELP", "INFO"];

/// Only a whole, single-word message is a keyword: "STOP please" is not.
pub fn keyword(body: &str) -> Option<(Keyword, String)> {
    let word = body.trim().to_uppercase();
    if word.is_empty() || word.contains(char::is_whitespace) {
        return None;
    }
    let kind = if OPT_OUT.contains(&word.as_str()) {
        Keyword::OptOut
    } else if OPT_IN.contains(&word.as_str()) {
        Keyword::OptIn
    } else if HELP.contains(&word.as_str()) {
        Keyword::Help
    } else {
        return None;
    };
    Some((kind, word))
}

/// A status change to POST to the tenant's `callback_url`: a message's (`message_id`,
/// `status`) or a call's (`call`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackJob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    pub tenant_id: TenantId,
    pub status: Status,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallNotice>,
}

/// `call.missed`, `call.voicemail`, `call.transcribed` for one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallNotice {
    pub call_sid: String,
    pub event: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_single_words_any_case_trimmed() {
        for w in OPT_OUT {
            assert_eq!(keyword(&format!("  {}\n", w.to_lowercase())).map(|k| k.0), Some(Keyword::OptOut), "{w}");
        }
        for w in OPT_IN {
            assert_eq!(keyword(w).map(|k| k.0), Some(Keyword::OptIn));
        }
        assert_eq!(keyword("Help").map(|k| k.0), Some(Keyword::Help));
        assert_eq!(keyword("info").map(|k| k.0), Some(Keyword::Help));
        assert_eq!(keyword("stop please"), None);
        assert_eq!(keyword("STOP ALL"), None);
        assert_eq!(keyword("stopping"), None);
        assert_eq!(keyword(""), None);
    }
}
