use crate::service::testing::Harness;
use crate::service::Caller;
use crate::voice::{CallAnswer, CallEvent, CallOutcome, VoiceSettings};

fn settings() -> VoiceSettings {
    VoiceSettings {
        forward_to: "+14155550199".into(),
        ring_seconds: 20,
        greeting: "Sorry we missed you".into(),
        missed_call_text: "Sorry we missed your call - we'll call you back".into(),
        record_voicemail: true,
        transcribe: true,
        text_back: true,
        text_back_cooldown: "24h".into(),
        callback_url: None,
        text_back_countries: None,
        text_back_max_per_hour: 30,
    }
}

async fn setup() -> (Harness, Caller) {
    let h = Harness::new();
    let caller = h.tenant(|_| {});
    h.sms_channel(&caller, false);
    h.services.voice.put_settings(&caller, settings()).await.unwrap();
    (h, caller)
}

fn ring(sid: &str, from: &str) -> (CallEvent, CallEvent) {
    let incoming = CallEvent::Incoming { call_sid: sid.into(), from: from.into(), to: "+14155550001".into() };
    let missed = CallEvent::DialStatus {
        call_sid: sid.into(),
        from: from.into(),
        to: "+14155550001".into(),
        dial_status: "no-answer".into(),
    };
    (incoming, missed)
}

#[tokio::test]
async fn a_missed_caller_gets_one_text_per_cooldown_and_an_answered_call_nothing() {
    let (h, caller) = setup().await;
    let tenant = caller.tenant().unwrap().id.clone();
    let voice = &h.services.voice;
    let (incoming, missed) = ring("CA1", "+14155550123");
    let answer = voice.handle(&tenant, incoming).await.unwrap();
    assert!(matches!(answer, CallAnswer::Forward { timeout: 20, .. }), "{answer:?}");
    let answer = voice.handle(&tenant, missed.clone()).await.unwrap();
    assert!(matches!(answer, CallAnswer::Voicemail { transcribe: true, .. }), "{answer:?}");
    // The same webhook again: the same answer, no second text.
    voice.handle(&tenant, missed).await.unwrap();
    let call = voice.call(&caller, "CA1").await.unwrap();
    assert_eq!(call.outcome, Some(CallOutcome::Missed));
    let id = call.text_back_message_id.clone().expect("a text-back");
    let msg = h.message(&id);
    assert_eq!((msg.to.as_str(), msg.from.as_ref().map(|a| a.as_str())), ("+14155550123", Some("+14155550001")));
    assert_eq!(h.mem.with(|s| s.messages.len()), 1);

    // Missed again within the cool-down: no text.
    let (incoming, missed) = ring("CA2", "+14155550123");
    voice.handle(&tenant, incoming).await.unwrap();
    voice.handle(&tenant, missed).await.unwrap();
    let second = voice.call(&caller, "CA2").await.unwrap();
    assert_eq!((second.text_back_message_id, second.text_back_skipped.as_deref()), (None, Some("COOLDOWN")));

    // Answered: nothing sent, hang up.
    let (incoming, _) = ring("CA3", "+14155550124");
    voice.handle(&tenant, incoming).await.unwrap();
    let done = CallEvent::DialStatus {
        call_sid: "CA3".into(),
        from: "+14155550124".into(),
        to: "+14155550001".into(),
        dial_status: "completed".into(),
    };
    assert_eq!(voice.handle(&tenant, done).await.unwrap(), CallAnswer::Hangup);
    assert_eq!(voice.call(&caller, "CA3").await.unwrap().outcome, Some(CallOutcome::Answered));
    assert_eq!(h.mem.with(|s| s.messages.len()), 1);
}

#[tokio::test]
async fn incoming_calls_off_rejects_and_a_recording_is_kept_then_deleted_at_the_carrier() {
    let (h, caller) = setup().await;
    let tenant = caller.tenant().unwrap().id.clone();
    let voice = &h.services.voice;
    let (incoming, missed) = ring("CA9", "+14155550125");
    voice.handle(&tenant, incoming).await.unwrap();
    voice.handle(&tenant, missed).await.unwrap();
    let rec = CallEvent::Recording {
        call_sid: "CA9".into(),
        recording_sid: "RE9".into(),
        media_url: "https://x/RE9".into(),
        duration_s: 7,
        status: "completed".into(),
    };
    voice.handle(&tenant, rec.clone()).await.unwrap();
    voice.handle(&tenant, rec).await.unwrap();
    let stored = h.mem.with(|s| s.recordings.clone());
    assert_eq!(stored.iter().filter(|k| k.starts_with("recordings/")).count(), 1, "{stored:?}");
    assert!(stored.contains(&"deleted:RE9".to_string()));
    let call = voice.call(&caller, "CA9").await.unwrap();
    assert_eq!((call.outcome, call.recording.map(|r| r.duration_s)), (Some(CallOutcome::Voicemail), Some(7)));
    assert_eq!(call.transcription.map(|t| t.status), Some("pending".to_string()));

    h.mem.with(|s| s.features.insert("incoming_calls".into(), false));
    let (incoming, _) = ring("CA10", "+14155550126");
    assert_eq!(voice.handle(&tenant, incoming).await.unwrap(), CallAnswer::Reject);
    assert_eq!(voice.call(&caller, "CA10").await.unwrap().outcome, Some(CallOutcome::Rejected));
}
