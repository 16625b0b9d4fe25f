use super::StoreResult;
use crate::guards::{BreakerRecord, BreakerState};
use crate::Provider;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Circuit breakers shared by every sender: state plus per-minute outcome counters.
#[async_trait]
pub trait BreakerStore: Send + Sync {
    async fn breaker(&self, provider: Provider) -> StoreResult<Option<BreakerRecord>>;
    /// Counts one attempt (and a failure) in the minute bucket.
    async fn count_outcome(&self, provider: Provider, minute: &str, failed: bool, expires_at: i64) -> StoreResult<()>;
    /// Moves to `state` if the stored version is still `expected` (None: no record yet).
    async fn transition(
        &self,
        provider: Provider,
        expected: Option<u64>,
        state: BreakerState,
        since: DateTime<Utc>,
        clear_buckets: bool,
    ) -> StoreResult<bool>;
}
