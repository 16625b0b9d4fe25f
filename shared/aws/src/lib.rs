//! Adapters from Herald's ports to AWS, through the real SDK clients only.
pub mod dynamo;
pub mod secrets;
pub mod sns;
pub mod sqs;

pub use dynamo::DynamoStore;
pub use secrets::SecretsManager;
pub use sqs::{QueuePair, SqsQueues};
