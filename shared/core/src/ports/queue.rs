use crate::channel::Channel;
use crate::message::SendJob;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueDepth {
    pub queue: Channel,
    pub depth: u64,
    pub in_flight: u64,
    pub dlq_depth: u64,
}

/// The per-channel FIFO send queues and their dead-letter queues.
#[async_trait]
pub trait SendQueue: Send + Sync {
    async fn enqueue(&self, job: &SendJob, group_id: &str, dedup_id: &str) -> Result<(), QueueError>;
    /// Keeps a received message invisible for `delay` (the retry back-off).
    async fn retry_later(
        &self,
        channel: Channel,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), QueueError>;
    /// Records the redrive policy moved to the channel's SQS DLQ, with their receipt handles.
    async fn receive_dead_letters(&self, channel: Channel, max: i32) -> Result<Vec<(SendJob, String)>, QueueError>;
    async fn delete_dead_letter(&self, channel: Channel, receipt_handle: &str) -> Result<(), QueueError>;
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError>;
}
