//! The WhatsApp Cloud API's error codes and message statuses, as Herald reads them.
use herald_core::errors::Blame::*;
use herald_core::errors::ClassificationRows;
use herald_core::errors::ErrorCode::*;
use herald_core::Status;

/// Graph API error code → contract code, retryable, blame.
pub const ROWS: ClassificationRows = &[
    ("4", RateLimitExceeded, true, Provider),
    ("17", RateLimitExceeded, true, Provider),
    ("190", AuthenticationError, false, Account),
    ("80007", RateLimitExceeded, true, Provider),
    ("130429", RateLimitExceeded, true, Provider),
    ("131026", Undeliverable, false, Recipient),
    ("131047", WindowExpired, false, Recipient),
    ("131056", RateLimitExceeded, true, Recipient),
    ("132001", TemplateNotApproved, false, Account),
];

/// `statuses[].status` → Herald status.
pub fn status(s: &str) -> Option<Status> {
    match s {
        "sent" => Some(Status::Sent),
        "delivered" => Some(Status::Delivered),
        "read" => Some(Status::Read),
        "failed" => Some(Status::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::errors::classify;

    #[test]
    fn contract_examples() {
        assert_eq!(classify(ROWS, Some(404), Some("132001")).code, TemplateNotApproved);
        assert_eq!(classify(ROWS, None, Some("131047")).code, WindowExpired);
        assert_eq!(status("read"), Some(Status::Read));
    }
}
