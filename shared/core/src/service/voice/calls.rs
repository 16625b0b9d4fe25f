//! One call event at a time, each applied once per call (the call record is versioned; a
//! repeated webhook gets the same answer and changes nothing).
use super::{Flags, Voice};
use crate::ids::{KeyId, KeyMode};
use crate::service::{Caller, HeraldError, SendRequest};
use crate::tenant::{ApiKeyRecord, Tenant};
use crate::voice::{is_missed, Call, CallAnswer, CallEvent, CallOutcome, Recording, Transcription, VoiceSettings};
use crate::{Channel, CorrelationId, TenantId};

/// The longest voicemail.
const VOICEMAIL_SECONDS: u32 = 120;

impl Voice {
    /// What to answer the carrier for `event` on a call to one of `tenant`'s numbers.
    #[tracing::instrument(name = "call_event", skip_all, fields(tenant_id = %tenant))]
    pub async fn handle(&self, tenant: &TenantId, event: CallEvent) -> Result<CallAnswer, HeraldError> {
        let settings = self.store.voice_settings(tenant).await?;
        match event {
            CallEvent::Incoming { call_sid, from, to } => self.incoming(tenant, settings, call_sid, from, to).await,
            CallEvent::DialStatus { call_sid, from, to, dial_status } => {
                let call = self.call_or_new(tenant, &call_sid, &from, &to).await?;
                self.dial_status(tenant, settings, call, dial_status).await
            }
            CallEvent::Recording { call_sid, recording_sid, media_url, duration_s, status } => {
                let rec = (recording_sid.as_str(), media_url.as_str(), duration_s);
                self.recording(tenant, settings.as_ref(), &call_sid, rec, &status).await?;
                Ok(CallAnswer::Empty)
            }
            CallEvent::Status { call_sid, status } => {
                if status == "failed" {
                    crate::metrics::emit("calls_failed", 1.0, &[]);
                }
                match self.update(tenant, &call_sid, |c| c.status = status.clone()).await {
                    Ok(()) | Err(HeraldError::NotFound) => Ok(CallAnswer::Empty),
                    Err(e) => Err(e),
                }
            }
            CallEvent::Transcription { call_sid, status, text } => {
                let t = Transcription { status, text };
                self.update(tenant, &call_sid, |c| c.transcription = Some(t.clone())).await?;
                crate::metrics::emit("transcriptions", 1.0, &[]);
                if let Some(s) = &settings {
                    self.notify(tenant, s, &call_sid, "call.transcribed").await;
                }
                Ok(CallAnswer::Empty)
            }
        }
    }

    fn new_call(&self, tenant: &TenantId, sid: &str, from: &str, to: &str) -> Call {
        let now = self.now();
        Call {
            call_sid: sid.to_string(),
            tenant_id: tenant.clone(),
            from: from.to_string(),
            to: to.to_string(),
            status: "ringing".into(),
            outcome: None,
            text_back_message_id: None,
            text_back_skipped: None,
            recording: None,
            transcription: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    async fn call_or_new(&self, tenant: &TenantId, sid: &str, from: &str, to: &str) -> Result<Call, HeraldError> {
        if let Some(c) = self.store.call(sid).await? {
            return if c.tenant_id == *tenant { Ok(c) } else { Err(HeraldError::NotFound) };
        }
        let call = self.new_call(tenant, sid, from, to);
        self.store.insert_call(&call).await?;
        self.store.call(sid).await?.ok_or(HeraldError::NotFound)
    }

    async fn incoming(
        &self,
        tenant: &TenantId,
        settings: Option<VoiceSettings>,
        sid: String,
        from: String,
        to: String,
    ) -> Result<CallAnswer, HeraldError> {
        let mut call = self.new_call(tenant, &sid, &from, &to);
        let forward = match (&settings, self.flags().await?.on("incoming_calls")) {
            (Some(s), true) => crate::address::E164::parse(&s.forward_to, None).ok().map(|to| (to, s.ring_seconds)),
            _ => None,
        };
        if forward.is_none() {
            call.outcome = Some(CallOutcome::Rejected);
            call.status = "rejected".into();
        }
        // A repeated webhook finds the call written already and answers the same.
        self.store.insert_call(&call).await?;
        crate::metrics::emit("calls_incoming", 1.0, &[]);
        tracing::info!(call_sid = %sid, tenant_id = %tenant, forwarded = forward.is_some(), "incoming call");
        Ok(match forward {
            Some((to, timeout)) => CallAnswer::Forward { to, timeout },
            None => CallAnswer::Reject,
        })
    }

    fn voicemail_answer(&self, s: &VoiceSettings, recording_on: bool, transcribe_on: bool) -> CallAnswer {
        if !(s.record_voicemail && recording_on) {
            return CallAnswer::Hangup;
        }
        let greeting = s.greeting.clone();
        CallAnswer::Voicemail { greeting, transcribe: s.transcribe && transcribe_on, max_seconds: VOICEMAIL_SECONDS }
    }

    async fn dial_status(
        &self,
        tenant: &TenantId,
        settings: Option<VoiceSettings>,
        mut call: Call,
        dial_status: String,
    ) -> Result<CallAnswer, HeraldError> {
        let Some(s) = settings else { return Ok(CallAnswer::Hangup) };
        let missed = is_missed(&dial_status);
        let flags = self.flags().await?;
        if call.outcome.is_none() {
            call.status = dial_status.clone();
            call.outcome = Some(if missed { CallOutcome::Missed } else { CallOutcome::Answered });
            if missed {
                self.text_back(tenant, &s, &flags, &mut call).await?;
            }
            call.updated_at = self.now();
            call.version += 1;
            if !self.store.replace_call(&call).await? {
                // Another delivery of this webhook got there first: answer as it did.
                return Ok(CallAnswer::Hangup);
            }
            let metric = if missed { "calls_missed" } else { "calls_answered" };
            crate::metrics::emit(metric, 1.0, &[]);
            if missed {
                self.notify(tenant, &s, &call.call_sid, "call.missed").await;
            }
            if dial_status == "failed" {
                crate::metrics::emit("calls_failed", 1.0, &[]);
            }
            tracing::info!(call_sid = %call.call_sid, dial_status, "call ended");
        }
        if call.outcome == Some(CallOutcome::Answered) {
            return Ok(CallAnswer::Hangup);
        }
        Ok(self.voicemail_answer(&s, flags.on("call_recording"), flags.on("voicemail_transcription")))
    }

    /// The missed caller gets one text from the called number, through acceptance (kill
    /// switch, DNC, quiet hours, budgets, rate limits): only to callers in the allowed
    /// countries, at most once per cool-down per caller and `text_back_max_per_hour` per tenant.
    async fn text_back(
        &self,
        tenant_id: &TenantId,
        s: &VoiceSettings,
        flags: &Flags,
        call: &mut Call,
    ) -> Result<(), HeraldError> {
        let Some(tenant) = self.tenants.tenant(tenant_id).await? else { return Err(HeraldError::NotFound) };
        let skipped = match self.text_back_allowed(&tenant, s, flags, call).await? {
            Some(code) => Some(code.to_string()),
            None => {
                let req = SendRequest {
                    channel: Channel::Sms,
                    to: call.from.clone(),
                    from: Some(call.to.clone()),
                    body: Some(s.missed_call_text.clone()),
                    ..SendRequest::sms_defaults()
                };
                // Once per call, however often the webhook comes: the key holds a newline,
                // which no HTTP client can send.
                let key = Some(format!("\ncall:{}", call.call_sid));
                match self.accepting.accept(&system_caller(tenant), req, key, CorrelationId::generate()).await {
                    Ok(a) => {
                        call.text_back_message_id = Some(a.id);
                        None
                    }
                    Err(HeraldError::RecipientOptedOut) => Some("DNC".to_string()),
                    Err(e) if e.is_refusal() => Some(e.code().to_string()),
                    Err(e) => return Err(e),
                }
            }
        };
        if let Some(code) = &skipped {
            tracing::info!(call_sid = %call.call_sid, skipped = %code, "no text-back");
        }
        call.text_back_skipped = skipped;
        Ok(())
    }

    /// Why the caller gets no text-back, if not.
    async fn text_back_allowed(
        &self,
        tenant: &crate::tenant::Tenant,
        s: &VoiceSettings,
        flags: &Flags,
        call: &Call,
    ) -> Result<Option<&'static str>, HeraldError> {
        if !s.text_back || !flags.on("sms_automation") {
            return Ok(Some("TEXT_BACK_OFF"));
        }
        let region_of = |n: &str| crate::address::E164::parse(n, None).ok().and_then(|n| n.region());
        let region = region_of(&call.from);
        // The tenant's country, else the called number's own.
        let home = || tenant.default_country.clone().or_else(|| region_of(&call.to)).into_iter().collect::<Vec<_>>();
        let allowed = s.text_back_countries.clone().unwrap_or_else(home);
        if !region.is_some_and(|r| allowed.contains(&r)) {
            return Ok(Some("COUNTRY_NOT_ALLOWED"));
        }
        let now = self.now();
        let cooldown = crate::retry::parse_duration(&s.text_back_cooldown).unwrap_or_default();
        let until = now + crate::service::support::duration(cooldown);
        if !self.store.claim_text_back(&tenant.id, &call.from, &call.call_sid, now, until).await? {
            return Ok(Some("COOLDOWN"));
        }
        let hour = now.format("textback#%Y-%m-%dT%H").to_string();
        let expires = now.timestamp() + 2 * 3600;
        if !self.counters.take_rate(&tenant.id, &hour, s.text_back_max_per_hour, expires).await? {
            return Ok(Some("HOURLY_CAP"));
        }
        Ok(None)
    }

    /// `(recording_sid, media_url, duration_s)` of a recording the carrier reported.
    async fn recording(
        &self,
        tenant: &TenantId,
        settings: Option<&VoiceSettings>,
        sid: &str,
        (recording_sid, media_url, duration_s): (&str, &str, u32),
        status: &str,
    ) -> Result<(), HeraldError> {
        let Some(call) = self.store.call(sid).await?.filter(|c| c.tenant_id == *tenant) else {
            return Err(HeraldError::NotFound);
        };
        if status != "completed" || call.recording.is_some() {
            return Ok(());
        }
        let secrets = self.twilio_secrets(tenant).await?;
        let carrier_error = |f: crate::ProviderFailure| HeraldError::Unavailable(format!("recording: {}", f.message));
        let (bytes, content_type) = self.carrier.fetch_recording(&secrets, media_url).await.map_err(carrier_error)?;
        let ext = if content_type.contains("wav") { "wav" } else { "mp3" };
        let key = format!("recordings/{tenant}/{sid}/{recording_sid}.{ext}");
        self.recordings.put_recording(&key, bytes, &content_type).await?;
        // Kept once, in Herald's bucket: the carrier's copy goes.
        if let Err(f) = self.carrier.delete_recording(&secrets, recording_sid).await {
            tracing::warn!(call_sid = %sid, error = %f.message, "recording stored; deleting it at the carrier failed");
        }
        let transcribing = settings.is_some_and(|s| s.transcribe) && self.flags().await?.on("voicemail_transcription");
        self.update(tenant, sid, |c| {
            c.recording = Some(Recording { s3_key: key.clone(), duration_s });
            c.outcome = Some(CallOutcome::Voicemail);
            if transcribing && c.transcription.is_none() {
                c.transcription = Some(Transcription { status: "pending".into(), text: None });
            }
        })
        .await?;
        crate::metrics::emit("voicemails", 1.0, &[]);
        if let Some(s) = settings {
            self.notify(tenant, s, sid, "call.voicemail").await;
        }
        if transcribing {
            crate::metrics::emit("transcriptions_requested", 1.0, &[]);
        }
        Ok(())
    }

    /// A call event for the tenant's voice callback URL, if it set one.
    async fn notify(&self, tenant: &TenantId, s: &VoiceSettings, sid: &str, event: &str) {
        if s.callback_url.is_some() {
            self.outbox.notify_call(tenant, sid, event, self.now()).await;
        }
    }

    /// Read-modify-write of a call under its version, retried on a conflict.
    async fn update(&self, tenant: &TenantId, sid: &str, f: impl Fn(&mut Call)) -> Result<(), HeraldError> {
        for _ in 0..5 {
            let Some(mut call) = self.store.call(sid).await?.filter(|c| c.tenant_id == *tenant) else {
                return Err(HeraldError::NotFound);
            };
            f(&mut call);
            call.updated_at = self.now();
            call.version += 1;
            if self.store.replace_call(&call).await? {
                return Ok(());
            }
        }
        Err(HeraldError::Conflict(format!("call {sid} is being updated concurrently")))
    }
}

/// Herald acting for the tenant (its text-backs): a live caller with no real key.
fn system_caller(tenant: Tenant) -> Caller {
    let key = ApiKeyRecord {
        key_id: KeyId::parse("key_voice").unwrap_or_else(KeyId::generate),
        tenant_id: tenant.id.clone(),
        hash: String::new(),
        mode: KeyMode::Live,
        created_at: tenant.created_at,
        last_used_at: None,
    };
    Caller::Tenant { tenant, key, user: None }
}
