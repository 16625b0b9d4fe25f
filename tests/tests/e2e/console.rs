//! Issue 12: the operator's console (CONTRACT §13) through the API, against moto and the
//! simulator: circuit overrides, budget resets, message lookups and lists, retry-now, the
//! WhatsApp quota view and the audit trail's filters and cursor.
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{Fault, SimProvider, TWILIO_SID};
use herald_tests::{eventually, spawn_app};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_opens_and_closes_a_circuit_by_hand_and_each_change_is_audited() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let path = |action: &str| format!("/v1/admin/circuits/twilio/{TWILIO_SID}/{action}");
    let r = app.post(&path("open"), &t.live_key, json!({"reason": "carrier incident"})).await;
    assert_eq!(r.status, 403, "tenant keys cannot touch circuits");
    let r = app.post("/v1/admin/circuits/pigeon/x/open", &app.admin_key, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "{}", r.body);

    let r = app.post(&path("open"), &app.admin_key, json!({"reason": "carrier incident INC-42"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["previous_state"].as_str()), (Some("forced_open"), Some("closed")));
    let health = app.get("/v1/system/health/providers", &app.admin_key).await;
    assert!(health.body.as_array().unwrap().iter().any(|p| p["account"] == TWILIO_SID && p["state"] == "forced_open"));

    let sent = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155556001", "body": "held"})).await;
    let id = sent.body["id"].as_str().unwrap().to_string();
    eventually(WAIT, "held by the forced circuit", || async {
        (app.message(&t.live_key, &id).await["hold_reason"] == "PROVIDER_CIRCUIT_OPEN").then_some(())
    })
    .await;
    // A forced circuit has no probe: the dispatch job's release is held again, nothing is sent.
    app.run_job("dispatch").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.sim.requests(SimProvider::Twilio).is_empty(), "nothing reached Twilio while forced open");

    let r = app.post(&path("close"), &app.admin_key, json!({"reason": "INC-42 resolved"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["state"].as_str(), r.body["previous_state"].as_str()), (Some("closed"), Some("forced_open")));
    app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 1);

    let audit = app.get("/v1/admin/audit?action=circuit.", &app.admin_key).await;
    let entries = audit.body["entries"].as_array().unwrap();
    let got: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["action"].as_str().unwrap(), e["detail"]["reason"].as_str().unwrap())).collect();
    assert_eq!(got, vec![("circuit.close", "INC-42 resolved"), ("circuit.open", "carrier incident INC-42")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reads_and_resets_a_tenant_budget_with_a_reason() {
    let app = spawn_app(&[("HERALD_SMS_PRICES", "US=1,default=5")]).await;
    let t = app.create_tenant(json!({"daily_budget_cents": 2, "monthly_budget_cents": 100})).await;
    app.configure_twilio(&t, "+14155550001").await;
    for i in 0..2 {
        let r = app.send(&t.live_key, json!({"channel": "sms", "to": format!("+141555570{i:02}"), "body": "x"})).await;
        assert_eq!(r.status, 202);
    }
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155557099", "body": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (402, "BUDGET_EXCEEDED"));
    let budget = format!("/v1/admin/tenants/{}/budget", t.id);
    assert_eq!(app.get(&budget, &t.live_key).await.status, 403);
    let b = app.get(&budget, &app.admin_key).await;
    assert_eq!((b.body["daily_spent_cents"].as_i64(), b.body["monthly_spent_cents"].as_i64()), (Some(2), Some(2)));

    let reset = format!("{budget}/reset");
    let r = app.post(&reset, &app.admin_key, json!({"period": "day"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "a reason is required");
    let r = app.post(&reset, &app.admin_key, json!({"period": "week", "reason": "x"})).await;
    assert_eq!(r.status, 400);
    let r = app.post(&reset, &app.admin_key, json!({"period": "day", "reason": "approved overage"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["daily_spent_cents"].as_i64(), r.body["monthly_spent_cents"].as_i64()), (Some(0), Some(2)));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155557099", "body": "x"})).await;
    assert_eq!(r.status, 202, "sending again after the reset: {}", r.body);

    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}&action=budget.reset", t.id), &app.admin_key).await;
    let e = &audit.body["entries"][0];
    assert_eq!(
        (e["detail"]["reason"].as_str(), e["detail"]["spent_cents_before"].as_i64()),
        (Some("approved overage"), Some(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backed_off_messages_are_listed_across_tenants_and_retried_now() {
    let app = spawn_app(&[("HERALD_RETRY_BACKOFF", "300s"), ("HERALD_RETRY_JITTER", "0")]).await;
    let t = app.create_tenant(json!({})).await;
    let other = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 1, Fault::status(503));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155558101", "body": "retry me"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    eventually(WAIT, "the first attempt failed and backs off", || async {
        let m = app.message(&t.live_key, &id).await;
        (m["status"] == "queued" && m["attempts"].as_array().is_some_and(|a| a.len() == 1)).then_some(())
    })
    .await;

    // Any tenant's message by id, for the admin only.
    let one = app.get(&format!("/v1/admin/messages/{id}"), &app.admin_key).await;
    assert_eq!((one.status.as_u16(), one.body["tenant_id"].as_str()), (200, Some(t.id.as_str())));
    assert_eq!(app.get(&format!("/v1/admin/messages/{id}"), &other.live_key).await.status, 403);
    // In-flight lists need no tenant; final statuses do (no scans).
    let list = app.get("/v1/admin/messages?status=queued&min_attempts=1", &app.admin_key).await;
    let ids: Vec<&str> = list.body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![id.as_str()], "{}", list.body);
    let none = app.get(&format!("/v1/admin/messages?status=queued&tenant_id={}", other.id), &app.admin_key).await;
    assert_eq!(none.body["messages"].as_array().map(Vec::len), Some(0));
    let stuck = app.get("/v1/admin/messages?status=sending&older_than=10m", &app.admin_key).await;
    assert_eq!((stuck.status.as_u16(), stuck.body["messages"].as_array().map(Vec::len)), (200, Some(0)));
    let r = app.get("/v1/admin/messages?status=delivered", &app.admin_key).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"));
    let by_tenant = app.get(&format!("/v1/admin/messages?tenant_id={}&min_attempts=1", t.id), &app.admin_key).await;
    assert_eq!(by_tenant.body["messages"][0]["id"], id.as_str());

    // Five minutes of back-off left; retry-now lets it go at once.
    let r = app
        .post("/v1/admin/messages/retry-now", &app.admin_key, json!({"channel": "sms", "reason": "carrier back"}))
        .await;
    assert_eq!((r.status.as_u16(), r.body["released"].as_u64()), (200, Some(1)), "{}", r.body);
    let m = app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    assert_eq!(m["attempts"].as_array().map(Vec::len), Some(2));
    assert!(m["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("retry-now by admin")));
    let r = app.post("/v1/admin/messages/retry-now", &app.admin_key, json!({})).await;
    assert_eq!(r.body["released"], 0, "nothing is waiting any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_filters_by_action_and_time_and_pages_with_a_cursor() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    for reason in ["one", "two", "three"] {
        assert_eq!(
            app.post(&format!("/v1/admin/tenants/{}/pause", t.id), &app.admin_key, json!({"reason": reason}))
                .await
                .status,
            200
        );
    }
    let base = format!("/v1/admin/audit?tenant_id={}&action=tenant.pause", t.id);
    let first = app.get(&format!("{base}&limit=2"), &app.admin_key).await;
    let reasons = |v: &serde_json::Value| -> Vec<String> {
        v["entries"].as_array().unwrap().iter().map(|e| e["detail"]["reason"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(reasons(&first.body), vec!["three", "two"]);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor for the next page");
    let second = app.get(&format!("{base}&limit=2&cursor={cursor}"), &app.admin_key).await;
    assert_eq!(reasons(&second.body), vec!["one"]);
    let later = app.get(&format!("{base}&since=2999-01-01T00:00:00Z"), &app.admin_key).await;
    assert_eq!(later.body["entries"].as_array().map(Vec::len), Some(0));
    let recent = app.get(&format!("{base}&since=1h"), &app.admin_key).await;
    assert_eq!(recent.body["entries"].as_array().map(Vec::len), Some(3));
    let bad = app.get(&format!("{base}&since=yesterday"), &app.admin_key).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whatsapp_quota_view_shows_use_limit_and_throttling() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_whatsapp(&t).await;
    let r = app
        .put("/v1/channels/whatsapp", &t.live_key, json!({"phone_number_id": "106540352242922", "access_token": herald_tests::sim::WHATSAPP_TOKEN, "app_secret": "s", "verify_token": "v", "daily_quota": 4}))
        .await;
    assert_eq!(r.status, 200);
    let q = app.get(&format!("/v1/admin/whatsapp/quota?tenant_id={}", t.id), &app.admin_key).await;
    assert_eq!((q.status.as_u16(), q.body["used"].as_u64()), (200, Some(0)), "{}", q.body);
    for i in 0..3 {
        let m = json!({"channel": "whatsapp", "to": format!("+1650555{:04}", 4000 + i), "priority": "urgent", "template": {"name": "promo", "language": "en_US"}});
        let r = app.send(&t.live_key, m).await;
        app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    }
    let q = app.get(&format!("/v1/admin/whatsapp/quota?tenant_id={}", t.id), &app.admin_key).await;
    assert_eq!((q.body["used"].as_u64(), q.body["limit"].as_u64()), (Some(3), Some(4)), "{}", q.body);
    assert_eq!((q.body["percent"].as_f64(), q.body["throttled"].as_bool()), (Some(75.0), Some(false)));
    let all = app.get("/v1/admin/whatsapp/quota", &app.admin_key).await;
    assert!(all.body["tenants"].as_array().unwrap().iter().any(|v| v["tenant_id"] == t.id.as_str()));
    assert_eq!(app.get("/v1/admin/whatsapp/quota", &t.live_key).await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_held_counts_come_from_the_change_stream_without_scans() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let t = app.create_tenant(json!({})).await;
    let quiet = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let mut sent = Vec::new();
    for i in 0..3 {
        let (sid, to) = (format!("SM{i:032}"), format!("+141555590{i:02}"));
        app.sim.next_message_id(SimProvider::Twilio, &sid);
        let r = app.send(&t.live_key, json!({"channel": "sms", "to": to, "body": "stats"})).await;
        app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
        sent.push((sid, to));
    }
    app.sim.fail_next(SimProvider::Twilio, 1, Fault::code(400, "21211"));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155559099", "body": "bad number"})).await;
    app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "failed", WAIT).await;
    for (sid, to) in &sent[..2] {
        let params = wh::twilio_status(sid, "delivered", to);
        let status = herald_tests::sim::webhooks::twilio(
            &app.url,
            "/webhooks/twilio/status",
            &params,
            Some(herald_tests::sim::TWILIO_TOKEN),
        )
        .await
        .status();
        assert_eq!(status, 200);
    }
    // Test keys' traffic is not counted.
    app.send(&t.test_key, json!({"channel": "sms", "to": "+14155559100", "body": "test"})).await;

    let stats = eventually(WAIT, "the stream counted every outcome", || async {
        let s = app.get("/v1/admin/stats?window=1h", &app.admin_key).await;
        (s.body["delivered"] == 2 && s.body["failed"] == 1).then_some(s.body)
    })
    .await;
    assert_eq!((stats["accepted"].as_i64(), stats["sent"].as_i64()), (Some(4), Some(3)), "{stats}");
    assert_eq!(stats["by_error_code"]["INVALID_PHONE_NUMBER"], 1, "{stats}");
    assert_eq!((stats["delivery_rate"].as_f64(), stats["failure_rate"].as_f64()), (Some(0.6667), Some(0.3333)));
    assert!(stats["latency_ms"]["p95"].as_i64().is_some(), "{stats}");
    assert_eq!(stats["top_tenants"], json!([{"tenant_id": t.id, "sent": 3}]));
    let mine = app.get(&format!("/v1/admin/stats?window=1h&tenant_id={}", quiet.id), &app.admin_key).await;
    assert_eq!((mine.body["accepted"].as_i64(), mine.body["delivery_rate"].is_null()), (Some(0), true));
    let email = app.get("/v1/admin/stats?window=1h&channel=email", &app.admin_key).await;
    assert_eq!(email.body["accepted"], 0);
    assert_eq!(app.get("/v1/admin/stats?window=30d", &app.admin_key).await.status, 400);
    assert_eq!(app.get("/v1/admin/stats", &t.live_key).await.status, 403);

    // Held per reason in the queue view, in and out.
    app.post(&format!("/v1/admin/tenants/{}/pause", t.id), &app.admin_key, json!({"reason": "audit"})).await;
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155559101", "body": "paused"})).await;
    let held_id = r.body["id"].as_str().unwrap().to_string();
    let held = |n: i64| {
        let app = &app;
        async move {
            eventually(WAIT, "the held count", || async {
                let q = app.queues().await;
                (q["sms"]["held"]["TENANT_PAUSED"].as_i64().unwrap_or(0) == n).then_some(())
            })
            .await
        }
    };
    held(1).await;
    app.post(&format!("/v1/admin/tenants/{}/resume", t.id), &app.admin_key, json!({})).await;
    app.wait_status(&t.live_key, &held_id, "sent", WAIT).await;
    held(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_describes_itself_including_the_providers_webhooks() {
    let app = spawn_app(&[]).await;
    let r = reqwest::get(format!("{}/openapi.json", app.url)).await.unwrap();
    assert_eq!(r.status(), 200, "no key needed");
    let doc: serde_json::Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method) in [
        ("/v1/messages", "post"),
        ("/v1/admin/stats", "get"),
        ("/v1/admin/circuits/{provider}/{account}/{action}", "post"),
        ("/webhooks/twilio/status", "post"),
        ("/webhooks/whatsapp", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} documented");
    }
    let send = &doc["paths"]["/v1/messages"]["post"];
    assert!(send["responses"]["402"].is_object() && send["requestBody"].is_object(), "{send}");
    assert!(doc["components"]["schemas"]["SendRequest"]["properties"]["channel"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_requests_messages_by_its_correlation_id() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let send = |cid: Option<&'static str>, to: &'static str| {
        let app = &app;
        let key = t.test_key.clone();
        async move {
            let headers: Vec<(&str, &str)> = cid.map(|c| vec![("x-correlation-id", c)]).unwrap_or_default();
            let body = json!({"channel": "sms", "to": to, "body": "hello"});
            app.call(reqwest::Method::POST, "/v1/messages", Some(&key), Some(body), &headers).await
        }
    };
    let a = send(Some("order-4711"), "+14155550141").await;
    send(Some("order-4711"), "+14155550142").await;
    let other = send(None, "+14155550143").await;
    let generated = other.headers["x-correlation-id"].to_str().unwrap().to_string();
    assert!(generated.starts_with("cor_"), "{generated}");

    let find = |cid: String| {
        let app = &app;
        let tenant = t.id.clone();
        async move {
            let r = app
                .get(&format!("/v1/admin/messages?tenant_id={tenant}&mode=test&correlation_id={cid}"), &app.admin_key)
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let mut to: Vec<String> =
                r.body["messages"].as_array().unwrap().iter().map(|m| m["to"].as_str().unwrap().to_string()).collect();
            to.sort();
            to
        }
    };
    assert_eq!(find("order-4711".into()).await, vec!["+14155550141", "+14155550142"]);
    assert_eq!(find(generated).await, vec!["+14155550143"]);
    assert_eq!(a.body["correlation_id"].as_str().or(Some("order-4711")), Some("order-4711"));
    let r = app.get("/v1/admin/messages?correlation_id=order-4711", &app.admin_key).await;
    assert_eq!((r.status.as_u16(), r.body["error"]["fields"]["tenant_id"].as_str()), (400, Some("TENANT_REQUIRED")));
}
