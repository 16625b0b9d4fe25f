//! Contract error codes for failed messages, and the one table that maps what a provider
//! answered to a code, whether to retry, and whom to blame (only provider faults count
//! against a provider's circuit breaker).
use crate::channel::Provider;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
}

impl ProviderFailure {
    pub fn transport(provider: Provider, message: impl Into<String>) -> Self {
        Self { provider, http_status: None, code: None, message: message.into(), retry_after: None }
    }
    pub fn classify(&self) -> Classification {
        classify(self.provider, self.http_status, self.code.as_deref())
    }
}

use Blame::*;
use ErrorCode::*;

/// provider, provider code, contract code, retryable, blame. One row per known code.
pub const CLASSIFICATION: &[(Provider, &str, ErrorCode, bool, Blame)] = &[
    (Provider::Twilio, "20003", AuthenticationError, false, Account),
    (Provider::Twilio, "20429", RateLimitExceeded, true, Provider),
    (Provider::Twilio, "21211", InvalidPhoneNumber, false, Recipient),
    (Provider::Twilio, "21606", ProviderError, false, Account),
    (Provider::Twilio, "21608", Undeliverable, false, Recipient),
    (Provider::Twilio, "21610", RecipientOptedOut, false, Recipient),
    (Provider::Twilio, "21612", Undeliverable, false, Recipient),
    (Provider::Twilio, "21614", InvalidPhoneNumber, false, Recipient),
    (Provider::Twilio, "21635", InvalidPhoneNumber, false, Recipient),
    (Provider::Twilio, "30003", Undeliverable, false, Recipient),
    (Provider::Twilio, "30004", Undeliverable, false, Recipient),
    (Provider::Twilio, "30005", InvalidPhoneNumber, false, Recipient),
    (Provider::Twilio, "30006", Undeliverable, false, Recipient),
    (Provider::Twilio, "30007", Undeliverable, false, Account),
    (Provider::Twilio, "30008", Undeliverable, false, Provider),
    (Provider::Telnyx, "10005", ProviderError, false, Account),
    (Provider::Telnyx, "10009", AuthenticationError, false, Account),
    (Provider::Telnyx, "10011", RateLimitExceeded, true, Provider),
    (Provider::Telnyx, "10015", ProviderError, false, Account),
    (Provider::Telnyx, "10016", InvalidPhoneNumber, false, Recipient),
    (Provider::Telnyx, "40001", Undeliverable, false, Recipient),
    (Provider::Telnyx, "40002", Undeliverable, false, Account),
    (Provider::Telnyx, "40003", Undeliverable, false, Account),
    (Provider::Telnyx, "40005", Undeliverable, false, Provider),
    (Provider::Telnyx, "40008", Undeliverable, false, Recipient),
    (Provider::Telnyx, "40300", RecipientOptedOut, false, Recipient),
    (Provider::Whatsapp, "4", RateLimitExceeded, true, Provider),
    (Provider::Whatsapp, "17", RateLimitExceeded, true, Provider),
    (Provider::Whatsapp, "190", AuthenticationError, false, Account),
    (Provider::Whatsapp, "80007", RateLimitExceeded, true, Provider),
    (Provider::Whatsapp, "130429", RateLimitExceeded, true, Provider),
    (Provider::Whatsapp, "131026", Undeliverable, false, Recipient),
    (Provider::Whatsapp, "131047", WindowExpired, false, Recipient),
    (Provider::Whatsapp, "131056", RateLimitExceeded, true, Recipient),
    (Provider::Whatsapp, "132001", TemplateNotApproved, false, Account),
    (Provider::Ses, "AccountSuspendedException", AccountSuspended, false, Account),
    (Provider::Ses, "SendingPausedException", AccountSuspended, false, Account),
    (Provider::Ses, "MessageRejected", Undeliverable, false, Recipient),
    (Provider::Ses, "MailFromDomainNotVerifiedException", ProviderError, false, Account),
    (Provider::Ses, "NotFoundException", ProviderError, false, Account),
    (Provider::Ses, "TooManyRequestsException", RateLimitExceeded, true, Provider),
    (Provider::Ses, "LimitExceededException", QuotaExceeded, true, Provider),
    (Provider::Smtp, "550", Undeliverable, false, Recipient),
    (Provider::Smtp, "553", InvalidPhoneNumber, false, Recipient),
    (Provider::Smtp, "535", AuthenticationError, false, Account),
];

pub fn classify(provider: Provider, http_status: Option<u16>, code: Option<&str>) -> Classification {
    if let Some(code) = code {
        if let Some(&(_, _, code, retryable, blame)) =
            CLASSIFICATION.iter().find(|row| row.0 == provider && row.1 == code)
        {
            return Classification { code, retryable, blame };
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One assertion per row: the table is the classification, nothing else decides.
    #[test]
    fn every_row_classifies_as_written() {
        for &(provider, code, expected, retryable, blame) in CLASSIFICATION {
            let c = classify(provider, Some(400), Some(code));
            assert_eq!((c.code, c.retryable, c.blame), (expected, retryable, blame), "{provider} {code}");
        }
    }

    #[test]
    fn rows_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for row in CLASSIFICATION {
            assert!(seen.insert((row.0, row.1)), "duplicate row {:?} {}", row.0, row.1);
        }
    }

    #[test]
    fn contract_examples() {
        assert_eq!(classify(Provider::Twilio, Some(400), Some("21211")).code, InvalidPhoneNumber);
        assert!(!classify(Provider::Twilio, Some(400), Some("21610")).retryable);
        assert_eq!(classify(Provider::Whatsapp, Some(404), Some("132001")).code, TemplateNotApproved);
        assert_eq!(classify(Provider::Telnyx, Some(403), Some("40300")).code, RecipientOptedOut);
    }

    #[test]
    fn status_fallbacks() {
        let t = |s| classify(Provider::Twilio, s, Some("99999"));
        assert_eq!(t(Some(503)), Classification { code: TemporaryError, retryable: true, blame: Provider });
        assert_eq!(t(Some(500)).code, TemporaryError);
        assert_eq!(t(Some(429)), Classification { code: RateLimitExceeded, retryable: true, blame: Provider });
        assert_eq!(t(Some(401)).code, AuthenticationError);
        assert!(!t(Some(400)).retryable);
        assert_eq!(t(None), Classification { code: TemporaryError, retryable: true, blame: Provider });
    }

    #[test]
    fn codes_serialise_as_contract_strings() {
        assert_eq!(serde_json::to_string(&InvalidPhoneNumber).unwrap(), "\"INVALID_PHONE_NUMBER\"");
        assert_eq!(ErrorCode::parse("TEMPORARY_ERROR"), Some(TemporaryError));
        for (_, _, c, _, _) in CLASSIFICATION {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
        }
    }
}
