use super::StoreResult;
use crate::guards::{BreakerRecord, BreakerState, ProviderAccount};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Circuit breakers shared by every sender, one per provider account: state plus
/// per-minute outcome counters.
#[async_trait]
pub trait BreakerStore: Send + Sync {
    async fn breaker(&self, account: &ProviderAccount) -> StoreResult<Option<BreakerRecord>>;
    /// Every account's breaker (the health view).
    async fn breakers(&self) -> StoreResult<Vec<(ProviderAccount, BreakerRecord)>>;
    /// Counts one attempt (and a failure) in the minute bucket.
    async fn count_outcome(
        &self,
        account: &ProviderAccount,
        minute: &str,
        failed: bool,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Moves to `state` if the stored version is still `expected` (None: no record yet).
    async fn transition(
        &self,
        account: &ProviderAccount,
        expected: Option<u64>,
        state: BreakerState,
        since: DateTime<Utc>,
        clear_buckets: bool,
    ) -> StoreResult<bool>;
}
