//! Voice for the missed-call business (CONTRACT §14): a tenant's call settings, the call
//! record and its outcome, the events a carrier reports about a call, and what Herald
//! answers (rendered by the carrier's module: TwiML for Twilio).
use crate::address::E164;
use crate::{MessageId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `PUT /v1/voice`: only `forward_to` is required.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceSettings {
    /// Where incoming calls ring (E.164).
    pub forward_to: String,
    /// Seconds the forward rings before the call counts as missed (5 to 60).
    #[serde(default = "defaults::ring_seconds")]
    pub ring_seconds: u32,
    #[serde(default = "defaults::greeting")]
    pub greeting: String,
    #[serde(default = "defaults::missed_call_text")]
    pub missed_call_text: String,
    #[serde(default = "defaults::on")]
    pub record_voicemail: bool,
    #[serde(default = "defaults::on")]
    pub transcribe: bool,
    #[serde(default = "defaults::on")]
    pub text_back: bool,
    /// At most one text-back per caller this often (`24h`).
    #[serde(default = "defaults::cooldown")]
    pub text_back_cooldown: String,
    /// Receives `call.missed`, `call.voicemail`, `call.transcribed` (signed like message callbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Callers in these countries (ISO codes) get a text-back; unset: the tenant's
    /// `default_country` (SMS pumping: spoofed callers from premium ranges get nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_back_countries: Option<Vec<String>>,
    /// Text-backs per tenant per hour, at most.
    #[serde(default = "defaults::max_per_hour")]
    pub text_back_max_per_hour: u32,
}

mod defaults {
    pub fn ring_seconds() -> u32 {
        20
    }
    pub fn greeting() -> String {
        "Sorry we missed your call. Please leave a message after the tone.".into()
    }
    pub fn missed_call_text() -> String {
        "Sorry we missed your call. We'll get back to you shortly.".into()
    }
    pub fn on() -> bool {
        true
    }
    pub fn cooldown() -> String {
        "24h".into()
    }
    pub fn max_per_hour() -> u32 {
        30
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallOutcome {
    Answered,
    Missed,
    Voicemail,
    Rejected,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub s3_key: String,
    pub duration_s: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcription {
    /// `pending`, `completed` or `failed`.
    pub status: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// One call to a tenant's number, as `GET /v1/calls/{call_sid}` shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub call_sid: String,
    pub tenant_id: TenantId,
    pub from: String,
    pub to: String,
    /// The carrier's last call status (`ringing`, `in-progress`, `completed`, `no-answer`, …).
    pub status: String,
    pub outcome: Option<CallOutcome>,
    pub text_back_message_id: Option<MessageId>,
    /// Why no text-back went out: `TEXT_BACK_OFF`, `COUNTRY_NOT_ALLOWED`, `COOLDOWN`,
    /// `HOURLY_CAP`, `DNC`, or the code of the guard that refused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_back_skipped: Option<String>,
    pub recording: Option<Recording>,
    pub transcription: Option<Transcription>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

/// What a carrier reports about a call (parsed by its module from its webhook).
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    Incoming {
        call_sid: String,
        from: String,
        to: String,
    },
    /// The forward ended: `completed` (answered), `no-answer`, `busy`, `failed`, `canceled`.
    DialStatus {
        call_sid: String,
        from: String,
        to: String,
        dial_status: String,
    },
    /// A voicemail recording is ready at the carrier.
    Recording {
        call_sid: String,
        recording_sid: String,
        media_url: String,
        duration_s: u32,
        status: String,
    },
    Transcription {
        call_sid: String,
        status: String,
        text: Option<String>,
    },
    /// The carrier's call status callback (`completed`, `busy`, `failed`, `no-answer`, `canceled`).
    Status {
        call_sid: String,
        status: String,
    },
}

/// Herald's answer to a call event; the carrier's module renders it (TwiML).
#[derive(Debug, Clone, PartialEq)]
pub enum CallAnswer {
    Reject,
    /// Ring `to` for `timeout` seconds; the carrier reports the outcome to the dial-status path.
    Forward {
        to: E164,
        timeout: u32,
    },
    Hangup,
    /// Say the greeting and record; transcribed when asked.
    Voicemail {
        greeting: String,
        transcribe: bool,
        max_seconds: u32,
    },
    /// Nothing to say (status callbacks).
    Empty,
}

/// Whether a dial status means nobody answered.
pub fn is_missed(dial_status: &str) -> bool {
    matches!(dial_status, "no-answer" | "busy" | "failed" | "canceled")
}
