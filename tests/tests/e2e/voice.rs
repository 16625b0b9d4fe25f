//! Issue 13: voice for the missed-call business through Twilio's signed webhooks, against
//! moto (calls in DynamoDB, recordings in S3) and the simulator (texts, recordings, numbers).
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{SimProvider, TWILIO_SID, TWILIO_TOKEN};
use herald_tests::{eventually, spawn_app, TestApp, TestTenant};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const OURS: &str = "+14155550001";
const CELL: &str = "+14155550199";

pub(crate) async fn voice_tenant(app: &TestApp) -> TestTenant {
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    let settings = json!({"forward_to": "(415) 555-0199", "ring_seconds": 20, "greeting": "Sorry we missed you, leave a message",
        "missed_call_text": "Sorry we missed your call - we'll call you right back", "record_voicemail": true,
        "transcribe": true, "text_back": true, "text_back_cooldown": "24h"});
    let r = app.put("/v1/voice", &t.live_key, settings).await;
    assert_eq!((r.status.as_u16(), r.body["forward_to"].as_str()), (200, Some(CELL)), "{}", r.body);
    t
}

/// A signed voice webhook; (status, TwiML).
pub(crate) async fn post(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = wh::twilio(&app.url, path, params, Some(TWILIO_TOKEN)).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

pub(crate) async fn incoming(app: &TestApp, sid: &str, from: &str) -> (u16, String) {
    let p = [
        ("AccountSid", TWILIO_SID),
        ("CallSid", sid),
        ("From", from),
        ("To", OURS),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ];
    post(app, "/webhooks/twilio/voice", &p).await
}

pub(crate) async fn dial_status(app: &TestApp, sid: &str, from: &str, status: &str) -> (u16, String) {
    let p = [
        ("AccountSid", TWILIO_SID),
        ("CallSid", sid),
        ("From", from),
        ("To", OURS),
        ("DialCallStatus", status),
        ("CallStatus", "in-progress"),
    ];
    post(app, "/webhooks/twilio/voice/dial-status", &p).await
}

/// Twilio holds `audio` as recording `rec` of `call` and calls Herald back with it; the status.
pub(crate) async fn voicemail_recorded(app: &TestApp, call: &str, rec: &str, audio: &[u8], seconds: &str) -> u16 {
    app.sim.twilio_recording(TWILIO_SID, rec, audio);
    let url = format!("{}/2010-04-01/Accounts/{TWILIO_SID}/Recordings/{rec}", app.sim.url());
    let p = [
        ("AccountSid", TWILIO_SID),
        ("CallSid", call),
        ("RecordingSid", rec),
        ("RecordingUrl", url.as_str()),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", seconds),
    ];
    post(app, "/webhooks/twilio/voice/recording?to=%2B14155550001", &p).await.0
}

/// Twilio's transcription of `call`'s voicemail (with its `TR…` sid when given); the status.
pub(crate) async fn voicemail_transcribed(app: &TestApp, call: &str, sid: Option<&str>, text: &str) -> u16 {
    let mut p = vec![("AccountSid", TWILIO_SID), ("CallSid", call)];
    p.extend(sid.map(|s| ("TranscriptionSid", s)));
    p.extend([("TranscriptionStatus", "completed"), ("TranscriptionText", text)]);
    post(app, "/webhooks/twilio/voice/transcription?to=%2B14155550001", &p).await.0
}

fn texts_to(app: &TestApp, to: &str) -> usize {
    app.sim.requests_to(SimProvider::Twilio, to).iter().filter(|r| r.status == 201).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_call_is_texted_back_once_and_an_answered_call_never() {
    let app = spawn_app(&[]).await;
    let t = voice_tenant(&app).await;
    let caller = "+14155550123";
    let (status, twiml) = incoming(&app, "CA0001", caller).await;
    assert_eq!(status, 200);
    let dial = format!(
        r#"<Dial timeout="20" action="{}/webhooks/twilio/voice/dial-status" method="POST">{CELL}</Dial>"#,
        app.url
    );
    assert!(twiml.contains(&dial), "{twiml}");

    let (status, twiml) = dial_status(&app, "CA0001", caller, "no-answer").await;
    assert_eq!(status, 200);
    assert!(twiml.contains("<Say>Sorry we missed you, leave a message</Say><Record "), "{twiml}");
    assert!(
        twiml.contains(r#"transcribe="true""#) && twiml.contains("/webhooks/twilio/voice/recording?to=%2B14155550001"),
        "{twiml}"
    );
    eventually(WAIT, "the text-back reached Twilio", || async { (texts_to(&app, caller) == 1).then_some(()) }).await;
    let sent = &app.sim.requests_to(SimProvider::Twilio, caller)[0];
    assert_eq!(
        (sent.form["From"].as_str(), sent.form["Body"].as_str()),
        (OURS, "Sorry we missed your call - we'll call you right back")
    );
    // Twilio repeats the webhook: the same answer, no second text.
    let (_, again) = dial_status(&app, "CA0001", caller, "no-answer").await;
    assert!(again.contains("<Record "), "{again}");
    // A second missed call within the cool-down: no text.
    incoming(&app, "CA0002", caller).await;
    dial_status(&app, "CA0002", caller, "busy").await;
    // Answered: hang up, nothing sent.
    incoming(&app, "CA0003", "+14155550124").await;
    let (_, answered) = dial_status(&app, "CA0003", "+14155550124", "completed").await;
    assert!(answered.contains("<Hangup/>") && !answered.contains("<Record"), "{answered}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!((texts_to(&app, caller), texts_to(&app, "+14155550124")), (1, 0));

    let call = app.get("/v1/calls/CA0001", &t.live_key).await;
    assert_eq!(
        (call.body["outcome"].as_str(), call.body["from"].as_str()),
        (Some("missed"), Some(caller)),
        "{}",
        call.body
    );
    let text_id = call.body["text_back_message_id"].as_str().unwrap();
    assert_eq!(app.message(&t.live_key, text_id).await["to"], caller);
    let second = app.get("/v1/calls/CA0002", &t.live_key).await;
    assert_eq!(
        (second.body["text_back_message_id"].is_null(), second.body["text_back_skipped"].as_str()),
        (true, Some("COOLDOWN"))
    );
    assert_eq!(app.get("/v1/calls/CA0003", &t.live_key).await.body["outcome"], "answered");
    let list = app.get("/v1/calls", &t.live_key).await;
    assert_eq!(list.body["calls"].as_array().map(Vec::len), Some(3), "{}", list.body);
    let other = app.create_tenant(json!({})).await;
    assert_eq!(app.get("/v1/calls/CA0001", &other.live_key).await.status, 404, "another tenant's call");
    assert_eq!(app.get("/v1/calls/CA0001", &t.test_key).await.status, 404, "a test key sees no live call");
    assert_eq!(app.get("/v1/calls", &t.test_key).await.body["calls"], json!([]));
    let settings = app.get("/v1/voice", &t.test_key).await.body;
    assert_eq!(app.put("/v1/voice", &t.test_key, settings).await.status, 403, "a test key changes no live setting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_lands_in_s3_is_deleted_at_twilio_and_its_transcription_shows() {
    let app = spawn_app(&[]).await;
    let t = voice_tenant(&app).await;
    let caller = "+14155550125";
    incoming(&app, "CA0101", caller).await;
    dial_status(&app, "CA0101", caller, "no-answer").await;
    let audio = b"ID3\x04\x00fake mp3 frames".to_vec();
    assert_eq!(voicemail_recorded(&app, "CA0101", "RE0101", &audio, "7").await, 200);
    assert!(!app.sim.twilio_recording_exists("RE0101"), "deleted at Twilio once Herald keeps it");
    let call = app.get("/v1/calls/CA0101", &t.live_key).await.body;
    assert_eq!(
        (call["outcome"].as_str(), call["recording"]["duration_s"].as_u64()),
        (Some("voicemail"), Some(7)),
        "{call}"
    );
    assert_eq!(call["transcription"]["status"], "pending");
    let key = call["recording"]["s3_key"].as_str().unwrap();
    assert_eq!(key, format!("recordings/{}/CA0101/RE0101.mp3", t.id));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&herald_runtime::sdk_config(&app.running.app.config).await)
            .force_path_style(true)
            .build(),
    );
    let object =
        s3.get_object().bucket(&app.running.app.config.recordings_bucket).key(key).send().await.expect("in S3");
    assert_eq!(object.body.collect().await.unwrap().into_bytes().to_vec(), audio);
    voicemail_plays_for_its_tenant_only(&app, &t, &audio).await;

    let text = "Hi, please call me back about the quote";
    assert_eq!(voicemail_transcribed(&app, "CA0101", Some("TR0101"), text).await, 200);
    let call = app.get("/v1/calls/CA0101", &t.live_key).await.body;
    assert_eq!(
        call["transcription"],
        json!({"status": "completed", "text": "Hi, please call me back about the quote"})
    );
}

/// `GET /v1/calls/{sid}/recording`: a 302 to a presigned URL of at most five minutes that
/// plays the very bytes; another tenant and a test key get 404.
async fn voicemail_plays_for_its_tenant_only(app: &TestApp, t: &TestTenant, audio: &[u8]) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let ask = |key: &str| http.get(format!("{}/v1/calls/CA0101/recording", app.url)).bearer_auth(key).send();
    let res = ask(&t.live_key).await.unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("X-Amz-Expires=300") && location.contains("X-Amz-Signature="), "{location}");
    let played = reqwest::get(&location).await.unwrap();
    assert_eq!(played.bytes().await.unwrap().to_vec(), audio);
    assert_eq!(ask(&t.test_key).await.unwrap().status(), 404, "test keys see no live calls");
    let other = app.create_tenant(json!({"name": "Other"})).await;
    assert_eq!(ask(&other.live_key).await.unwrap().status(), 404, "another tenant's call");
}

/// A tenant endpoint that records what it receives.
async fn hook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let router = axum::Router::new().route(
        "/calls",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let sig = headers.get("herald-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                s.lock().unwrap().push((sig, serde_json::from_str(&body).unwrap_or(Value::Null)));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/calls", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_is_told_of_missed_calls_voicemails_and_transcriptions_signed() {
    let app = spawn_app(&[]).await;
    let t = voice_tenant(&app).await;
    let (url, seen) = hook().await;
    let mut settings = app.get("/v1/voice", &t.live_key).await.body;
    settings["callback_url"] = json!(url);
    assert_eq!(app.put("/v1/voice", &t.live_key, settings).await.status, 200);
    let caller = "+14155550131";
    incoming(&app, "CA0301", caller).await;
    dial_status(&app, "CA0301", caller, "no-answer").await;
    voicemail_recorded(&app, "CA0301", "RE0301", b"ID3 audio", "3").await;
    voicemail_transcribed(&app, "CA0301", None, "call me").await;
    let events = eventually(WAIT, "three call callbacks", || async {
        let got = seen.lock().unwrap().clone();
        (got.len() >= 3).then_some(got)
    })
    .await;
    let types: Vec<&str> = events.iter().map(|(_, b)| b["type"].as_str().unwrap()).collect();
    for kind in ["call.missed", "call.voicemail", "call.transcribed"] {
        assert!(types.contains(&kind), "{types:?}");
    }
    assert!(events.iter().all(|(sig, b)| sig.starts_with("t=") && b["call_sid"] == "CA0301"));
    let transcribed = events.iter().find(|(_, b)| b["type"] == "call.transcribed").unwrap();
    assert_eq!(transcribed.1["transcription"]["text"], "call me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_can_be_turned_off_unsigned_webhooks_are_refused_and_dnc_callers_are_never_texted() {
    let app = spawn_app(&[]).await;
    let t = voice_tenant(&app).await;
    // Unsigned: 401, nothing recorded.
    let p = [("AccountSid", TWILIO_SID), ("CallSid", "CA0201"), ("From", "+14155550126"), ("To", OURS)];
    let r = wh::twilio(&app.url, "/webhooks/twilio/voice", &p, None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/voice", &p, Some("forged")).await.status(), 401);
    assert_eq!(app.get("/v1/calls/CA0201", &t.live_key).await.status, 404, "nothing recorded");

    // A caller on the DNC list is still forwarded, never texted.
    assert_eq!(app.put("/v1/dnc/+14155550127", &t.live_key, json!({"reason": "asked"})).await.status, 200);
    let (_, twiml) = incoming(&app, "CA0202", "+14155550127").await;
    assert!(twiml.contains("<Dial "), "{twiml}");
    dial_status(&app, "CA0202", "+14155550127", "no-answer").await;
    let call: Value = app.get("/v1/calls/CA0202", &t.live_key).await.body;
    assert_eq!(call["text_back_skipped"], "DNC", "{call}");
    assert_eq!(texts_to(&app, "+14155550127"), 0);

    let r =
        app.patch("/v1/admin/features", &app.admin_key, json!({"feature": "incoming_calls", "enabled": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, twiml) = incoming(&app, "CA0203", "+14155550128").await;
    assert_eq!(status, 200);
    assert!(twiml.ends_with("<Response><Reject/></Response>"), "{twiml}");
    assert_eq!(app.get("/v1/calls/CA0203", &t.live_key).await.body["outcome"], "rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_settings_need_only_the_forward_number_and_are_checked() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let r = app.put("/v1/voice", &t.live_key, json!({"forward_to": "+14155550199"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["ring_seconds"].as_u64(), r.body["text_back_cooldown"].as_str()), (Some(20), Some("24h")));
    assert_eq!((r.body["record_voicemail"].as_bool(), r.body["text_back"].as_bool()), (Some(true), Some(true)));
    let bad = app.put("/v1/voice", &t.live_key, json!({"forward_to": "not a number"})).await;
    assert_eq!(bad.body["error"]["fields"]["forward_to"], "INVALID_PHONE_NUMBER_FORMAT", "{}", bad.body);
    let bad = app.put("/v1/voice", &t.live_key, json!({"forward_to": "+14155550199", "ring_seconds": 600})).await;
    assert_eq!(bad.status, 400);
    let long = format!("https://example.com/{}", "x".repeat(2100));
    let bad = app.put("/v1/voice", &t.live_key, json!({"forward_to": "+14155550199", "callback_url": long})).await;
    assert_eq!(bad.status, 400, "callback URLs are bounded");
    assert_eq!(app.get("/v1/voice", &t.live_key).await.body["forward_to"], "+14155550199");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_twilio_number_points_its_voice_and_sms_urls_at_herald() {
    let app = spawn_app(&[("HERALD_PUBLIC_URL", "https://herald.example")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    let urls = app.sim.twilio_number_urls(OURS);
    assert_eq!(urls.get("VoiceUrl").map(String::as_str), Some("https://herald.example/webhooks/twilio/voice"));
    assert_eq!(urls.get("SmsUrl").map(String::as_str), Some("https://herald.example/webhooks/twilio/inbound"));
    assert_eq!(
        urls.get("StatusCallback").map(String::as_str),
        Some("https://herald.example/webhooks/twilio/voice/status")
    );
    let update = app.sim.requests(SimProvider::TwilioVoice);
    assert!(
        update[0].auth.as_deref().is_some_and(|a| a.starts_with(&format!("basic:{TWILIO_SID}:"))),
        "with the tenant's credentials"
    );
}

/// Security review M-2 (SMS pumping): spoofed callers from other countries get no text, and
/// a tenant sends at most `text_back_max_per_hour` text-backs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_call_text_backs_go_only_to_home_callers_and_at_most_the_hourly_cap() {
    let app = spawn_app(&[]).await;
    let t = voice_tenant(&app).await;
    let settings = json!({"forward_to": CELL, "text_back_max_per_hour": 2});
    assert_eq!(app.put("/v1/voice", &t.live_key, settings).await.status, 200);
    let bad = json!({"forward_to": CELL, "text_back_countries": ["USA"]});
    assert_eq!(app.put("/v1/voice", &t.live_key, bad).await.code(), "VALIDATION_ERROR");

    // A premium-rate range abroad, spoofed as the caller id, call after call.
    for (i, from) in ["+447700900123", "+882355501234", "+23225123456"].iter().enumerate() {
        let sid = format!("CA9{i:03}");
        incoming(&app, &sid, from).await;
        assert_eq!(dial_status(&app, &sid, from, "no-answer").await.0, 200);
        let call = app.get(&format!("/v1/calls/{sid}"), &t.live_key).await.body;
        assert_eq!(call["text_back_skipped"], "COUNTRY_NOT_ALLOWED", "{call}");
        assert!(call["text_back_message_id"].is_null());
    }
    // Home callers, each new: two texts, then the cap.
    let callers = ["+14155550131", "+14155550132", "+14155550133"];
    for (i, from) in callers.iter().enumerate() {
        let sid = format!("CA8{i:03}");
        incoming(&app, &sid, from).await;
        dial_status(&app, &sid, from, "busy").await;
    }
    let third = app.get("/v1/calls/CA8002", &t.live_key).await.body;
    assert_eq!(third["text_back_skipped"], "HOURLY_CAP", "{third}");
    eventually(WAIT, "two text-backs reached Twilio", || async {
        (texts_to(&app, callers[0]) + texts_to(&app, callers[1]) == 2).then_some(())
    })
    .await;
    let abroad = ["+447700900123", "+882355501234", "+23225123456", callers[2]];
    assert_eq!(abroad.iter().map(|n| texts_to(&app, n)).sum::<usize>(), 0, "no text abroad or past the cap");
    // A country the tenant allows explicitly.
    let settings = json!({"forward_to": CELL, "text_back_countries": ["fr"], "text_back_max_per_hour": 5});
    let r = app.put("/v1/voice", &t.live_key, settings).await;
    assert_eq!(r.body["text_back_countries"], json!(["FR"]), "{}", r.body);
    incoming(&app, "CA7000", "+33612345678").await;
    dial_status(&app, "CA7000", "+33612345678", "no-answer").await;
    let call = app.get("/v1/calls/CA7000", &t.live_key).await.body;
    assert!(call["text_back_message_id"].is_string(), "{call}");
}
