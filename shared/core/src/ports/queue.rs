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

/// One job for `SendQueue::enqueue_batch`.
#[derive(Debug, Clone)]
pub struct Enqueued {
    pub job: SendJob,
    pub group_id: String,
    pub dedup_id: String,
}

/// The per-channel FIFO send queues and their dead-letter queues.
#[async_trait]
pub trait SendQueue: Send + Sync {
    async fn enqueue(&self, job: &SendJob, group_id: &str, dedup_id: &str) -> Result<(), QueueError>;
    /// Up to ten jobs of one channel in one request (SQS `SendMessageBatch`); one result per
    /// job, in order. By default one `enqueue` each.
    async fn enqueue_batch(&self, jobs: &[Enqueued]) -> Vec<Result<(), QueueError>> {
        let mut out = Vec::with_capacity(jobs.len());
        for j in jobs {
            out.push(self.enqueue(&j.job, &j.group_id, &j.dedup_id).await);
        }
        out
    }
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
