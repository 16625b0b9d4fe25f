//! Provider events as the domain sees them, once a webhook's signature has been checked.
use crate::channel::{Channel, Provider};
use crate::ids::{MessageId, TenantId};
use crate::ports::StoreResult;
use crate::status::Status;
use async_trait::async_trait;
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
    #[serde(default)]
    pub error_message: Option<String>,
    pub at: DateTime<Utc>,
    /// Actual price in cents when the provider reports one (settles the reservation).
    #[serde(default)]
    pub price_cents: Option<i64>,
}

/// A message someone sent to one of the tenant's numbers.
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

/// A status change to POST to the tenant's `callback_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackJob {
    pub message_id: MessageId,
    pub tenant_id: TenantId,
    pub status: Status,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait EventRepo: Send + Sync {
    /// Records a provider event id; false when it was already recorded (a duplicate).
    async fn first_event(&self, key: &str, expires_at: i64) -> StoreResult<bool>;
    async fn forget_event(&self, key: &str) -> StoreResult<()>;
    async fn save_inbound(&self, m: &InboundMessage) -> StoreResult<()>;
    async fn inbound(
        &self,
        tenant: &TenantId,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<InboundMessage>>;
    /// A receipt that arrived before the sender stored the provider's id.
    async fn save_orphan(&self, receipt: &Receipt) -> StoreResult<()>;
    async fn take_orphans(&self, provider: Provider, provider_message_id: &str) -> StoreResult<Vec<Receipt>>;
    /// Which tenant a WhatsApp phone_number_id / verify token belongs to.
    async fn set_whatsapp_index(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        verify_token_hash: &str,
    ) -> StoreResult<()>;
    async fn whatsapp_tenant(&self, phone_number_id: &str) -> StoreResult<Option<TenantId>>;
    async fn whatsapp_tenant_by_token(&self, verify_token_hash: &str) -> StoreResult<Option<TenantId>>;
}

/// Delivers tenant callbacks over HTTP.
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// POSTs `body`; Ok(status) when the endpoint answered, Err on transport failure.
    async fn post(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, String>;
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

/// Twilio `MessageStatus` → Herald status (None: not a step Herald records).
pub fn twilio_status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "read" => Some(Status::Read),
        "failed" | "undelivered" => Some(Status::Failed),
        _ => None,
    }
}

/// Telnyx `to[].status` → Herald status.
pub fn telnyx_status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "sending_failed" | "delivery_failed" | "expired" => Some(Status::Failed),
        _ => None,
    }
}

/// WhatsApp `statuses[].status` → Herald status.
pub fn whatsapp_status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "read" => Some(Status::Read),
        "failed" => Some(Status::Failed),
        _ => None,
    }
}
