//! A read-through cache with a TTL in front of the secret store: containers read each
//! secret once per TTL instead of once per message.
use crate::cache::TtlMap;
use crate::ports::{SecretStore, StoreResult};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

pub struct CachedSecrets {
    inner: Arc<dyn SecretStore>,
    /// Absent secrets are cached too (a channel without credentials is read once per TTL).
    entries: TtlMap<String, Option<String>>,
}

impl CachedSecrets {
    pub fn new(inner: Arc<dyn SecretStore>, ttl: Duration) -> Self {
        Self { inner, entries: TtlMap::new(ttl) }
    }
}

#[async_trait]
impl SecretStore for CachedSecrets {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        if let Some(v) = self.entries.get(&name.to_string()) {
            return Ok(v);
        }
        let v = self.inner.get(name).await?;
        self.entries.put(name.to_string(), v.clone());
        Ok(v)
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        self.inner.put(name, value).await?;
        self.entries.put(name.to_string(), Some(value.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);
    #[async_trait]
    impl SecretStore for Counting {
        async fn get(&self, _: &str) -> StoreResult<Option<String>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Some("v".into()))
        }
        async fn put(&self, _: &str, _: &str) -> StoreResult<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn reads_once_per_ttl() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let c = CachedSecrets::new(inner.clone(), Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(c.get("a").await.unwrap().as_deref(), Some("v"));
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        let c = CachedSecrets::new(inner.clone(), Duration::ZERO);
        c.get("a").await.unwrap();
        c.get("a").await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 3);
    }
}
