//! The send policy's data: do-not-contact entries, budgets, rate and warmup counters, the
//! WhatsApp window and quota, feature flags. All keyed lookups or single conditional
//! updates — no guard ever scans.
use crate::ids::TenantId;
use crate::ports::{Page, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DncEntry {
    pub tenant_id: TenantId,
    /// Normalised: E.164 or a lower-cased email.
    pub address: String,
    pub reason: String,
    /// Who put it there: `api`, `inbound:twilio`, `bounce:ses`, …
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// Where a reservation was counted, so it can be released or settled later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPeriod {
    pub month: String,
    pub day: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub daily_spent_cents: i64,
    pub monthly_spent_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaState {
    pub tenant_id: TenantId,
    pub sent: u32,
    pub limit: u32,
    pub reset_at: DateTime<Utc>,
    #[serde(default)]
    pub throttle_until: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait GuardStore: Send + Sync {
    async fn dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>>;
    async fn put_dnc(&self, entry: &DncEntry) -> StoreResult<()>;
    async fn delete_dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<bool>;
    async fn list_dnc(&self, tenant: &TenantId, limit: u32, cursor: Option<&str>) -> StoreResult<Page<DncEntry>>;

    /// Counts one request in the window; false (and nothing counted) when `limit` is reached.
    async fn take_rate(&self, tenant: &TenantId, window: &str, limit: u32, expires_at: i64) -> StoreResult<bool>;
    /// Adds `cost` to the day and month of `period` in one conditional update; false when
    /// either limit would be passed.
    async fn reserve_budget(
        &self,
        tenant: &TenantId,
        period: &BudgetPeriod,
        cost: u64,
        daily: Option<u64>,
        monthly: Option<u64>,
    ) -> StoreResult<bool>;
    /// Releases (negative) or settles a reservation.
    async fn adjust_budget(&self, tenant: &TenantId, period: &BudgetPeriod, delta: i64) -> StoreResult<()>;
    async fn spend(&self, tenant: &TenantId, period: &BudgetPeriod) -> StoreResult<Spend>;
    /// Counts one send from `number` on `day`; false when the cap is reached.
    async fn take_warmup(&self, number: &str, day: &str, cap: u32, expires_at: i64) -> StoreResult<bool>;

    async fn whatsapp_window(&self, tenant: &TenantId, phone: &str) -> StoreResult<Option<DateTime<Utc>>>;
    async fn open_whatsapp_window(&self, tenant: &TenantId, phone: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn quota(&self, tenant: &TenantId) -> StoreResult<Option<QuotaState>>;
    /// Starts a new quota period (sent = 0); `previous_reset` guards against a double roll.
    async fn roll_quota(&self, state: &QuotaState, previous_reset: Option<DateTime<Utc>>) -> StoreResult<bool>;
    /// Counts one send if `sent < below`; false otherwise.
    async fn take_quota(&self, tenant: &TenantId, below: u32) -> StoreResult<Option<u32>>;
    async fn quota_tenants(&self) -> StoreResult<Vec<TenantId>>;

    async fn features(&self) -> StoreResult<std::collections::BTreeMap<String, bool>>;
    async fn set_feature(&self, name: &str, enabled: bool) -> StoreResult<()>;

    /// Hold keys with messages waiting to be released by the dispatch job.
    async fn pending_releases(&self) -> StoreResult<Vec<String>>;
    async fn set_pending_release(&self, hold_key: &str, pending: bool) -> StoreResult<()>;
}

/// A provider's circuit breaker as stored: state plus per-minute outcome counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerRecord {
    pub state: BreakerState,
    pub since: DateTime<Utc>,
    pub version: u64,
    /// minute (`YYYYMMDDHHMM`) → (attempts, provider failures).
    #[serde(default)]
    pub buckets: std::collections::BTreeMap<String, (u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[async_trait]
pub trait BreakerStore: Send + Sync {
    async fn breaker(&self, provider: crate::Provider) -> StoreResult<Option<BreakerRecord>>;
    /// Counts one attempt (and a failure) in the minute bucket.
    async fn count_outcome(
        &self,
        provider: crate::Provider,
        minute: &str,
        failed: bool,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Moves to `state` if the stored version is still `expected` (None: no record yet).
    async fn transition(
        &self,
        provider: crate::Provider,
        expected: Option<u64>,
        state: BreakerState,
        since: DateTime<Utc>,
        clear_buckets: bool,
    ) -> StoreResult<bool>;
}
