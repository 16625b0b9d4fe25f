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
    // The account's own sending rate and daily quota: back-pressure, retried with back-off,
    // never an SES outage (so never counted by the SES circuit breaker, which all tenants share).
    ("TooManyRequestsException", RateLimitExceeded, true, Account),
    ("LimitExceededException", QuotaExceeded, true, Account),
];
