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
    /// Adds `attempts` attempts and `failures` failures to the minute bucket; returns the
    /// record as it is after the update.
    async fn count_outcome(
        &self,
        account: &ProviderAccount,
        minute: &str,
        attempts: u64,
        failures: u64,
        expires_at: i64,
    ) -> StoreResult<Option<BreakerRecord>>;
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
