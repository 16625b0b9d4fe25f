//! Issue 4: signed, deduplicated receipts, inbound keywords, token rotation, callbacks.
use herald_tests::sim::webhooks::{self as wh, TELNYX_PUBLIC_KEY};
use herald_tests::sim::{SimProvider, TELNYX_KEY, TWILIO_SID, TWILIO_TOKEN};
use herald_tests::{eventually, spawn_app, TestApp, TestTenant};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const OURS: &str = "+14155550001";

async fn sent_sms(app: &TestApp, t: &TestTenant, to: &str, sid: &str) -> String {
    app.sim.next_message_id(SimProvider::Twilio, sid);
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": to, "body": "hello"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_receipts_move_forward_once_and_map_failures() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    let id = sent_sms(&app, &t, "+14155550100", "SM0001").await;
    let post = |status: &'static str| {
        let (url, p) = (app.url.clone(), wh::twilio_status("SM0001", status, "+14155550100"));
        async move { wh::twilio(&url, "/webhooks/twilio/status", &p, Some(TWILIO_TOKEN)).await }
    };
    // A provider that adds a parameter Herald has never heard of: still signed over all.
    let mut extra = wh::twilio_status("SM0001", "delivered", "+14155550100");
    extra.push(("RawDlrDoneDate", "2611240615"));
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &extra, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(post("delivered").await.status(), 200, "a duplicate is answered 200");
    let m = app.message(&t.live_key, &id).await;
    assert_eq!(m["status"], "delivered");
    assert!(m["delivered_at"].is_string());
    assert!(m["delivery_latency_ms"].as_i64().is_some_and(|l| l >= 0), "created → delivered is stored");
    let delivered = m["history"].as_array().unwrap().iter().filter(|h| h["status"] == "delivered").count();
    assert_eq!(delivered, 1, "applied once");
    assert_eq!(post("sent").await.status(), 200);
    assert_eq!(app.message(&t.live_key, &id).await["status"], "delivered", "a late sent is ignored");

    let id2 = sent_sms(&app, &t, "+14155550101", "SM0002").await;
    let mut failed = wh::twilio_status("SM0002", "undelivered", "+14155550101");
    failed.push(("ErrorCode", "30003"));
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &failed, Some(TWILIO_TOKEN)).await.status(), 200);
    let m = app.message(&t.live_key, &id2).await;
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error_code"], "UNDELIVERABLE");

    // Unknown provider ids: logged, answered 200, not retried forever.
    assert_eq!(post_unknown(&app).await, 200);
}

/// Receipts naming Herald's id (the per-message callback URL) are one conditional update:
/// applied once, only to the tenant's own message, and the full path still takes the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_by_id_apply_once_and_only_to_the_owner() {
    const PUBLIC: &str = "https://herald.example";
    let app = spawn_app(&[("HERALD_PUBLIC_URL", PUBLIC)]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.configure_twilio(&a, OURS).await;
    app.use_platform_twilio(&b, "+14155550002").await;
    let id = sent_sms(&app, &a, "+14155550100", "SM1001").await;
    let path = format!("/webhooks/twilio/status?herald_message_id={id}");
    let receipt = |from: &'static str, status: &'static str| {
        let mut p = wh::twilio_status("SM1001", status, "+14155550100");
        p[2] = ("From", from);
        p
    };
    // Tenant B's credentials naming A's message: refused by the write's condition.
    let foreign = receipt("+14155550002", "delivered");
    assert_eq!(wh::twilio_via(PUBLIC, &app.url, &path, &foreign, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(app.message(&a.live_key, &id).await["status"], "sent", "another tenant's receipt is ignored");

    let delivered = receipt(OURS, "delivered");
    for _ in 0..2 {
        assert_eq!(wh::twilio_via(PUBLIC, &app.url, &path, &delivered, Some(TWILIO_TOKEN)).await.status(), 200);
    }
    let m = app.message(&a.live_key, &id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert!(m["sent_at"].is_string() && m["delivered_at"].is_string());
    let latency = m["delivery_latency_ms"].as_i64().unwrap();
    assert!((0..30_000).contains(&latency), "created → delivered: {latency}");
    let entries = m["history"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|h| h["status"] == "delivered").count(), 1, "applied once: {m}");
    assert_eq!(entries.last().unwrap()["status"], "delivered");

    // A failure for a delivered message is not a step: the full transition ignores it.
    let mut failed = receipt(OURS, "undelivered");
    failed.push(("ErrorCode", "30003"));
    assert_eq!(wh::twilio_via(PUBLIC, &app.url, &path, &failed, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(app.message(&a.live_key, &id).await["status"], "delivered");
    // A forged one changes nothing.
    let r = wh::twilio_via(PUBLIC, &app.url, &path, &receipt(OURS, "read"), Some("forged")).await;
    assert_eq!(r.status(), 401);
}

async fn post_unknown(app: &TestApp) -> u16 {
    wh::twilio(
        &app.url,
        "/webhooks/twilio/status",
        &wh::twilio_status("SMnever", "delivered", "+14155550199"),
        Some(TWILIO_TOKEN),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_or_altered_webhooks_are_refused_and_write_nothing() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    let id = sent_sms(&app, &t, "+14155550100", "SM0100").await;
    let params = wh::twilio_status("SM0100", "delivered", "+14155550100");
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &params, Some("wrong-token")).await.status(), 401);
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &params, None).await.status(), 401);
    // Signed, then a parameter altered in transit.
    let url = format!("{}/webhooks/twilio/status", app.url);
    let sig = wh::twilio_sign(&url, &params, TWILIO_TOKEN);
    let mut altered = params.clone();
    altered[4] = ("MessageStatus", "failed");
    let r = reqwest::Client::new().post(&url).header("X-Twilio-Signature", sig).form(&altered).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let inbound = vec![
        ("AccountSid", TWILIO_SID),
        ("From", "+14155550100"),
        ("To", OURS),
        ("Body", "STOP"),
        ("MessageSid", "SMin1"),
    ];
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/inbound", &inbound, Some("wrong")).await.status(), 401);
    assert_eq!(app.message(&t.live_key, &id).await["status"], "sent", "nothing applied");
    assert_eq!(app.get("/v1/dnc/+14155550100", &t.live_key).await.status, 404, "STOP not applied");
    let ib = app.get("/v1/inbound", &t.live_key).await;
    assert_eq!(ib.body["messages"].as_array().map(Vec::len), Some(0), "nothing stored: {}", ib.body);
    // Audited for the operator (once a minute per kind, counted), with no secret in it.
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}&action=webhook.", t.id), &app.admin_key).await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["action"] == "webhook.signature_failed"), "{}", audit.body);
    assert_eq!(entries[0]["detail"]["provider"], "twilio");
    assert!(!audit.body.to_string().contains(TWILIO_TOKEN) && !audit.body.to_string().contains("wrong"));

    // Telnyx: stale timestamp, body altered after signing, wrong key.
    let tn = app.create_tenant(json!({"name": "T"})).await;
    configure_telnyx_with_key(&app, &tn, "+14155550002").await;
    app.sim.next_message_id(SimProvider::Telnyx, "40385f64-5717-4562-b3fc-2c963f66afa6");
    let r = app.send(&tn.live_key, json!({"channel": "sms", "to": "+18665550001", "body": "x"})).await;
    let tid = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&tn.live_key, &tid, "sent", WAIT).await;
    let ev = wh::telnyx_event(
        "message.finalized",
        "evt-1",
        json!({"id": "40385f64-5717-4562-b3fc-2c963f66afa6", "from": {"phone_number": "+14155550002"}, "to": [{"phone_number": "+18665550001", "status": "delivered"}]}),
    );
    let now = chrono::Utc::now().timestamp();
    // Outside the 300 s tolerance by more than the seconds a loaded machine may take to answer.
    assert_eq!(wh::telnyx(&app.url, &ev, now - 330, false).await.status(), 401, "stale");
    assert_eq!(wh::telnyx(&app.url, &ev, now + 330, false).await.status(), 401, "from the future");
    assert_eq!(wh::telnyx(&app.url, &ev, now, true).await.status(), 401, "altered after signing");
    assert_eq!(app.message(&tn.live_key, &tid).await["status"], "sent");
    assert_eq!(wh::telnyx(&app.url, &ev, now, false).await.status(), 200);
    assert_eq!(app.message(&tn.live_key, &tid).await["status"], "delivered");
    assert_eq!(wh::telnyx(&app.url, &ev, now, false).await.status(), 200, "duplicate event id answered 200");

    // WhatsApp: wrong app secret.
    app.configure_whatsapp(&t).await;
    let body = wh::whatsapp_envelope(
        "106540352242922",
        json!({"contacts": [{"wa_id": "16505551234"}], "messages": [{"from": "16505551234", "id": "wamid.in1", "timestamp": "1749416383", "type": "text", "text": {"body": "STOP"}}]}),
    );
    assert_eq!(wh::whatsapp(&app.url, &body, "not-the-secret").await.status(), 401);
    assert_eq!(app.get("/v1/dnc/+16505551234", &t.live_key).await.status, 404);

    // Bodies over 64 KiB.
    let big = "a".repeat(70 * 1024);
    let r = reqwest::Client::new().post(format!("{}/webhooks/telnyx", app.url)).body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
}

async fn configure_telnyx_with_key(app: &TestApp, t: &TestTenant, number: &str) {
    let r = app
        .put("/v1/channels/sms", &t.live_key, json!({"provider": "telnyx", "credentials": {"telnyx": {"api_key": TELNYX_KEY, "messaging_profile_id": "40019a80-d883-4618-953b-dad1610b39f4", "webhook_public_key": TELNYX_PUBLIC_KEY}}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.post("/v1/numbers", &t.live_key, json!({"phone_number": number, "provider": "telnyx"})).await.status,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_stop_start_and_help() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({"help_text": "Grace Church: call 555-0100 for help."})).await;
    app.configure_twilio(&t, OURS).await;
    app.configure_whatsapp(&t).await;
    let inbound = |sid: &'static str, body: &'static str| {
        let params = vec![
            ("AccountSid", TWILIO_SID),
            ("From", "+14155550100"),
            ("To", OURS),
            ("Body", body),
            ("MessageSid", sid),
            ("NumMedia", "0"),
        ];
        let url = app.url.clone();
        async move { wh::twilio(&url, "/webhooks/twilio/inbound", &params, Some(TWILIO_TOKEN)).await }
    };
    let r = inbound("SMi1", "  stop ").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Response>"), "TwiML");
    let dnc = app.get("/v1/dnc/+14155550100", &t.live_key).await;
    assert_eq!(dnc.status, 200);
    assert_eq!(dnc.body["reason"], "STOP");
    assert!(dnc.body["source"].as_str().unwrap().starts_with("inbound:twilio"));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "promo"})).await;
    assert_eq!(r.code(), "RECIPIENT_OPTED_OUT");
    let r = app
        .send(
            &t.live_key,
            json!({"channel": "whatsapp", "to": "+14155550100", "template": {"name": "promo", "language": "en"}}),
        )
        .await;
    assert_eq!(r.code(), "RECIPIENT_OPTED_OUT", "an SMS opt-out also blocks WhatsApp");
    // The opt-out confirmation itself goes out, past the list.
    let confirm = eventually(WAIT, "opt-out confirmation", || async {
        app.sim
            .requests_to(SimProvider::Twilio, "+14155550100")
            .into_iter()
            .find(|c| c.form["Body"].contains("unsubscribed"))
    })
    .await;
    assert_eq!(confirm.form["From"], OURS);
    // A duplicate delivery of the same inbound webhook is applied once.
    assert_eq!(inbound("SMi1", "  stop ").await.status(), 200);
    assert_eq!(app.get("/v1/inbound", &t.live_key).await.body["messages"].as_array().unwrap().len(), 1);

    assert_eq!(inbound("SMi2", "stop please").await.status(), 200);
    assert_eq!(app.get("/v1/dnc/+14155550100", &t.live_key).await.status, 200, "not a keyword, nothing changes");
    assert_eq!(inbound("SMi3", "START").await.status(), 200);
    assert_eq!(app.get("/v1/dnc/+14155550100", &t.live_key).await.status, 404);
    assert_eq!(
        app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "welcome back"})).await.status,
        202
    );
    assert_eq!(inbound("SMi4", "help").await.status(), 200);
    eventually(WAIT, "help reply", || async {
        app.sim
            .requests_to(SimProvider::Twilio, "+14155550100")
            .into_iter()
            .find(|c| c.form["Body"] == "Grace Church: call 555-0100 for help.")
    })
    .await;
    let all = app.get("/v1/inbound", &t.live_key).await;
    let keywords: Vec<Value> = all.body["messages"].as_array().unwrap().iter().map(|m| m["keyword"].clone()).collect();
    assert_eq!(keywords, vec![json!("STOP"), Value::Null, json!("START"), json!("HELP")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_rotation_accepts_both_tokens_until_the_old_one_is_removed() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    let id = sent_sms(&app, &t, "+14155550100", "SMrot").await;
    let rotate = |previous: Option<&str>| {
        let mut creds = json!({"account_sid": TWILIO_SID, "auth_token": "a1b2c3d4e5f60718293a4b5c6d7e8f90"});
        if let Some(p) = previous {
            creds["previous_auth_token"] = json!(p);
        }
        app.put("/v1/channels/sms", &t.live_key, json!({"provider": "twilio", "credentials": {"twilio": creds}}))
    };
    assert_eq!(rotate(Some(TWILIO_TOKEN)).await.status, 200);
    let p = wh::twilio_status("SMrot", "sent", "+14155550100");
    assert_eq!(
        wh::twilio(&app.url, "/webhooks/twilio/status", &p, Some(TWILIO_TOKEN)).await.status(),
        200,
        "old token"
    );
    let p = wh::twilio_status("SMrot", "delivered", "+14155550100");
    assert_eq!(
        wh::twilio(&app.url, "/webhooks/twilio/status", &p, Some("a1b2c3d4e5f60718293a4b5c6d7e8f90")).await.status(),
        200,
        "new token"
    );
    assert_eq!(app.message(&t.live_key, &id).await["status"], "delivered");
    assert_eq!(rotate(None).await.status, 200);
    let p = wh::twilio_status("SMrot", "read", "+14155550100");
    assert_eq!(
        wh::twilio(&app.url, "/webhooks/twilio/status", &p, Some(TWILIO_TOKEN)).await.status(),
        401,
        "old token removed"
    );
    assert_eq!(
        wh::twilio(&app.url, "/webhooks/twilio/status", &p, Some("a1b2c3d4e5f60718293a4b5c6d7e8f90")).await.status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_that_beats_the_sender_is_not_lost() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, OURS).await;
    // The provider's delivered receipt arrives before Herald has stored the provider id.
    assert_eq!(
        wh::twilio(
            &app.url,
            "/webhooks/twilio/status",
            &wh::twilio_status("SMearly", "delivered", "+14155550100"),
            Some(TWILIO_TOKEN)
        )
        .await
        .status(),
        200
    );
    app.sim.next_message_id(SimProvider::Twilio, "SMearly");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "quick"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "delivered", WAIT).await;
    assert!(m["delivered_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_verification_statuses_and_inbound_window() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_whatsapp(&t).await;
    let ok = reqwest::get(format!(
        "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444",
        app.url
    ))
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let bad =
        reqwest::get(format!("{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", app.url))
            .await
            .unwrap();
    assert_eq!(bad.status(), 403);
    // Outside the window free text is refused; an inbound message opens it.
    assert_eq!(
        app.send(&t.live_key, json!({"channel": "whatsapp", "to": "+16505551234", "body": "hi"})).await.code(),
        "WHATSAPP_TEMPLATE_REQUIRED"
    );
    let inbound = wh::whatsapp_envelope(
        "106540352242922",
        json!({"contacts": [{"profile": {"name": "Kim"}, "wa_id": "16505551234"}], "messages": [{"from": "16505551234", "id": "wamid.in2", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": "What time is service?"}}]}),
    );
    assert_eq!(wh::whatsapp(&app.url, &inbound, "TEST_APP_SECRET").await.status(), 200);
    app.sim.next_message_id(SimProvider::Whatsapp, "wamid.out1");
    let r = app.send(&t.live_key, json!({"channel": "whatsapp", "to": "+16505551234", "body": "10am"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    let status = |s: &str| {
        wh::whatsapp_envelope(
            "106540352242922",
            // Meta echoes the biz_opaque_callback_data Herald sent with the message.
            json!({"statuses": [{"id": "wamid.out1", "status": s, "timestamp": "1700000000", "recipient_id": "16505551234", "biz_opaque_callback_data": id}]}),
        )
    };
    assert_eq!(wh::whatsapp(&app.url, &status("read"), "TEST_APP_SECRET").await.status(), 200);
    assert_eq!(app.message(&t.live_key, &id).await["status"], "read", "read may come without delivered");
    assert_eq!(wh::whatsapp(&app.url, &status("delivered"), "TEST_APP_SECRET").await.status(), 200);
    assert_eq!(app.message(&t.live_key, &id).await["status"], "read", "never backwards");
    // A failed status with the official fixture's error (131047).
    app.sim.next_message_id(SimProvider::Whatsapp, "wamid.X");
    let r = app
        .send(
            &t.live_key,
            json!({"channel": "whatsapp", "to": "+16505551234", "template": {"name": "t", "language": "en"}}),
        )
        .await;
    let id2 = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id2, "sent", WAIT).await;
    let fixture: Value =
        serde_json::from_str(include_str!("../../../shared/providers/fixtures/wa_status_body.json")).unwrap();
    let mut fixture = fixture;
    fixture["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("106540352242922");
    assert_eq!(wh::whatsapp(&app.url, &fixture, "TEST_APP_SECRET").await.status(), 200);
    let m = app.message(&t.live_key, &id2).await;
    assert_eq!((m["status"].as_str(), m["error_code"].as_str()), (Some("failed"), Some("WINDOW_EXPIRED")));
}

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A tenant endpoint that fails the first `fail_first` calls and is slow to answer.
async fn callback_endpoint(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let calls = Arc::new(Mutex::new(0usize));
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = s2.clone();
            let calls = calls.clone();
            async move {
                let n = {
                    let mut c = calls.lock().unwrap();
                    *c += 1;
                    *c
                };
                tokio::time::sleep(Duration::from_millis(300)).await;
                if n <= fail_first {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push((headers["herald-signature"].to_str().unwrap().to_string(), body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn verify(secret: &str, header: &str, body: &str) -> bool {
    use hmac::Mac;
    let (t, v1) = header.split_once(",v1=").unwrap();
    let t = t.trim_start_matches("t=");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_get_signed_callbacks_retried_without_delaying_webhooks() {
    let app = spawn_app(&[]).await;
    let created = app.post("/v1/admin/tenants", &app.admin_key, json!({"name": "CB", "timezone": "UTC"})).await;
    let t = TestTenant {
        id: created.body["id"].as_str().unwrap().into(),
        live_key: created.body["api_key"].as_str().unwrap().into(),
        test_key: created.body["test_api_key"].as_str().unwrap().into(),
    };
    let secret = created.body["callback_secret"].as_str().unwrap().to_string();
    app.configure_twilio(&t, OURS).await;
    let (url, seen) = callback_endpoint(2).await;
    app.sim.next_message_id(SimProvider::Twilio, "SMcb");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "cb", "callback_url": url, "metadata": {"order": "A-1"}})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    let started = Instant::now();
    let resp = wh::twilio(
        &app.url,
        "/webhooks/twilio/status",
        &wh::twilio_status("SMcb", "delivered", "+14155550100"),
        Some(TWILIO_TOKEN),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the webhook answer does not wait for the tenant's endpoint"
    );
    let got = eventually(Duration::from_secs(40), "both callbacks delivered after retries", || async {
        let s = seen.lock().unwrap().clone();
        let statuses: Vec<String> = s
            .iter()
            .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["status"].as_str().unwrap().to_string())
            .collect();
        (statuses.contains(&"sent".to_string()) && statuses.contains(&"delivered".to_string())).then_some(s)
    })
    .await;
    for (sig, body) in &got {
        assert!(verify(&secret, sig, body), "Herald-Signature verifies with the tenant's secret");
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["id"], id.as_str());
        assert_eq!((v["metadata"]["order"].as_str(), v["mode"].as_str()), (Some("A-1"), Some("live")));
    }

    // Security review M-1: a test key never sees the live secret, and a test message's
    // callback is signed with the test secret, saying "mode": "test".
    let seen_by_test = app.get("/v1/tenant", &t.test_key).await.body;
    assert!(seen_by_test.get("callback_secret").is_none(), "{seen_by_test}");
    let test_secret = seen_by_test["test_callback_secret"].as_str().unwrap().to_string();
    assert_ne!(test_secret, secret);
    let (url, seen) = callback_endpoint(0).await;
    let r =
        app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "t", "callback_url": url})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let got = eventually(Duration::from_secs(40), "the test callback", || async {
        let s = seen.lock().unwrap().clone();
        (!s.is_empty()).then_some(s)
    })
    .await;
    let (sig, body) = &got[0];
    assert!(verify(&test_secret, sig, body) && !verify(&secret, sig, body), "signed with the test secret only");
    assert_eq!(serde_json::from_str::<Value>(body).unwrap()["mode"], "test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_bounces_and_complaints_put_the_address_on_the_list() {
    let app = spawn_app(&[("AWS_REGION", "eu-north-1")]).await;
    let t = app.create_tenant(json!({})).await;
    app.email_identity(&t, "grace.example").await;
    app.put("/v1/channels/email", &t.live_key, json!({"provider": "ses", "from_address": "news@grace.example"})).await;
    let r =
        app.send(&t.live_key, json!({"channel": "email", "to": "gone@example.com", "subject": "s", "body": "b"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    let ses_id = m["provider_message_id"].as_str().unwrap();
    // SES events carry the message's tags, Herald's id among them.
    let tags = json!({"herald_tenant_id": [t.id], "herald_message_id": [m["id"]]});
    let bounce = json!({"eventType": "Bounce", "mail": {"messageId": ses_id, "tags": tags}, "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "Gone@Example.com"}]}});
    let r = app.post("/v1/admin/ses-events", &app.admin_key, bounce.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = app.message(&t.live_key, m["id"].as_str().unwrap()).await;
    assert_eq!(m["status"], "failed");
    let d = app.get("/v1/dnc/gone@example.com", &t.live_key).await;
    assert_eq!(d.body["reason"], "BOUNCE");
    let complaint = json!({"eventType": "Complaint", "mail": {"messageId": "other", "tags": {"herald_tenant_id": [t.id]}}, "complaint": {"complainedRecipients": [{"emailAddress": "angry@example.com"}]}});
    app.post("/v1/admin/ses-events", &app.admin_key, complaint).await;
    assert_eq!(app.get("/v1/dnc/angry@example.com", &t.live_key).await.body["reason"], "COMPLAINT");
    assert_eq!(
        app.send(&t.live_key, json!({"channel": "email", "to": "angry@example.com", "subject": "s", "body": "b"}))
            .await
            .code(),
        "RECIPIENT_OPTED_OUT"
    );
}
