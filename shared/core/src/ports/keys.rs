use super::StoreResult;
use crate::ids::{KeyId, TenantId};
use crate::tenant::ApiKeyRecord;
use async_trait::async_trait;

/// API keys, stored only as hashes.
#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn insert_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>>;
    async fn keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn delete_key(&self, tenant: &TenantId, key_id: &KeyId) -> StoreResult<bool>;
    /// Notes that the key was used at `at` (the tenant's key list shows it).
    async fn touch_key(&self, key: &ApiKeyRecord, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()>;
}
