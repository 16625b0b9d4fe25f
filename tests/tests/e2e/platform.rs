//! Platform accounts (CONTRACT §15): tenants without provider accounts of their own buy
//! numbers into the operator's and send through it; receipts under the platform's
//! credentials reach only the tenant that owns the number or message; usage per tenant.
//! And security review L-2: one tenant's signing secret is never another's.
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{Fault, SimProvider, TELNYX_KEY, TWILIO_SID, TWILIO_TOKEN};
use herald_tests::{eventually, spawn_app, TestApp, TestTenant};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

async fn buy(app: &TestApp, t: &TestTenant, body: Value) -> String {
    let r = app.post("/v1/numbers", &t.live_key, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["phone_number"].as_str().unwrap().to_string()
}

/// Sends one SMS and waits until the provider took it; (message id, provider sid).
async fn send(app: &TestApp, t: &TestTenant, from: &str, sid: &str) -> String {
    app.sim.next_message_id(SimProvider::Twilio, sid);
    let r = app
        .send(&t.live_key, json!({"channel": "sms", "to": "+14155559123", "from": from, "body": "Service at 10am"}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_without_accounts_buy_numbers_and_send_through_the_platform() {
    let app = spawn_app(&[]).await;
    let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
    let church = app.create_tenant(json!({})).await;
    let plumber = app.create_tenant(json!({"name": "Joe's Plumbing"})).await;
    assert_eq!(app.put("/v1/admin/platform/channels/sms", &church.live_key, creds.clone()).await.status, 403);
    let r = app.put("/v1/admin/platform/channels/sms", &app.admin_key, creds).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get("/v1/channels", &church.live_key).await.body,
        json!([]),
        "the platform's channel is not the tenant's"
    );

    // Bought in an area code, into the platform's account, and assigned to the buyer.
    let a = buy(&app, &church, json!({"provider": "twilio", "area_code": "415", "purchase": true})).await;
    let b = buy(&app, &plumber, json!({"provider": "twilio", "area_code": "415", "purchase": true})).await;
    assert!(a.starts_with("+1415") && b.starts_with("+1415") && a != b, "{a} {b}");
    let bought: Vec<_> =
        app.sim.requests(SimProvider::TwilioNumbers).into_iter().filter(|r| r.path.starts_with("POST")).collect();
    assert_eq!(bought.len(), 2);
    assert!(bought.iter().all(|r| r.auth.as_deref() == Some(&format!("basic:{TWILIO_SID}:{TWILIO_TOKEN}"))));
    let listed = app.get("/v1/numbers", &church.live_key).await.body;
    assert_eq!(listed.as_array().map(|l| l.len()), Some(1), "{listed}");
    let r = app
        .post("/v1/numbers", &plumber.live_key, json!({"provider": "twilio", "phone_number": a, "purchase": true}))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "another tenant's number is never bought");
    let r = app
        .post("/v1/numbers", &plumber.live_key, json!({"provider": "twilio", "area_code": "41", "purchase": true}))
        .await;
    assert_eq!(r.status, 400);
    // The platform account's own number (not for sale) is never a tenant's: not by naming it,
    // not by "buying" it, not on a second try.
    let own = json!({"provider": "twilio", "phone_number": "+14155550042"});
    let r = app.post("/v1/numbers", &plumber.live_key, own).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "NUMBER_NOT_IN_ACCOUNT"), "{}", r.body);
    for _ in 0..2 {
        let buy_own = json!({"provider": "twilio", "phone_number": "+14155550042", "purchase": true});
        let r = app.post("/v1/numbers", &plumber.live_key, buy_own).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{}", r.body);
    }

    // Each sends through the platform account; a receipt reaches only its own tenant.
    let ma = send(&app, &church, &a, "SM000000000000000000000000000000aa").await;
    let mb = send(&app, &plumber, &b, "SM000000000000000000000000000000bb").await;
    let via: Vec<_> = app.sim.requests_from(SimProvider::Twilio, &a);
    assert_eq!(via[0].auth.as_deref(), Some(format!("basic:{TWILIO_SID}:{TWILIO_TOKEN}").as_str()));
    // A receipt naming the church's message but the plumber's number changes nothing.
    let forged = wh::twilio_status("SM000000000000000000000000000000aa", "undelivered", "+14155559123");
    let mut forged: Vec<(&str, &str)> = forged.into_iter().filter(|(k, _)| *k != "From").collect();
    forged.push(("From", b.as_str()));
    wh::twilio(&app.url, "/webhooks/twilio/status", &forged, Some(TWILIO_TOKEN)).await;
    let real = wh::twilio_status("SM000000000000000000000000000000bb", "delivered", "+14155559123");
    let mut real: Vec<(&str, &str)> = real.into_iter().filter(|(k, _)| *k != "From").collect();
    real.push(("From", b.as_str()));
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/status", &real, Some(TWILIO_TOKEN)).await.status(), 200);
    app.wait_status(&plumber.live_key, &mb, "delivered", WAIT).await;
    assert_eq!(app.message(&church.live_key, &ma).await["status"], "sent", "the church's message is untouched");

    // A reply to the plumber's number, signed with the platform's token, is the plumber's.
    let reply = [
        ("AccountSid", TWILIO_SID),
        ("From", "+14155559123"),
        ("To", b.as_str()),
        ("Body", "STOP"),
        ("MessageSid", "SMreply1"),
    ];
    assert_eq!(wh::twilio(&app.url, "/webhooks/twilio/inbound", &reply, Some(TWILIO_TOKEN)).await.status(), 200);
    assert_eq!(app.get("/v1/dnc/+14155559123", &plumber.live_key).await.status, 200, "the plumber's opt-out");
    assert_eq!(app.get("/v1/dnc/+14155559123", &church.live_key).await.status, 404, "not the church's");

    // Spend per tenant, with no budget set.
    let usage = eventually(WAIT, "usage counts the send", || async {
        let u = app.get("/v1/tenant/usage", &church.live_key).await.body;
        (u["channels"][0]["messages"] == 1).then_some(u)
    })
    .await;
    assert!(usage["total_cost_cents"].as_i64().unwrap() > 0 && usage["monthly_budget_cents"].is_null(), "{usage}");
    assert_eq!(usage["channels"][0]["channel"], "sms");
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(usage["month"], month);
    let before = app.get("/v1/tenant/usage?month=2020-01", &church.live_key).await.body;
    assert_eq!((before["channels"].clone(), before["total_cost_cents"].clone()), (json!([]), json!(0)));
    assert_eq!(app.get("/v1/tenant/usage?month=soon", &church.live_key).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telnyx_numbers_are_bought_by_area_code_and_signing_secrets_are_one_tenants() {
    let app = spawn_app(&[]).await;
    let platform = json!({"provider": "telnyx", "credentials": {"telnyx": {"api_key": TELNYX_KEY, "messaging_profile_id": "40017f8e-49bd-4f28-9a3b-8e8b0ed1a7a1"}}});
    assert_eq!(app.put("/v1/admin/platform/channels/sms", &app.admin_key, platform).await.status, 200);
    let t = app.create_tenant(json!({})).await;
    let r =
        app.post("/v1/numbers", &t.live_key, json!({"provider": "telnyx", "area_code": "512", "purchase": true})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["phone_number"].as_str().unwrap().starts_with("+1512"), "{}", r.body);
    let paths: Vec<String> = app.sim.requests(SimProvider::TelnyxNumbers).into_iter().map(|r| r.path).collect();
    assert!(paths.iter().any(|p| p.starts_with("GET /v2/available_phone_numbers")), "{paths:?}");
    assert!(paths.iter().any(|p| p == "POST /v2/number_orders"), "{paths:?}");
    let named = json!({"provider": "telnyx", "phone_number": "+15125550999"});
    let r = app.post("/v1/numbers", &t.live_key, named).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "NUMBER_NOT_IN_ACCOUNT"), "a platform number is bought, not named");

    // L-2: a Twilio auth token (the signing secret) belongs to one tenant.
    let twilio = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
    let first = app.create_tenant(json!({})).await;
    let second = app.create_tenant(json!({})).await;
    assert_eq!(app.put("/v1/channels/sms", &first.live_key, twilio.clone()).await.status, 200);
    assert_eq!(app.put("/v1/channels/sms", &first.live_key, twilio.clone()).await.status, 200, "its own again");
    let r = app.put("/v1/channels/sms", &second.live_key, twilio).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{}", r.body);
}

/// A purchase whose answer never came is not repeated blindly: the answer names the number,
/// and the retry naming it finishes that purchase without buying again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_without_an_answer_is_finished_not_repeated() {
    let app = spawn_app(&[]).await;
    let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
    assert_eq!(app.put("/v1/admin/platform/channels/sms", &app.admin_key, creds).await.status, 200);
    let t = app.create_tenant(json!({})).await;
    app.sim.fail_next(SimProvider::TwilioNumbers, 1, Fault::SlowAccept { delay_ms: 3000 });
    let r =
        app.post("/v1/numbers", &t.live_key, json!({"provider": "twilio", "area_code": "212", "purchase": true})).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap().to_string();
    let number: String = message.split('"').find(|p| p.starts_with("+1212")).expect("the number is named").into();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let other = app.create_tenant(json!({})).await;
    let r = app
        .post("/v1/numbers", &other.live_key, json!({"provider": "twilio", "phone_number": number, "purchase": true}))
        .await;
    assert_eq!(r.status, 409, "another tenant cannot take a purchase in flight: {}", r.body);
    let r = app
        .post("/v1/numbers", &t.live_key, json!({"provider": "twilio", "phone_number": number, "purchase": true}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let posts = app.sim.requests(SimProvider::TwilioNumbers).into_iter().filter(|r| r.path.starts_with("POST")).count();
    assert_eq!(posts, 1, "bought once");
}
