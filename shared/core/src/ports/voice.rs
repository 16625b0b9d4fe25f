use super::{Page, StoreResult};
use crate::errors::ProviderFailure;
use crate::tenant::ChannelSecrets;
use crate::voice::{Call, VoiceSettings};
use crate::TenantId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Voice settings, call records and the text-back cool-down per caller.
#[async_trait]
pub trait VoiceStore: Send + Sync {
    async fn voice_settings(&self, tenant: &TenantId) -> StoreResult<Option<VoiceSettings>>;
    async fn put_voice_settings(&self, tenant: &TenantId, settings: &VoiceSettings) -> StoreResult<()>;
    async fn call(&self, call_sid: &str) -> StoreResult<Option<Call>>;
    /// Writes a new call; false when one with this sid exists.
    async fn insert_call(&self, call: &Call) -> StoreResult<bool>;
    /// Writes `call` if the stored version is still `call.version - 1`.
    async fn replace_call(&self, call: &Call) -> StoreResult<bool>;
    /// A tenant's calls, newest first.
    async fn calls(
        &self,
        tenant: &TenantId,
        since: Option<DateTime<Utc>>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Call>>;
    /// Takes the caller's text-back cool-down for this call until `until`: true when it was
    /// free, expired, or already this call's (a repeated webhook).
    async fn claim_text_back(
        &self,
        tenant: &TenantId,
        caller: &str,
        call_sid: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// Where voicemail recordings are kept (S3: encrypted, private, expired after 30 days).
#[async_trait]
pub trait RecordingStore: Send + Sync {
    async fn put_recording(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> StoreResult<()>;
    /// A URL that reads the recording for `ttl` (an S3 presigned GET).
    async fn recording_url(&self, key: &str, ttl: std::time::Duration) -> StoreResult<String>;
}

/// The voice side of a carrier (Twilio).
#[async_trait]
pub trait VoiceCarrier: Send + Sync {
    /// Points the number's voice, SMS and status webhooks at `base` (`HERALD_PUBLIC_URL`).
    async fn point_number(&self, secrets: &ChannelSecrets, number: &str, base: &str) -> Result<(), ProviderFailure>;
    /// The recording's bytes and content type.
    async fn fetch_recording(
        &self,
        secrets: &ChannelSecrets,
        media_url: &str,
    ) -> Result<(Vec<u8>, String), ProviderFailure>;
    async fn delete_recording(&self, secrets: &ChannelSecrets, recording_sid: &str) -> Result<(), ProviderFailure>;
}
