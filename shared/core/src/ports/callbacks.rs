use super::QueueError;
use crate::inbound::CallbackJob;
use async_trait::async_trait;

/// Status callbacks waiting to be delivered to tenants (a standard queue, retried with back-off).
#[async_trait]
pub trait CallbackQueue: Send + Sync {
    async fn enqueue_callback(&self, job: &CallbackJob) -> Result<(), QueueError>;
    /// Keeps a received callback record invisible for `delay` (a failed delivery's back-off).
    async fn delay_callback(&self, receipt_handle: &str, delay: std::time::Duration) -> Result<(), QueueError>;
}

/// Why a callback endpoint could not be reached.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    #[error("timeout")]
    Timeout,
    #[error("transport error")]
    Transport,
    #[error("the endpoint is not an allowed callback target")]
    Refused,
}

/// Why a callback URL was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TargetRefused(pub String);

/// Where tenant callbacks may go: https, and never to loopback, private, link-local or
/// metadata addresses (both checked after DNS resolution), unless switched off locally.
#[async_trait]
pub trait CallbackTargets: Send + Sync {
    async fn check(&self, url: &str) -> Result<(), TargetRefused>;
}

/// Delivers tenant callbacks over HTTP, signed with the tenant's callback secret.
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// POSTs `body` signed at `unix` time; Ok(status) when the endpoint answered.
    async fn post(&self, url: &str, body: &[u8], secret: &str, unix: i64) -> Result<u16, DeliveryError>;
}
