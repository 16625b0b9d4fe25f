//! Twilio Voice: the call webhooks (incoming call, `<Dial>` action, recording and
//! transcription callbacks, call status) read into `CallEvent`s, Herald's `CallAnswer`
//! rendered as TwiML. The recording and transcription callbacks carry the called number in
//! their URL (`?to=`), which Herald sets in the TwiML: Twilio does not send `To` with them.
use crate::webhook::{Account, ProviderEvent, Reply, WebhookRequest};
use herald_core::voice::{CallAnswer, CallEvent};
use std::collections::HashMap;

pub const VOICE: &str = "/webhooks/twilio/voice";
pub const DIAL: &str = "/webhooks/twilio/voice/dial-status";
pub const RECORDING: &str = "/webhooks/twilio/voice/recording";
pub const TRANSCRIPTION: &str = "/webhooks/twilio/voice/transcription";
pub const CALL_STATUS: &str = "/webhooks/twilio/voice/status";
pub const PATHS: [&str; 5] = [VOICE, DIAL, RECORDING, TRANSCRIPTION, CALL_STATUS];

fn query(req: &WebhookRequest<'_>) -> HashMap<String, String> {
    url::Url::parse(req.public_url).map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default()
}

/// The tenant's number the call is for.
pub fn account(req: &WebhookRequest<'_>, p: &HashMap<String, String>) -> Account {
    let to = p.get("To").filter(|t| !t.is_empty()).cloned().or_else(|| query(req).get("to").cloned());
    Account::Number(to.unwrap_or_default())
}

pub fn events(req: &WebhookRequest<'_>, p: &HashMap<String, String>) -> Vec<ProviderEvent> {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let call_sid = get("CallSid");
    if call_sid.is_empty() {
        return vec![];
    }
    let event = match req.path {
        VOICE => CallEvent::Incoming { call_sid, from: get("From"), to: get("To") },
        DIAL => {
            CallEvent::DialStatus { call_sid, from: get("From"), to: get("To"), dial_status: get("DialCallStatus") }
        }
        RECORDING => CallEvent::Recording {
            call_sid,
            recording_sid: get("RecordingSid"),
            // `.mp3` asks Twilio for MP3 instead of the default WAV (a tenth of the size).
            media_url: format!("{}.mp3", get("RecordingUrl")),
            duration_s: get("RecordingDuration").parse().unwrap_or(0),
            status: get("RecordingStatus"),
        },
        TRANSCRIPTION => CallEvent::Transcription {
            call_sid,
            status: get("TranscriptionStatus"),
            text: p.get("TranscriptionText").cloned(),
        },
        _ => CallEvent::Status { call_sid, status: get("CallStatus") },
    };
    vec![ProviderEvent::Call { event }]
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// Herald's public base: the signed URL up to its webhook path, so a `PublicUrl` with a
/// path prefix (`https://example.org/herald`) keeps it in the callbacks.
fn base(req: &WebhookRequest<'_>) -> String {
    match url::Url::parse(req.public_url) {
        Ok(u) => {
            let path = u.path();
            let prefix = path.find("/webhooks/").map_or("", |i| &path[..i]);
            format!("{}{}", u.origin().ascii_serialization(), prefix.trim_end_matches('/'))
        }
        Err(_) => String::new(),
    }
}

/// TwiML for Herald's answer.
pub fn twiml(req: &WebhookRequest<'_>, p: &HashMap<String, String>, answer: &CallAnswer) -> Reply {
    let base = base(req);
    let inner = match answer {
        CallAnswer::Reject => "<Reject/>".to_string(),
        CallAnswer::Hangup => "<Hangup/>".to_string(),
        CallAnswer::Empty => String::new(),
        CallAnswer::Forward { to, timeout } => {
            let action = escape(&format!("{base}{DIAL}"));
            format!(r#"<Dial timeout="{timeout}" action="{action}" method="POST">{}</Dial>"#, escape(to.as_str()))
        }
        CallAnswer::Voicemail { greeting, transcribe, max_seconds } => {
            let to: String =
                url::form_urlencoded::byte_serialize(p.get("To").map(String::as_str).unwrap_or("").as_bytes())
                    .collect();
            let recording = escape(&format!("{base}{RECORDING}?to={to}"));
            let transcription = if *transcribe {
                let url = escape(&format!("{base}{TRANSCRIPTION}?to={to}"));
                format!(r#" transcribe="true" transcribeCallback="{url}""#)
            } else {
                String::new()
            };
            format!(
                r#"<Say>{}</Say><Record maxLength="{max_seconds}" playBeep="true" recordingStatusCallback="{recording}" recordingStatusCallbackMethod="POST"{transcription}/><Hangup/>"#,
                escape(greeting)
            )
        }
    };
    let body = format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>"#);
    Reply { content_type: Some("text/xml"), body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn answers_render_as_twiml_with_absolute_escaped_callbacks() {
        let headers = HeaderMap::new();
        let req = WebhookRequest {
            path: DIAL,
            public_url: "https://h.example/webhooks/twilio/voice/dial-status",
            headers: &headers,
            body: b"",
            now: chrono::Utc::now(),
        };
        let p: HashMap<String, String> = [("To".to_string(), "+14155550001".to_string())].into();
        let vm = CallAnswer::Voicemail { greeting: "Hi & <bye>".into(), transcribe: true, max_seconds: 120 };
        let body = twiml(&req, &p, &vm).body;
        assert!(body.contains("<Say>Hi &amp; &lt;bye&gt;</Say>"), "{body}");
        assert!(
            body.contains(
                r#"recordingStatusCallback="https://h.example/webhooks/twilio/voice/recording?to=%2B14155550001""#
            ),
            "{body}"
        );
        assert!(body.contains(r#"transcribe="true" transcribeCallback="https://h.example/webhooks/twilio/voice/transcription?to=%2B14155550001""#));
        let to = herald_core::address::E164::parse("+14155550199", None).unwrap();
        let body = twiml(&req, &p, &CallAnswer::Forward { to, timeout: 20 }).body;
        assert!(body.contains(r#"<Dial timeout="20" action="https://h.example/webhooks/twilio/voice/dial-status" method="POST">+14155550199</Dial>"#), "{body}");
        assert!(twiml(&req, &p, &CallAnswer::Reject).body.ends_with("<Response><Reject/></Response>"));
        // A public URL with a path prefix keeps it in every callback.
        let prefixed =
            WebhookRequest { public_url: "https://h.example/herald/webhooks/twilio/voice/dial-status", ..req };
        let body = twiml(&prefixed, &p, &vm).body;
        assert!(
            body.contains(r#"recordingStatusCallback="https://h.example/herald/webhooks/twilio/voice/recording"#),
            "{body}"
        );
    }
}
