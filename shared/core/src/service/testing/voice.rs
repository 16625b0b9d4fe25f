//! In-memory voice ports for the services' unit tests.
use super::memory::Memory;
use crate::errors::ProviderFailure;
use crate::ports::*;
use crate::tenant::ChannelSecrets;
use crate::voice::{Call, VoiceSettings};
use crate::TenantId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl VoiceStore for Memory {
    async fn voice_settings(&self, tenant: &TenantId) -> StoreResult<Option<VoiceSettings>> {
        Ok(self.with(|s| s.voice_settings.get(tenant).cloned()))
    }
    async fn put_voice_settings(&self, tenant: &TenantId, settings: &VoiceSettings) -> StoreResult<()> {
        self.with(|s| s.voice_settings.insert(tenant.clone(), settings.clone()));
        Ok(())
    }
    async fn call(&self, call_sid: &str) -> StoreResult<Option<Call>> {
        Ok(self.with(|s| s.calls.get(call_sid).cloned()))
    }
    async fn insert_call(&self, call: &Call) -> StoreResult<bool> {
        Ok(self.with(|s| {
            if s.calls.contains_key(&call.call_sid) {
                return false;
            }
            s.calls.insert(call.call_sid.clone(), call.clone());
            true
        }))
    }
    async fn replace_call(&self, call: &Call) -> StoreResult<bool> {
        Ok(self.with(|s| match s.calls.get(&call.call_sid) {
            Some(c) if c.version + 1 == call.version => {
                s.calls.insert(call.call_sid.clone(), call.clone());
                true
            }
            _ => false,
        }))
    }
    async fn calls(
        &self,
        tenant: &TenantId,
        _since: Option<DateTime<Utc>>,
        limit: u32,
        _cursor: Option<&str>,
    ) -> StoreResult<Page<Call>> {
        let mut items: Vec<Call> =
            self.with(|s| s.calls.values().filter(|c| c.tenant_id == *tenant).cloned().collect());
        items.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        items.truncate(limit as usize);
        Ok(Page { items, next_cursor: None })
    }
    async fn claim_text_back(
        &self,
        tenant: &TenantId,
        caller: &str,
        call_sid: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let key = (tenant.clone(), caller.to_string());
            let free = match s.cooldowns.get(&key) {
                Some((owner, end)) => owner == call_sid || *end <= now,
                None => true,
            };
            if free {
                s.cooldowns.insert(key, (call_sid.to_string(), until));
            }
            free
        }))
    }
}

#[async_trait]
impl RecordingStore for Memory {
    async fn put_recording(&self, key: &str, _bytes: Vec<u8>, _content_type: &str) -> StoreResult<()> {
        self.with(|s| s.recordings.push(key.to_string()));
        Ok(())
    }
    async fn recording_url(&self, key: &str, ttl: std::time::Duration) -> StoreResult<String> {
        Ok(format!("https://recordings.test/{key}?expires={}", ttl.as_secs()))
    }
}

#[async_trait]
impl VoiceCarrier for Memory {
    async fn point_number(&self, _: &ChannelSecrets, number: &str, _base: &str) -> Result<(), ProviderFailure> {
        self.with(|s| s.recordings.push(format!("pointed:{number}")));
        Ok(())
    }
    async fn fetch_recording(&self, _: &ChannelSecrets, _url: &str) -> Result<(Vec<u8>, String), ProviderFailure> {
        Ok((b"RIFF".to_vec(), "audio/wav".into()))
    }
    async fn delete_recording(&self, _: &ChannelSecrets, sid: &str) -> Result<(), ProviderFailure> {
        self.with(|s| s.recordings.push(format!("deleted:{sid}")));
        Ok(())
    }
}
