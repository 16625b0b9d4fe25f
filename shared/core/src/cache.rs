//! Per-container read-through caches of the configuration every message reads: API keys,
//! tenants, channels and numbers. A container sees its own writes at once (they go through
//! here); another container's change is seen within the TTL (`HERALD_PAUSE_RECHECK`), which
//! bounds how long a revoked key, a pause or a channel change takes to reach every function.
//! Absent records are not cached: a key or number created elsewhere works at once.
use crate::channel::Channel;
use crate::ids::{KeyId, TenantId};
use crate::ports::{ChannelStore, KeyStore, NumberStore, StoreResult, TenantStore};
use crate::tenant::{ApiKeyRecord, ChannelConfig, SendingNumber, Tenant};
use async_trait::async_trait;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries kept per map before it is emptied (a container serves few tenants).
const MAX_ENTRIES: usize = 10_000;

/// A map whose entries expire `ttl` after they were stored.
pub struct TtlMap<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, k: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap();
        entries.get(k).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    pub fn put(&self, k: K, v: V) {
        let mut entries = self.entries.lock().unwrap();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(k, (v, Instant::now()));
    }

    pub fn forget(&self, k: &K) {
        self.entries.lock().unwrap().remove(k);
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap().clear();
    }
}

/// The configuration ports with a TTL cache in front of their reads.
pub struct CachedConfig {
    tenants: Arc<dyn TenantStore>,
    keys: Arc<dyn KeyStore>,
    channels: Arc<dyn ChannelStore>,
    numbers: Arc<dyn NumberStore>,
    tenant: TtlMap<TenantId, Tenant>,
    key: TtlMap<String, ApiKeyRecord>,
    channel: TtlMap<(TenantId, Channel), ChannelConfig>,
    channel_list: TtlMap<TenantId, Vec<ChannelConfig>>,
    number: TtlMap<String, SendingNumber>,
    number_list: TtlMap<TenantId, Vec<SendingNumber>>,
}

impl CachedConfig {
    /// In front of the configuration of one store (the table).
    pub fn new(store: Arc<dyn crate::ports::ConfigStore>, ttl: Duration) -> Self {
        Self {
            tenants: store.clone(),
            keys: store.clone(),
            channels: store.clone(),
            numbers: store,
            tenant: TtlMap::new(ttl),
            key: TtlMap::new(ttl),
            channel: TtlMap::new(ttl),
            channel_list: TtlMap::new(ttl),
            number: TtlMap::new(ttl),
            number_list: TtlMap::new(ttl),
        }
    }
}

/// Reads through `cache` under `k`; only found records are kept.
async fn through<K: Eq + Hash, V: Clone, F>(cache: &TtlMap<K, V>, k: K, read: F) -> StoreResult<Option<V>>
where
    F: std::future::Future<Output = StoreResult<Option<V>>>,
{
    if let Some(v) = cache.get(&k) {
        return Ok(Some(v));
    }
    let v = read.await?;
    if let Some(v) = &v {
        cache.put(k, v.clone());
    }
    Ok(v)
}

#[async_trait]
impl TenantStore for CachedConfig {
    async fn insert_tenant(&self, tenant: &Tenant, keys: &[ApiKeyRecord]) -> StoreResult<()> {
        self.tenants.insert_tenant(tenant, keys).await
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        through(&self.tenant, id.clone(), self.tenants.tenant(id)).await
    }

    async fn all_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.tenants.all_tenants().await
    }

    async fn fresh_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let fresh = self.tenants.fresh_tenant(id).await?;
        self.tenant.forget(id);
        Ok(fresh)
    }

    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.tenant.forget(&tenant.id);
        self.tenants.save_tenant(tenant).await?;
        self.tenant.forget(&tenant.id);
        Ok(())
    }
}

#[async_trait]
impl KeyStore for CachedConfig {
    async fn insert_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        self.keys.insert_key(key).await
    }

    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        through(&self.key, hash.to_string(), self.keys.key_by_hash(hash)).await
    }

    async fn keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKeyRecord>> {
        self.keys.keys(tenant).await
    }

    async fn delete_key(&self, tenant: &TenantId, key_id: &KeyId) -> StoreResult<bool> {
        let deleted = self.keys.delete_key(tenant, key_id).await?;
        // The hash of the deleted key is not known here: revoke every cached key at once.
        self.key.clear();
        Ok(deleted)
    }

    async fn touch_key(&self, key: &ApiKeyRecord, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
        self.keys.touch_key(key, at).await
    }
}

#[async_trait]
impl ChannelStore for CachedConfig {
    async fn save_channel(&self, cfg: &ChannelConfig) -> StoreResult<()> {
        self.channels.save_channel(cfg).await?;
        self.channel.forget(&(cfg.tenant_id.clone(), cfg.channel));
        self.channel_list.forget(&cfg.tenant_id);
        Ok(())
    }

    async fn channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>> {
        through(&self.channel, (tenant.clone(), channel), self.channels.channel(tenant, channel)).await
    }

    async fn channels(&self, tenant: &TenantId) -> StoreResult<Vec<ChannelConfig>> {
        let list =
            through(&self.channel_list, tenant.clone(), async { self.channels.channels(tenant).await.map(Some) });
        Ok(list.await?.unwrap_or_default())
    }
}

#[async_trait]
impl NumberStore for CachedConfig {
    async fn save_number(&self, number: &SendingNumber) -> StoreResult<()> {
        self.numbers.save_number(number).await?;
        self.number.forget(&number.phone_number);
        self.number_list.forget(&number.tenant_id);
        Ok(())
    }

    async fn numbers(&self, tenant: &TenantId) -> StoreResult<Vec<SendingNumber>> {
        let list = through(&self.number_list, tenant.clone(), async { self.numbers.numbers(tenant).await.map(Some) });
        Ok(list.await?.unwrap_or_default())
    }

    async fn number(&self, e164: &str) -> StoreResult<Option<SendingNumber>> {
        through(&self.number, e164.to_string(), self.numbers.number(e164)).await
    }

    async fn delete_number(&self, tenant: &TenantId, e164: &str) -> StoreResult<bool> {
        let deleted = self.numbers.delete_number(tenant, e164).await?;
        self.number.forget(&e164.to_string());
        self.number_list.forget(tenant);
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let m = TtlMap::new(Duration::from_millis(30));
        m.put("a", 1);
        assert_eq!(m.get(&"a"), Some(1));
        m.forget(&"a");
        assert_eq!(m.get(&"a"), None);
        m.put("b", 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(m.get(&"b"), None, "expired");
    }
}
