//! Tenant status callbacks: a standard queue, delivered signed, retried with back-off
//! (2, 4, 8 … s, capped at 15 minutes) until the redrive policy moves them to their DLQ.
use super::HeraldError;
use crate::inbound::CallbackJob;
use crate::ports::TenantStore;
use crate::ports::{CallbackQueue, CallbackSender, Clock, MessageStore, VoiceStore};
use crate::status::Status;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub struct Callbacks {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) queue: Arc<dyn CallbackQueue>,
    pub(crate) sender: Arc<dyn CallbackSender>,
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) voice: Arc<dyn VoiceStore>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The back-off after the n-th failed delivery: 2, 4, 8 … seconds, capped at 15 minutes.
pub fn backoff(receive_count: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(receive_count.clamp(1, 20)).min(900))
}

impl Callbacks {
    /// One received callback record: delivered → true (delete it); otherwise it is kept
    /// invisible for the back-off through the queue, and false is returned.
    pub async fn handle(&self, job: &CallbackJob, receipt_handle: &str, receive_count: u32) -> bool {
        if matches!(self.deliver(job).await, Ok(true)) {
            return true;
        }
        if let Err(e) = self.queue.delay_callback(receipt_handle, backoff(receive_count)).await {
            tracing::warn!(message_id = ?job.message_id, error = %e, "could not delay the callback retry");
        }
        false
    }

    /// POSTs one callback, signed. Ok(true) delivered (2xx, or nothing left to send),
    /// Ok(false) retry later.
    pub async fn deliver(&self, job: &CallbackJob) -> Result<bool, HeraldError> {
        if let Some(notice) = &job.call {
            return self.deliver_call(job, notice).await;
        }
        let Some(id) = &job.message_id else { return Ok(true) };
        let Some(m) = self.messages.message(id).await? else { return Ok(true) };
        let (Some(url), Some(tenant)) = (m.callback_url.clone(), self.tenants.tenant(&job.tenant_id).await?) else {
            return Ok(true);
        };
        // A test message's callback is signed with the test secret and says so.
        let secret = tenant.callback_secret_for(m.key_mode).unwrap_or_default();
        let body = serde_json::to_vec(&json!({
            "type": "message.status",
            "mode": m.key_mode,
            "id": m.id,
            "status": job.status,
            "at": job.at,
            "error_code": if job.status == Status::Failed { m.error_code } else { None },
            "provider": m.provider,
            "provider_message_id": m.provider_message_id,
            "correlation_id": m.correlation_id,
            "metadata": m.metadata,
        }))
        .unwrap_or_default();
        self.post(&url, &body, &secret).await
    }

    /// `call.missed`, `call.voicemail`, `call.transcribed` to the voice settings' callback URL.
    async fn deliver_call(&self, job: &CallbackJob, notice: &crate::inbound::CallNotice) -> Result<bool, HeraldError> {
        let Some(call) = self.voice.call(&notice.call_sid).await?.filter(|c| c.tenant_id == job.tenant_id) else {
            return Ok(true);
        };
        let url = self.voice.voice_settings(&job.tenant_id).await?.and_then(|s| s.callback_url);
        let (Some(url), Some(tenant)) = (url, self.tenants.tenant(&job.tenant_id).await?) else {
            return Ok(true);
        };
        let secret = tenant.callback_secret_for(crate::ids::KeyMode::Live).unwrap_or_default();
        let body = serde_json::to_vec(&json!({
            "type": notice.event,
            "mode": "live",
            "call_sid": call.call_sid,
            "from": call.from,
            "to": call.to,
            "outcome": call.outcome,
            "text_back_message_id": call.text_back_message_id,
            "recording": call.recording,
            "transcription": call.transcription,
            "at": job.at,
        }))
        .unwrap_or_default();
        self.post(&url, &body, &secret).await
    }

    async fn post(&self, url: &str, body: &[u8], secret: &str) -> Result<bool, HeraldError> {
        match self.sender.post(url, body, secret, self.clock.now().timestamp()).await {
            Ok(status) if (200..300).contains(&status) => Ok(true),
            Ok(status) => {
                tracing::warn!(status, "callback endpoint refused; will retry");
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(error = %e, "callback endpoint unreachable; will retry");
                Ok(false)
            }
        }
    }
}

impl Callbacks {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(sh: &crate::service::wiring::Shared, a: &crate::service::Adapters) -> Self {
        Self {
            messages: a.db.clone(),
            queue: a.queues.clone(),
            sender: a.callbacks.clone(),
            tenants: a.config.clone(),
            voice: a.db.clone(),
            clock: sh.clock.clone(),
        }
    }
}
