//! Errors a caller sees; each has a stable contract code.
use crate::channel::Channel;
use crate::ports::StoreError;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeraldError {
    #[error("missing or invalid API key")]
    Unauthenticated,
    #[error("this key may not call this route")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Validation { code: &'static str, message: String, fields: BTreeMap<String, String> },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("the recipient is on the do-not-contact list")]
    RecipientOptedOut,
    #[error("outside the 24 h customer service window a WhatsApp message needs an approved template")]
    WhatsappTemplateRequired,
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("rate limit of {limit} messages per minute reached")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("the {0} channel is disabled")]
    ChannelDisabled(Channel),
    #[error("the {0} channel is not configured for this tenant")]
    ChannelNotConfigured(Channel),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("a test key may read configuration and send test messages, nothing else")]
    TestKeyForbidden,
    #[error("the tenant was paused by an operator; only an operator can resume it")]
    PausedByOperator,
    #[error("{0}")]
    AboveOperatorLimit(String),
    #[error("{0}")]
    AlreadyClaimed(String),
    #[error("{0}")]
    NumberNotInAccount(String),
    #[error("{0}")]
    WhatsappNumberNotAccessible(String),
    #[error("{0}")]
    IdentityNotVerified(String),
    #[error("{0}")]
    IdentityExistsOutsideHerald(String),
    #[error("only an owner of this account can do this; ask an owner")]
    OwnerOnly,
    #[error("{0}")]
    InvalidCredentials(String),
    #[error("your session has ended; sign in again")]
    SessionExpired,
}

impl HeraldError {
    /// A decision about the request (refused, by a guard or by validation), as opposed to
    /// a failure of Herald or its dependencies that a retry may cure.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, HeraldError::Unavailable(_) | HeraldError::Conflict(_))
    }

    pub fn code(&self) -> &'static str {
        match self {
            HeraldError::Unauthenticated => "UNAUTHENTICATED",
            HeraldError::Forbidden => "FORBIDDEN",
            HeraldError::NotFound => "NOT_FOUND",
            HeraldError::Validation { code, .. } => code,
            HeraldError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            HeraldError::RecipientOptedOut => "RECIPIENT_OPTED_OUT",
            HeraldError::WhatsappTemplateRequired => "WHATSAPP_TEMPLATE_REQUIRED",
            HeraldError::BudgetExceeded(_) => "BUDGET_EXCEEDED",
            HeraldError::RateLimited { .. } => "RATE_LIMITED",
            HeraldError::Conflict(_) => "CONFLICT",
            HeraldError::ChannelDisabled(_) => "CHANNEL_DISABLED",
            HeraldError::ChannelNotConfigured(_) => "CHANNEL_NOT_CONFIGURED",
            HeraldError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            HeraldError::TestKeyForbidden => "TEST_KEY_FORBIDDEN",
            HeraldError::PausedByOperator => "PAUSED_BY_OPERATOR",
            HeraldError::AboveOperatorLimit(_) => "ABOVE_OPERATOR_LIMIT",
            HeraldError::AlreadyClaimed(_) => "ALREADY_CLAIMED",
            HeraldError::NumberNotInAccount(_) => "NUMBER_NOT_IN_ACCOUNT",
            HeraldError::WhatsappNumberNotAccessible(_) => "WHATSAPP_NUMBER_NOT_ACCESSIBLE",
            HeraldError::IdentityNotVerified(_) => "IDENTITY_NOT_VERIFIED",
            HeraldError::IdentityExistsOutsideHerald(_) => "IDENTITY_EXISTS_OUTSIDE_HERALD",
            HeraldError::OwnerOnly => "OWNER_ONLY",
            HeraldError::InvalidCredentials(_) => "INVALID_CREDENTIALS",
            HeraldError::SessionExpired => "SESSION_EXPIRED",
        }
    }

    pub fn validation(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        // These codes are contract codes in their own right; the rest are field details.
        let top = match code {
            "INVALID_PHONE_NUMBER_FORMAT"
            | "INVALID_PHONE_NUMBER_TYPE"
            | "INVALID_PROFILE_ID_TYPE"
            | "INVALID_PROFILE_ID_FORMAT" => code,
            _ => "VALIDATION_ERROR",
        };
        HeraldError::Validation {
            code: top,
            message: message.into(),
            fields: BTreeMap::from([(field.to_string(), code.to_string())]),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        HeraldError::Validation { code: "VALIDATION_ERROR", message: message.into(), fields: BTreeMap::new() }
    }
}

impl From<StoreError> for HeraldError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => HeraldError::Conflict("concurrent update, try again".into()),
            StoreError::Unavailable(m) => HeraldError::Unavailable(m),
            StoreError::BadCursor => HeraldError::validation(
                "cursor",
                "INVALID_CURSOR",
                "not a cursor of this list: pass the next_cursor of the previous page as it was",
            ),
        }
    }
}

impl From<crate::ports::QueueError> for HeraldError {
    fn from(e: crate::ports::QueueError) -> Self {
        HeraldError::Unavailable(e.0)
    }
}
