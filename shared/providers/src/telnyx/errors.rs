//! Telnyx's error codes and message statuses, as Herald reads them.
use herald_core::errors::Blame::*;
use herald_core::errors::ClassificationRows;
use herald_core::errors::ErrorCode::*;
use herald_core::Status;

/// Telnyx error code → contract code, retryable, blame.
pub const ROWS: ClassificationRows = &[
    ("10005", ProviderError, false, Account),
    ("10009", AuthenticationError, false, Account),
    ("10011", RateLimitExceeded, true, Provider),
    ("10015", ProviderError, false, Account),
    ("10016", InvalidPhoneNumber, false, Recipient),
    ("40001", Undeliverable, false, Recipient),
    ("40002", Undeliverable, false, Account),
    ("40003", Undeliverable, false, Account),
    ("40005", Undeliverable, false, Provider),
    ("40008", Undeliverable, false, Recipient),
    ("40300", RecipientOptedOut, false, Recipient),
];

/// Telnyx `to[].status` → Herald status.
pub fn status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "sending_failed" | "delivery_failed" | "expired" => Some(Status::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::errors::classify;

    #[test]
    fn contract_examples() {
        assert_eq!(classify(ROWS, Some(403), Some("40300")).code, RecipientOptedOut);
        assert_eq!(status("delivery_failed"), Some(Status::Failed));
    }
}
