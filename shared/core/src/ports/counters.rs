use super::StoreResult;
use crate::ids::TenantId;
use async_trait::async_trait;

/// Windowed counters that refuse past a limit (rate limit, number warmup).
#[async_trait]
pub trait Counters: Send + Sync {
    /// Counts one request in the window; false (and nothing counted) when `limit` is reached.
    async fn take_rate(&self, tenant: &TenantId, window: &str, limit: u32, expires_at: i64) -> StoreResult<bool>;
    /// Counts one send from `number` on `day`; false when the cap is reached.
    async fn take_warmup(&self, number: &str, day: &str, cap: u32, expires_at: i64) -> StoreResult<bool>;
}
