//! Adapters from Herald's ports to AWS, through the real SDK clients only.
pub mod cognito;
pub mod dynamo;
pub mod s3;
pub mod secrets;
pub mod sns;
pub mod sqs;
pub mod streams;

pub use dynamo::DynamoStore;
pub use secrets::SecretsManager;
pub use sqs::{QueuePair, SqsQueues};

/// Creating or finding the local resources failed (tables, queues, topics); the text says which.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

impl From<String> for SetupError {
    fn from(s: String) -> Self {
        SetupError(s)
    }
}

impl From<&str> for SetupError {
    fn from(s: &str) -> Self {
        SetupError(s.to_string())
    }
}
