//! Amazon SES v2's error codes, as Herald reads them.
use herald_core::errors::Blame::*;
use herald_core::errors::ClassificationRows;
use herald_core::errors::ErrorCode::*;

/// SES error code → contract code, retryable, blame.
pub const ROWS: ClassificationRows = &[
    ("AccountSuspendedException", AccountSuspended, false, Account),
    ("SendingPausedException", AccountSuspended, false, Account),
    ("MessageRejected", Undeliverable, false, Recipient),
    ("MailFromDomainNotVerifiedException", ProviderError, false, Account),
    ("NotFoundException", ProviderError, false, Account),
    ("TooManyRequestsException", RateLimitExceeded, true, Provider),
    ("LimitExceededException", QuotaExceeded, true, Provider),
];
