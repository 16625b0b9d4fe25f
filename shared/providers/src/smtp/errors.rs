//! SMTP reply codes, as Herald reads them.
use herald_core::errors::Blame::*;
use herald_core::errors::ClassificationRows;
use herald_core::errors::ErrorCode::*;

/// SMTP reply code → contract code, retryable, blame.
pub const ROWS: ClassificationRows = &[
    ("550", Undeliverable, false, Recipient),
    ("553", InvalidPhoneNumber, false, Recipient),
    ("535", AuthenticationError, false, Account),
];
