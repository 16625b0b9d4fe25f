use super::StoreResult;
use async_trait::async_trait;

/// Channel credentials and the admin key (Secrets Manager in AWS).
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &str) -> StoreResult<Option<String>>;
    async fn put(&self, name: &str, value: &str) -> StoreResult<()>;
}
