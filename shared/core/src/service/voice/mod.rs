//! Voice for the missed-call business (CONTRACT §14): settings per tenant, the calls API,
//! and (`calls.rs`) what each call event does: forward, text back the caller who was
//! missed (through `Accepting`, so every guard applies), voicemail into S3, transcription.
mod calls;

use super::accepting::Accepting;
use super::support::{channel_secrets, Audit};
use super::{Caller, HeraldError};
use crate::address::E164;
use crate::channel::Channel;
use crate::ports::{ChannelStore, Clock, FeatureStore, Page, RecordingStore, SecretStore, VoiceCarrier, VoiceStore};
use crate::tenant::ChannelSecrets;
use crate::voice::{Call, VoiceSettings};
use crate::TenantId;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;

/// The voice feature flags (`/v1/admin/features`), on unless turned off.
pub const VOICE_FEATURES: [&str; 4] = ["incoming_calls", "call_recording", "voicemail_transcription", "sms_automation"];

/// Feature flags as one call event sees them: on unless an operator turned one off.
struct Flags(std::collections::BTreeMap<String, bool>);

impl Flags {
    fn on(&self, name: &str) -> bool {
        self.0.get(name).copied().unwrap_or(true)
    }
}

const MAX_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

pub struct Voice {
    pub(crate) store: Arc<dyn VoiceStore>,
    pub(crate) recordings: Arc<dyn RecordingStore>,
    pub(crate) carrier: Arc<dyn VoiceCarrier>,
    pub(crate) features: Arc<dyn FeatureStore>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) accepting: Arc<Accepting>,
    pub(crate) tenants: Arc<dyn crate::ports::TenantStore>,
    pub(crate) counters: Arc<dyn crate::ports::Counters>,
    pub(crate) outbox: Arc<super::support::Outbox>,
    pub(crate) targets: Arc<dyn crate::ports::CallbackTargets>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
}

fn invalid(field: &str, message: &str) -> HeraldError {
    HeraldError::validation(field, "INVALID", message.to_string())
}

/// Checks and normalizes settings (the forward number to E.164 in the tenant's country).
fn validated(mut s: VoiceSettings, country: Option<&str>) -> Result<VoiceSettings, HeraldError> {
    let to = E164::parse(&s.forward_to, country).map_err(|_| {
        HeraldError::validation("forward_to", "INVALID_PHONE_NUMBER_FORMAT", "not a valid phone number")
    })?;
    s.forward_to = to.to_string();
    if !(5..=60).contains(&s.ring_seconds) {
        return Err(invalid("ring_seconds", "5 to 60 seconds"));
    }
    if s.greeting.chars().count() > 500 || s.greeting.trim().is_empty() {
        return Err(invalid("greeting", "1 to 500 characters"));
    }
    if s.missed_call_text.chars().count() > 1600 || s.missed_call_text.trim().is_empty() {
        return Err(invalid("missed_call_text", "1 to 1600 characters"));
    }
    match crate::retry::parse_duration(&s.text_back_cooldown) {
        Some(d) if d <= MAX_COOLDOWN => {}
        _ => return Err(invalid("text_back_cooldown", "a duration up to 30d, e.g. 24h")),
    }
    if s.callback_url.as_deref().is_some_and(|u| u.len() > 2048) {
        return Err(invalid("callback_url", "at most 2048 characters"));
    }
    if let Some(countries) = &mut s.text_back_countries {
        let valid = |c: &String| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic());
        if countries.len() > 50 || !countries.iter().all(valid) {
            return Err(invalid("text_back_countries", "up to 50 two-letter country codes, e.g. [\"US\", \"CA\"]"));
        }
        countries.iter_mut().for_each(|c| *c = c.to_ascii_uppercase());
    }
    if !(1..=1000).contains(&s.text_back_max_per_hour) {
        return Err(invalid("text_back_max_per_hour", "1 to 1000"));
    }
    Ok(s)
}

impl Voice {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The feature flags, read once per call event.
    async fn flags(&self) -> Result<Flags, HeraldError> {
        Ok(Flags(self.features.features().await?))
    }

    async fn twilio_secrets(&self, tenant: &TenantId) -> Result<ChannelSecrets, HeraldError> {
        let Some(cfg) = self.channels.effective_channel(tenant, Channel::Sms).await? else {
            return Err(HeraldError::ChannelNotConfigured(Channel::Sms));
        };
        channel_secrets(self.secrets.as_ref(), &cfg).await
    }

    /// `GET /v1/voice`.
    pub async fn settings(&self, caller: &Caller) -> Result<VoiceSettings, HeraldError> {
        let tenant = caller.tenant()?;
        self.store.voice_settings(&tenant.id).await?.ok_or(HeraldError::NotFound)
    }

    /// `PUT /v1/voice` (live keys: it changes what real callers hear).
    pub async fn put_settings(&self, caller: &Caller, s: VoiceSettings) -> Result<VoiceSettings, HeraldError> {
        let tenant = caller.live_tenant()?;
        let s = validated(s, tenant.default_country.as_deref())?;
        if let Some(url) = &s.callback_url {
            // The same rules as message callbacks: https, never a private or metadata address.
            self.targets
                .check(url)
                .await
                .map_err(|e| HeraldError::validation("callback_url", "FORBIDDEN_TARGET", e.0))?;
        }
        self.store.put_voice_settings(&tenant.id, &s).await?;
        let masked = crate::address::mask_phone(&s.forward_to);
        let detail = json!({"forward_to": masked, "ring_seconds": s.ring_seconds, "record_voicemail": s.record_voicemail, "transcribe": s.transcribe, "text_back": s.text_back});
        self.audit.record(caller, Some(&tenant.id), "voice.settings", detail).await;
        Ok(s)
    }

    /// Points a Twilio number's voice, SMS and status webhooks at Herald (number registration).
    pub async fn point_number(&self, tenant: &TenantId, number: &str, base: &str) -> Result<(), HeraldError> {
        let secrets = self.twilio_secrets(tenant).await?;
        self.carrier.point_number(&secrets, number, base).await.map_err(|f| {
            HeraldError::validation("phone_number", "WEBHOOK_UPDATE_FAILED", format!("Twilio refused: {}", f.message))
        })
    }

    /// `GET /v1/calls`.
    pub async fn calls(
        &self,
        caller: &Caller,
        since: Option<DateTime<Utc>>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Call>, HeraldError> {
        let tenant = caller.tenant()?;
        // Calls are real (live) data: a test key sees none (CONTRACT §12).
        if caller.mode() == crate::KeyMode::Test {
            return Ok(Page { items: vec![], next_cursor: None });
        }
        Ok(self.store.calls(&tenant.id, since, limit.clamp(1, 100), cursor).await?)
    }

    /// `GET /v1/calls/{call_sid}`: another tenant's call (or any, to a test key) answers as
    /// a missing one.
    pub async fn call(&self, caller: &Caller, call_sid: &str) -> Result<Call, HeraldError> {
        let tenant = caller.tenant()?;
        match self.store.call(call_sid).await? {
            Some(c) if c.tenant_id == tenant.id && caller.mode() == crate::KeyMode::Live => Ok(c),
            _ => Err(HeraldError::NotFound),
        }
    }

    /// `GET /v1/calls/{sid}/recording`: a URL that plays the voicemail for five minutes
    /// (the tenant's own live calls only).
    pub async fn recording_url(&self, caller: &Caller, call_sid: &str) -> Result<String, HeraldError> {
        let call = self.call(caller, call_sid).await?;
        let key = call.recording.map(|r| r.s3_key).ok_or(HeraldError::NotFound)?;
        Ok(self.recordings.recording_url(&key, RECORDING_URL_TTL).await?)
    }
}

/// How long a recording's URL plays (CONTRACT §14: at most five minutes).
pub const RECORDING_URL_TTL: std::time::Duration = std::time::Duration::from_secs(300);

#[cfg(test)]
mod tests;

impl Voice {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        accepting: Arc<Accepting>,
    ) -> Self {
        Voice {
            store: a.db.clone(),
            recordings: a.recordings.clone(),
            carrier: a.voice_carrier.clone(),
            features: a.db.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            accepting,
            tenants: a.config.clone(),
            counters: a.db.clone(),
            outbox: sh.outbox.clone(),
            targets: a.callbacks.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
        }
    }
}
