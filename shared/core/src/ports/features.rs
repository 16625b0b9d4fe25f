use super::StoreResult;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Operator feature flags (channel kill switches).
#[async_trait]
pub trait FeatureStore: Send + Sync {
    async fn features(&self) -> StoreResult<BTreeMap<String, bool>>;
    async fn set_feature(&self, name: &str, enabled: bool) -> StoreResult<()>;
}

/// Hold keys with more waiting messages than one call released: the dispatch job goes on.
#[async_trait]
pub trait PendingReleases: Send + Sync {
    async fn pending_releases(&self) -> StoreResult<Vec<String>>;
    async fn set_pending_release(&self, hold_key: &str, pending: bool) -> StoreResult<()>;
}
