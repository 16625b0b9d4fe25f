//! Twilio's error codes and message statuses, as Herald reads them.
use herald_core::errors::Blame::*;
use herald_core::errors::ClassificationRows;
use herald_core::errors::ErrorCode::*;
use herald_core::Status;

/// Twilio error code → contract code, retryable, blame.
pub const ROWS: ClassificationRows = &[
    ("20003", AuthenticationError, false, Account),
    ("20429", RateLimitExceeded, true, Provider),
    ("21211", InvalidPhoneNumber, false, Recipient),
    ("21606", ProviderError, false, Account),
    ("21608", Undeliverable, false, Recipient),
    ("21610", RecipientOptedOut, false, Recipient),
    ("21612", Undeliverable, false, Recipient),
    ("21614", InvalidPhoneNumber, false, Recipient),
    ("21635", InvalidPhoneNumber, false, Recipient),
    ("30003", Undeliverable, false, Recipient),
    ("30004", Undeliverable, false, Recipient),
    ("30005", InvalidPhoneNumber, false, Recipient),
    ("30006", Undeliverable, false, Recipient),
    ("30007", Undeliverable, false, Account),
    ("30008", Undeliverable, false, Provider),
];

/// Twilio `MessageStatus` → Herald status (None: not a step Herald records).
pub fn status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "read" => Some(Status::Read),
        "failed" | "undelivered" => Some(Status::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::errors::{classify, Classification};

    #[test]
    fn contract_examples() {
        assert_eq!(classify(ROWS, Some(400), Some("21211")).code, InvalidPhoneNumber);
        assert!(!classify(ROWS, Some(400), Some("21610")).retryable);
        let c = classify(ROWS, Some(503), Some("99999"));
        assert_eq!(c, Classification { code: TemporaryError, retryable: true, blame: Provider });
    }

    #[test]
    fn statuses() {
        assert_eq!(status("undelivered"), Some(Status::Failed));
        assert_eq!(status("queued"), None);
    }
}
