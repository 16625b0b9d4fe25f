//! Issue 10: what a tenant owns stays its own, test keys are a sandbox, operators outrank
//! tenants (CONTRACT §12). Each attack is tried as a hostile tenant would, and the victim's
//! state is checked unchanged afterwards.
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{SimProvider, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_TOKEN};
use herald_tests::{spawn_app, TestApp, TestTenant};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const OTHER_SID: &str = "AC0000000000000000000000000000000b";
const OTHER_TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn sms_sent(app: &TestApp, t: &TestTenant, to: &str, sid: &str) -> String {
    app.sim.next_message_id(SimProvider::Twilio, sid);
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": to, "body": "your code is 1234"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_domain_belongs_to_one_tenant() {
    let app = spawn_app(&[]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.email_identity(&a, "brand.example.com").await;
    for identity in ["brand.example.com", "news@brand.example.com", "BRAND.example.com"] {
        let r = app.post("/v1/email/identities", &b.live_key, json!({"identity": identity})).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{identity}: {}", r.body);
    }
    let channel = json!({"provider": "ses", "from_address": "ceo@brand.example.com"});
    let r = app.put("/v1/channels/email", &b.live_key, channel.clone()).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "IDENTITY_NOT_VERIFIED"), "{}", r.body);
    // B's own domain works, but a message may not claim A's domain as its sender.
    app.email_identity(&b, "b-shop.example").await;
    let ok = json!({"provider": "ses", "from_address": "hello@b-shop.example"});
    assert_eq!(app.put("/v1/channels/email", &b.live_key, ok).await.status, 200);
    let spoof =
        json!({"channel": "email", "to": "x@y.example", "from": "ceo@brand.example.com", "subject": "s", "body": "b"});
    let r = app.send(&b.live_key, spoof).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "IDENTITY_NOT_VERIFIED"), "{}", r.body);
    // A sends from its domain, from any address in it.
    assert_eq!(app.put("/v1/channels/email", &a.live_key, channel).await.status, 200);
    let r = app.get("/v1/email/identities/brand.example.com", &a.live_key).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("verified")), "{}", r.body);
    assert!(r.body["dkim_records"].is_array());
    assert_eq!(app.get("/v1/email/identities/brand.example.com", &b.live_key).await.status, 404);
    let r = app.send(&a.live_key, json!({"channel": "email", "to": "x@y.example", "from": "sales@brand.example.com", "subject": "s", "body": "b"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    app.wait_status(&a.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_number_cannot_be_taken_over() {
    let app = spawn_app(&[]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.configure_whatsapp(&a).await;
    let takeover = json!({"phone_number_id": "106540352242922", "access_token": WHATSAPP_TOKEN, "app_secret": "attacker", "verify_token": "v", "daily_quota": 10});
    let r = app.put("/v1/channels/whatsapp", &b.live_key, takeover).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{}", r.body);
    app.sim.whatsapp_number_for("EAAGotheraccount", "222222222222222");
    let unreachable = json!({"phone_number_id": "222222222222222", "access_token": WHATSAPP_TOKEN, "app_secret": "s", "verify_token": "v"});
    let r = app.put("/v1/channels/whatsapp", &b.live_key, unreachable).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "WHATSAPP_NUMBER_NOT_ACCESSIBLE"), "{}", r.body);
    // A's routing is unchanged: its inbound STOP still arrives, signed with A's secret.
    let inbound = wh::whatsapp_envelope(
        "106540352242922",
        json!({"contacts": [], "messages": [{"from": "14155550100", "id": "wamid.IN1", "timestamp": "1700000000", "text": {"body": "STOP"}, "type": "text"}]}),
    );
    assert_eq!(wh::whatsapp(&app.url, &inbound, "attacker").await.status(), 401);
    assert_eq!(wh::whatsapp(&app.url, &inbound, "TEST_APP_SECRET").await.status(), 200);
    assert_eq!(app.get("/v1/dnc/+14155550100", &a.live_key).await.status, 200);
    assert_eq!(app.get("/v1/dnc/+14155550100", &b.live_key).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_claimed_once_and_only_from_the_tenants_own_account() {
    let app = spawn_app(&[("HERALD_LINKING_SEARCH_DELAYS", "10ms,10ms")]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.configure_twilio(&a, "+14155550001").await;
    // B not on A's account: A's signing secret is A's alone (L-2); and a number of the
    // platform's account is only ever bought, never claimed by naming it.
    let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
    assert_eq!(app.put("/v1/channels/sms", &b.live_key, creds.clone()).await.status, 409);
    assert_eq!(app.put("/v1/admin/platform/channels/sms", &app.admin_key, creds).await.status, 200);
    let r = app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550009", "provider": "twilio"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "NUMBER_NOT_IN_ACCOUNT"), "{}", r.body);
    // On its own account, whose pool also lists A's number: still A's.
    app.sim.twilio_number_in(OTHER_SID, OTHER_TOKEN, "+14155550066");
    let own =
        json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": OTHER_SID, "auth_token": OTHER_TOKEN}}});
    assert_eq!(app.put("/v1/channels/sms", &b.live_key, own).await.status, 200);
    let r = app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550001", "provider": "twilio"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{}", r.body);
    app.sim.twilio_number_in("AC0000000000000000000000000000000c", "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "+14155550077");
    let r = app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550077", "provider": "twilio"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "NUMBER_NOT_IN_ACCOUNT"), "{}", r.body);
    let telnyx = json!({"provider": "telnyx", "credentials": {"telnyx": {"api_key": herald_tests::sim::TELNYX_KEY, "messaging_profile_id": "40019a80-d883-4618-953b-dad1610b39f4"}}});
    assert_eq!(app.put("/v1/channels/sms", &b.live_key, telnyx).await.status, 200);
    app.sim.telnyx_foreign_number("+14155550088");
    let r = app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550088", "provider": "telnyx"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "NUMBER_NOT_IN_ACCOUNT"), "{}", r.body);
    let numbers = app.get("/v1/numbers", &b.live_key).await;
    assert_eq!(numbers.body.as_array().map(Vec::len), Some(0), "nothing was registered: {}", numbers.body);
    // A still sends from its number.
    sms_sent(&app, &a, "+14155550100", "SMa1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_apply_only_within_the_tenant_that_signed_them() {
    let app = spawn_app(&[]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.configure_twilio(&a, "+14155550001").await;
    let victim = sms_sent(&app, &a, "+14155550100", "SMvictim").await;
    // B configures its own Twilio account and number, then signs a receipt for A's message.
    app.sim.twilio_number_in(OTHER_SID, OTHER_TOKEN, "+14155550066");
    let creds =
        json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": OTHER_SID, "auth_token": OTHER_TOKEN}}});
    assert_eq!(app.put("/v1/channels/sms", &b.live_key, creds).await.status, 200);
    let r = app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550066", "provider": "twilio"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let forged = [
        ("AccountSid", OTHER_SID),
        ("From", "+14155550066"),
        ("MessageSid", "SMvictim"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
        ("To", "+14155550100"),
    ];
    let res = wh::twilio(&app.url, "/webhooks/twilio/status", &forged, Some(OTHER_TOKEN)).await;
    assert_eq!(res.status(), 200, "validly signed by B: answered, and applied to nothing");
    let m = app.message(&a.live_key, &victim).await;
    assert_eq!(m["status"], "sent", "the victim's message is untouched: {m}");
    assert!(m["error_code"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_key_is_a_sandbox() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let live = sms_sent(&app, &t, "+14155550100", "SMlive").await;
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "sandbox"})).await;
    let test = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.test_key, &test, "delivered", WAIT).await;
    // Each mode sees its own messages only, by id and by list.
    assert_eq!(app.get(&format!("/v1/messages/{live}"), &t.test_key).await.status, 404);
    assert_eq!(app.get(&format!("/v1/messages/{test}"), &t.live_key).await.status, 404);
    let ids = |r: herald_tests::Reply| -> Vec<String> {
        r.body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(app.get("/v1/messages", &t.test_key).await), vec![test.clone()]);
    assert_eq!(ids(app.get("/v1/messages", &t.live_key).await), vec![live.clone()]);
    // It reads configuration, and changes nothing.
    assert_eq!(app.get("/v1/channels", &t.test_key).await.status, 200);
    let forbidden = [
        app.put("/v1/channels/sms", &t.test_key, json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": OTHER_SID, "auth_token": OTHER_TOKEN}}})).await,
        app.put("/v1/dnc/+14155550123", &t.test_key, json!({})).await,
        app.delete("/v1/dnc/+14155550123", &t.test_key).await,
        app.post("/v1/tenant/pause", &t.test_key, json!({"reason": "x"})).await,
        app.post("/v1/tenant/resume", &t.test_key, json!({})).await,
        app.patch("/v1/tenant", &t.test_key, json!({"name": "pwned"})).await,
        app.post("/v1/numbers", &t.test_key, json!({"phone_number": "+14155550009", "provider": "twilio"})).await,
        app.post("/v1/email/identities", &t.test_key, json!({"identity": "x.example"})).await,
    ];
    for r in forbidden {
        assert_eq!((r.status.as_u16(), r.code()), (403, "TEST_KEY_FORBIDDEN"), "{}", r.body);
    }
    let channels = app.get("/v1/channels", &t.live_key).await;
    assert_eq!(channels.body[0]["provider"], "twilio", "live credentials unchanged");
    // The same Idempotency-Key under both modes: two messages, the live one really sent.
    let body = json!({"channel": "sms", "to": "+14155550155", "body": "once"});
    let h = [("idempotency-key", "order-42")];
    let t1 = app.call(reqwest::Method::POST, "/v1/messages", Some(&t.test_key), Some(body.clone()), &h).await;
    let l1 = app.call(reqwest::Method::POST, "/v1/messages", Some(&t.live_key), Some(body), &h).await;
    assert_eq!((t1.status.as_u16(), l1.status.as_u16()), (202, 202));
    assert_ne!(t1.body["id"], l1.body["id"], "the live send is not swallowed");
    app.wait_status(&t.live_key, l1.body["id"].as_str().unwrap(), "sent", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_outrank_tenants() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({"daily_budget_cents": 500})).await;
    // The tenant's own pause it lifts itself; the operator's it cannot.
    assert_eq!(app.post("/v1/tenant/pause", &t.live_key, json!({"reason": "maintenance"})).await.status, 200);
    assert_eq!(app.post("/v1/tenant/resume", &t.live_key, json!({})).await.status, 200);
    let admin_pause = format!("/v1/admin/tenants/{}/pause", t.id);
    assert_eq!(app.post(&admin_pause, &app.admin_key, json!({"reason": "compliance"})).await.status, 200);
    let r = app.post("/v1/tenant/resume", &t.live_key, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PAUSED_BY_OPERATOR"));
    assert!(app.get("/v1/tenant", &t.live_key).await.body["paused"].is_object(), "still paused");
    // Ceilings: the operator's lowers the tenant's settings; the tenant cannot go above.
    let r = app
        .patch(
            &format!("/v1/admin/tenants/{}", t.id),
            &app.admin_key,
            json!({"max_daily_budget_cents": 100, "max_rate_limit_per_minute": 60}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["daily_budget_cents"].as_u64()), (200, Some(100)), "{}", r.body);
    for over in
        [json!({"daily_budget_cents": 1000}), json!({"daily_budget_cents": null}), json!({"rate_limit_per_minute": 61})]
    {
        let r = app.patch("/v1/tenant", &t.live_key, over).await;
        assert_eq!((r.status.as_u16(), r.code()), (422, "ABOVE_OPERATOR_LIMIT"), "{}", r.body);
    }
    let r = app.patch("/v1/tenant", &t.live_key, json!({"max_daily_budget_cents": 100000})).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.patch("/v1/tenant", &t.live_key, json!({"daily_budget_cents": 80})).await.status, 200);
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}", t.id), &app.admin_key).await;
    let text = audit.body.to_string();
    assert!(text.contains("tenant.pause") && text.contains("max_daily_budget_cents"), "{text}");
    assert!(!text.contains("whsec_"), "no callback secret in the audit log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_secrets_oversized_fields_and_private_callbacks_are_refused() {
    let app = spawn_app(&[("HERALD_ALLOW_HTTP_CALLBACKS", "false")]).await;
    let t = app.create_tenant(json!({})).await;
    for token in ["", "short", "zz000000000000000000000000000000"] {
        let body =
            json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": token}}});
        let r = app.put("/v1/channels/sms", &t.live_key, body).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "{token:?}: {}", r.body);
        assert!(r.body["error"]["fields"]["credentials.twilio.auth_token"].is_string(), "{}", r.body);
    }
    let subject = "s".repeat(100 * 1024);
    let r =
        app.send(&t.test_key, json!({"channel": "email", "to": "a@b.example", "subject": subject, "body": "x"})).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["fields"]["subject"].as_str()),
        (400, Some("TOO_LONG")),
        "{}",
        r.body
    );
    let params: Vec<String> = (0..21).map(|i| i.to_string()).collect();
    let r = app.send(&t.test_key, json!({"channel": "whatsapp", "to": "+14155550100", "template": {"name": "t", "language": "en", "parameters": params}})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let big: serde_json::Map<String, serde_json::Value> =
        (0..8).map(|i| (format!("k{i}"), json!("v".repeat(400)))).collect();
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "x", "metadata": big})).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["fields"]["metadata"].as_str()),
        (400, Some("TOO_LARGE")),
        "{}",
        r.body
    );
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://localhost:8443/x",
    ] {
        let r = app
            .send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "x", "callback_url": url}))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.body["error"]["fields"]["callback_url"].as_str()),
            (400, Some("FORBIDDEN_TARGET")),
            "{url}: {}",
            r.body
        );
    }
}
