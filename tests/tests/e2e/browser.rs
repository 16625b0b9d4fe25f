//! The console in a real browser (CONTRACT §15): herald-local filled with a tenant's
//! messages, a dead letter, a voicemail and three users, then `tests/browser/console_test.py`
//! drives Debian's Chromium through sign-in, a message's timeline, the kill switch, a retry,
//! the voicemail player, a member refused, the operator's tenants and the phone layout.
//! Screenshots go to `HERALD_SCREENSHOTS` (default `target/console-screenshots`).
use crate::voice::{dial_status, incoming, voice_tenant, voicemail_recorded, voicemail_transcribed};
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{Fault, SimProvider, TWILIO_TOKEN};
use herald_tests::users::{PASSWORD, TEMPORARY};
use herald_tests::{eventually, spawn_app, TestApp};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const CALLER: &str = "+14155550125";

/// One second of a 440 Hz tone, 8 kHz 16-bit mono WAV: a voicemail a browser can play.
fn tone() -> Vec<u8> {
    let samples: Vec<i16> =
        (0..8000).map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16).collect();
    let data = (samples.len() * 2) as u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    for v in [16u32, 1 | (1 << 16), 8000, 16000, 2 | (16 << 16)] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    samples.iter().for_each(|s| w.extend_from_slice(&s.to_le_bytes()));
    w
}

/// Two delivered messages and one the carrier refuses for good (a dead letter): the
/// delivered one's id and the dead letter's.
async fn messages(app: &TestApp, key: &str) -> (String, String) {
    let mut delivered = String::new();
    for (i, to) in ["+14155559002", "+14155559001"].iter().enumerate() {
        let sid = format!("SM{i:032}");
        app.sim.next_message_id(SimProvider::Twilio, &sid);
        let r =
            app.send(key, json!({"channel": "sms", "to": to, "body": "Choir practice moves to 7pm Thursday"})).await;
        app.wait_status(key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
        let params = wh::twilio_status(&sid, "delivered", to);
        assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &params, Some(TWILIO_TOKEN)).await.status(), 200);
        app.wait_status(key, r.body["id"].as_str().unwrap(), "delivered", WAIT).await;
        delivered = r.body["id"].as_str().unwrap().to_string();
    }
    app.sim.fail_next(SimProvider::Twilio, 1, Fault::code(400, "21211"));
    let r = app.send(key, json!({"channel": "sms", "to": "+14155559099", "body": "Bible study tonight"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(key, &id, "failed", WAIT).await;
    (delivered, id)
}

async fn voicemail(app: &TestApp) {
    incoming(app, "CA0101", CALLER).await;
    dial_status(app, "CA0101", CALLER, "no-answer").await;
    assert_eq!(voicemail_recorded(app, "CA0101", "RE0101", &tone(), "1").await, 200);
    assert_eq!(
        voicemail_transcribed(app, "CA0101", Some("TR0101"), "Hi, this is Ruth, please call me back").await,
        200
    );
}

fn browser_ready() -> Result<(), String> {
    let chromium = std::env::var("HERALD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).exists() {
        return Err(format!("no Chromium at {chromium}: apt-get install chromium (./dev test does)"));
    }
    let ok = std::process::Command::new("python3").args(["-c", "import playwright"]).status();
    if !ok.is_ok_and(|s| s.success()) {
        return Err("Playwright for Python is missing: pip install -r .ci/requirements.txt (./dev test does)".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    if let Err(why) = browser_ready() {
        if std::env::var("HERALD_SKIP_BROWSER").is_ok_and(|v| v == "1") {
            eprintln!("browser test skipped (HERALD_SKIP_BROWSER=1): {why}");
            return;
        }
        panic!("{why} (or set HERALD_SKIP_BROWSER=1 to skip the browser test on purpose)");
    }
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let t = voice_tenant(&app).await;
    let (delivered, dead) = messages(&app, &t.live_key).await;
    voicemail(&app).await;
    let owner = app.invite("pastor@grace.org", "owner", Some(&t.id)).await;
    app.invite("secretary@grace.org", "member", Some(&t.id)).await;
    app.invite("ops@herald.dev", "operator", None).await;
    eventually(WAIT, "the dashboard counts today's messages", || async {
        let d = app.get("/v1/tenant/stats?days=14", &t.live_key).await.body;
        (d["today"]["delivered"] == 2 && d["today"]["failed"] == 1).then_some(())
    })
    .await;

    let data = json!({"owner_email": "pastor@grace.org", "member_email": "secretary@grace.org", "operator_email": "ops@herald.dev",
        "temporary_password": TEMPORARY, "password": PASSWORD, "message_to": "+14155559001", "message_to_typed": "(415) 555-9001",
        "dead_letter_error": "INVALID_PHONE_NUMBER", "caller": CALLER, "transcription": "Hi, this is Ruth, please call me back",
        "tenant_name": "Grace Church"});
    let file = std::env::temp_dir().join(format!("{}-console.json", app.prefix));
    std::fs::write(&file, data.to_string()).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let shots = std::env::var("HERALD_SCREENSHOTS").unwrap_or_else(|_| format!("{root}/target/console-screenshots"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/browser/console_test.py");
    let out = tokio::process::Command::new("python3").args([script, &app.url, file.to_str().unwrap(), &shots]).output();
    let out = tokio::time::timeout(Duration::from_secs(240), out).await.expect("the browser run ends").unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser steps failed (screenshots in {shots}):\n{text}");

    if let Ok(cli) = std::env::var("HERALD_LIGHTHOUSE") {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/browser/lighthouse.py");
        let out_md = std::env::var("HERALD_LIGHTHOUSE_OUT").unwrap_or_else(|_| format!("{root}/target/lighthouse.md"));
        let mut data = data.clone();
        (data["message_id"], data["call_sid"]) = (json!(delivered), json!("CA0101"));
        std::fs::write(&file, data.to_string()).unwrap();
        let mut run = tokio::process::Command::new("python3");
        run.args([script, &app.url, file.to_str().unwrap(), &out_md]).env("HERALD_LIGHTHOUSE", cli);
        let out = tokio::time::timeout(Duration::from_secs(900), run.output()).await.expect("lighthouse ends").unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "lighthouse:\n{text}");
        eprintln!("{text}");
    }

    // What the clicks did, read back from the API: resumed, retried, audited under the user.
    assert!(app.get("/v1/tenant", &t.live_key).await.body["paused"].is_null());
    let m = app.message(&t.live_key, &dead).await;
    assert_ne!(m["status"], "failed", "the dead letter was sent again: {m}");
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}&action=tenant.pause", t.id), &app.admin_key).await;
    assert_eq!(audit.body["entries"][0]["actor"], owner["id"], "{}", audit.body);
    let bought =
        app.sim.requests(SimProvider::TwilioNumbers).into_iter().filter(|r| r.path.starts_with("POST")).count();
    assert_eq!(bought, 1, "the number bought from the console, once");
}
