//! Contract error codes for failed messages, and how a provider's answer is classified:
//! a code, whether to retry, and whom to blame (only provider faults count against a
//! provider's circuit breaker). Each provider's own rows live in its module in the
//! providers crate; what is left here is the domain and the plain-HTTP fallback.
use crate::channel::Provider;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidPhoneNumber,
    RecipientOptedOut,
    QuotaExceeded,
    AccountSuspended,
    TemplateNotApproved,
    WindowExpired,
    RateLimitExceeded,
    AuthenticationError,
    Undeliverable,
    ProviderError,
    TemporaryError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPhoneNumber => "INVALID_PHONE_NUMBER",
            ErrorCode::RecipientOptedOut => "RECIPIENT_OPTED_OUT",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::AccountSuspended => "ACCOUNT_SUSPENDED",
            ErrorCode::TemplateNotApproved => "TEMPLATE_NOT_APPROVED",
            ErrorCode::WindowExpired => "WINDOW_EXPIRED",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::AuthenticationError => "AUTHENTICATION_ERROR",
            ErrorCode::Undeliverable => "UNDELIVERABLE",
            ErrorCode::ProviderError => "PROVIDER_ERROR",
            ErrorCode::TemporaryError => "TEMPORARY_ERROR",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// Who a failure says something about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The address: invalid, opted out, unreachable. Never counts against a provider.
    Recipient,
    /// The tenant's account or content at the provider (credentials, templates, suspension).
    Account,
    /// The provider itself: outages, throttling, timeouts.
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub code: ErrorCode,
    pub retryable: bool,
    pub blame: Blame,
}

/// What a provider call returned when it did not accept the message.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderFailure {
    pub provider: Provider,
    /// None for transport failures (connect errors, timeouts).
    pub http_status: Option<u16>,
    /// The provider's own error code, as a string (Telnyx sends strings, Twilio and Meta ints).
    pub code: Option<String>,
    pub message: String,
    pub retry_after: Option<Duration>,
    /// What it means for Herald, decided by the provider's module when it built the failure.
    pub class: Classification,
    /// The request may have been received (a timeout or a dropped connection after sending):
    /// whether the provider took the message is unknown.
    pub ambiguous: bool,
}

impl ProviderFailure {
    /// A connect error or timeout: nothing was answered.
    pub fn transport(provider: Provider, message: impl Into<String>) -> Self {
        let class = Classification::from_http(None);
        Self {
            provider,
            http_status: None,
            code: None,
            message: message.into(),
            retry_after: None,
            class,
            ambiguous: false,
        }
    }

    /// A request sent whose answer never came: the provider may have taken it.
    pub fn ambiguous(provider: Provider, message: impl Into<String>) -> Self {
        Self { ambiguous: true, ..Self::transport(provider, message) }
    }
    pub fn classify(&self) -> Classification {
        self.class
    }
}

impl Classification {
    /// What an HTTP answer without a known provider code means.
    pub fn from_http(http_status: Option<u16>) -> Classification {
        use Blame::*;
        use ErrorCode::*;
        let (code, retryable, blame) = match http_status {
            None => (TemporaryError, true, Provider),
            Some(401 | 403) => (AuthenticationError, false, Account),
            Some(408) => (TemporaryError, true, Provider),
            Some(429) => (RateLimitExceeded, true, Provider),
            Some(s) if s >= 500 => (TemporaryError, true, Provider),
            Some(_) => (ProviderError, false, Account),
        };
        Classification { code, retryable, blame }
    }
}

/// One provider's classification table: provider code, contract code, retryable, blame.
pub type ClassificationRows = &'static [(&'static str, ErrorCode, bool, Blame)];

/// Looks `code` up in `rows`, else falls back to what the HTTP status says.
pub fn classify(rows: ClassificationRows, http_status: Option<u16>, code: Option<&str>) -> Classification {
    if let Some(&(_, code, retryable, blame)) = code.and_then(|c| rows.iter().find(|row| row.0 == c)) {
        return Classification { code, retryable, blame };
    }
    Classification::from_http(http_status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fallbacks() {
        let rows: ClassificationRows = &[("21211", ErrorCode::InvalidPhoneNumber, false, Blame::Recipient)];
        let t = |s| classify(rows, s, Some("99999"));
        let provider = Classification { code: ErrorCode::TemporaryError, retryable: true, blame: Blame::Provider };
        assert_eq!(t(Some(503)), provider);
        assert_eq!(t(Some(500)).code, ErrorCode::TemporaryError);
        assert_eq!(
            t(Some(429)),
            Classification { code: ErrorCode::RateLimitExceeded, retryable: true, blame: Blame::Provider }
        );
        assert_eq!(t(Some(401)).code, ErrorCode::AuthenticationError);
        assert!(!t(Some(400)).retryable);
        assert_eq!(t(None), provider);
        assert_eq!(classify(rows, Some(400), Some("21211")).code, ErrorCode::InvalidPhoneNumber);
    }

    #[test]
    fn codes_serialise_as_contract_strings() {
        assert_eq!(serde_json::to_string(&ErrorCode::InvalidPhoneNumber).unwrap(), "\"INVALID_PHONE_NUMBER\"");
        assert_eq!(ErrorCode::parse("TEMPORARY_ERROR"), Some(ErrorCode::TemporaryError));
    }
}
