//! Issue 3: guards that refuse with a clear code or hold visibly — never drop.
use herald_tests::sim::{Fault, SimProvider};
use herald_tests::{eventually, spawn_app, spawn_app_with_clock, TestClock};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn in_secs(s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(s)).to_rfc3339()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_holds_everything_then_releases_it_once_in_order() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let a = app.create_tenant(json!({"name": "Paused"})).await;
    let b = app.create_tenant(json!({"name": "Unaffected"})).await;
    app.configure_twilio(&a, "+14155550001").await;
    app.use_platform_twilio(&b, "+14155550002").await;
    // 10 messages that will be sitting in the queue when the pause lands.
    let mut queued_ids = Vec::new();
    for i in 0..10 {
        let r = app
            .send(
                &a.live_key,
                json!({"channel": "sms", "to": "+14155550150", "body": format!("early {i}"), "send_at": in_secs(3)}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        queued_ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let r = app
        .post(&format!("/v1/admin/tenants/{}/pause", a.id), &app.admin_key, json!({"reason": "suspected breach"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["paused"]["reason"], "suspected breach");
    let mut held_ids = Vec::new();
    for i in 0..20 {
        let r =
            app.send(&a.live_key, json!({"channel": "sms", "to": "+14155550100", "body": format!("n={i:02}")})).await;
        assert_eq!(r.status, 202, "{}", r.body);
        assert_eq!(r.body["status"], "queued");
        held_ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let m = app.message(&a.live_key, &held_ids[0]).await;
    assert_eq!(m["hold_reason"], "TENANT_PAUSED");
    // The other tenant keeps sending meanwhile.
    let rb = app.send(&b.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "b"})).await;
    app.wait_status(&b.live_key, rb.body["id"].as_str().unwrap(), "sent", WAIT).await;
    // The early ten reach the queue, the sender sees the pause and parks them.
    for id in &queued_ids {
        eventually(WAIT, "early message held by the sender", || async {
            let m = app.message(&a.live_key, id).await;
            (m["hold_reason"] == "TENANT_PAUSED"
                && m["status"] == "queued"
                && m["history"].as_array().unwrap().len() >= 2)
                .then_some(())
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        app.sim.requests_from(SimProvider::Twilio, "+14155550001").len(),
        0,
        "nothing of the paused tenant reached the provider"
    );
    assert_eq!(app.sim.requests_from(SimProvider::Twilio, "+14155550002").len(), 1);

    // An operator's pause is lifted by an operator only (CONTRACT §12).
    let r = app.post("/v1/tenant/resume", &a.live_key, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PAUSED_BY_OPERATOR"), "{}", r.body);
    let r = app.post(&format!("/v1/admin/tenants/{}/resume", a.id), &app.admin_key, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["released"], 30);
    for id in queued_ids.iter().chain(&held_ids) {
        app.wait_status(&a.live_key, id, "sent", WAIT).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = app.sim.requests_from(SimProvider::Twilio, "+14155550001");
    assert_eq!(calls.len(), 30, "each exactly once");
    let to_100: Vec<String> =
        calls.iter().filter(|c| c.form["To"] == "+14155550100").map(|c| c.form["Body"].clone()).collect();
    let mut sorted = to_100.clone();
    sorted.sort();
    assert_eq!(to_100, sorted, "per-recipient order kept");
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}", a.id), &app.admin_key).await;
    let actions: Vec<&str> =
        audit.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"tenant.pause") && actions.contains(&"tenant.resume"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_contact_refuses_at_the_api_and_suppresses_what_was_already_accepted() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    // Accepted before the address is added.
    let early = app
        .send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "before", "send_at": in_secs(2)}))
        .await;
    assert_eq!(early.status, 202);
    let r = app.put("/v1/dnc/%2B1%20(415)%20555-0100", &t.live_key, json!({"reason": "asked by phone"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["address"], "+14155550100");
    let r = app.get("/v1/dnc/+14155550100", &t.live_key).await;
    assert_eq!(r.status, 200, "the two spellings are one entry: {}", r.body);
    assert_eq!(r.body["reason"], "asked by phone");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "after"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "RECIPIENT_OPTED_OUT"));
    let r = app
        .send(
            &t.live_key,
            json!({"channel": "whatsapp", "to": "+14155550100", "template": {"name": "t", "language": "en"}}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "RECIPIENT_OPTED_OUT"), "a phone entry blocks WhatsApp too");
    let m = app.wait_status(&t.live_key, early.body["id"].as_str().unwrap(), "suppressed", WAIT).await;
    assert_eq!(m["error_code"], "RECIPIENT_OPTED_OUT");
    assert!(app.sim.requests(SimProvider::Twilio).is_empty());
    let list = app.get("/v1/dnc", &t.live_key).await;
    assert_eq!(list.body["entries"].as_array().unwrap().len(), 1);
    assert_eq!(app.delete("/v1/dnc/+14155550100", &t.live_key).await.status, 204);
    assert_eq!(app.get("/v1/dnc/+14155550100", &t.live_key).await.status, 404);
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "welcome back"})).await;
    assert_eq!(r.status, 202);
    // Emails are lower-cased.
    app.put("/v1/dnc/Ann@Example.com", &t.live_key, json!({})).await;
    assert_eq!(app.get("/v1/dnc/ann@example.com", &t.live_key).await.status, 200);
}

fn hhmm(t: chrono::DateTime<chrono_tz::Tz>) -> String {
    t.format("%H:%M").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_defer_to_the_end_of_the_window_on_both_sides_of_utc() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    for zone in ["Asia/Tokyo", "America/Los_Angeles"] {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let local = chrono::Utc::now().with_timezone(&tz);
        let start = hhmm(local - chrono::Duration::hours(1));
        let end_local = local + chrono::Duration::hours(2);
        let r = app
            .patch("/v1/tenant", &t.live_key, json!({"quiet_hours": {"start": start, "end": hhmm(end_local)}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(
                &t.test_key,
                json!({"channel": "sms", "to": "+14155550100", "body": "late", "recipient_timezone": zone}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        assert_eq!(r.body["status"], "deferred", "{zone}");
        let until = chrono::DateTime::parse_from_rfc3339(r.body["deferred_until"].as_str().unwrap()).unwrap();
        let expected = end_local.with_second(0).unwrap().with_nanosecond(0).unwrap();
        assert_eq!(until.with_timezone(&tz), expected, "{zone}");
        let m = app.message(&t.test_key, r.body["id"].as_str().unwrap()).await;
        assert_eq!(m["hold_reason"], "QUIET_HOURS");
        // Urgent goes at once, and the bypass is recorded.
        let u = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "urgent", "recipient_timezone": zone, "priority": "urgent"})).await;
        assert_eq!(u.body["status"], "queued");
        let m = app.wait_status(&t.test_key, u.body["id"].as_str().unwrap(), "delivered", WAIT).await;
        assert!(m["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("quiet_hours_bypassed")));
    }
    // Zone inferred from a single-zone country (Japan) when none is given.
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo);
    app.patch("/v1/tenant", &t.live_key, json!({"quiet_hours": {"start": hhmm(local - chrono::Duration::hours(1)), "end": hhmm(local + chrono::Duration::hours(1))}})).await;
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+81312345678", "body": "jp"})).await;
    assert_eq!(r.body["status"], "deferred", "{}", r.body);
}

use chrono::Timelike;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_across_a_dst_change_then_release_when_the_window_ends() {
    // 22:30 CDT on 31 Oct 2026; Chicago falls back to CST at 02:00 that night.
    let clock = TestClock::at("2026-11-01T03:30:00Z");
    let app = spawn_app_with_clock(&[], Some(clock.clone())).await;
    let t = app
        .create_tenant(json!({"timezone": "America/Chicago", "quiet_hours": {"start": "21:00", "end": "09:00"}}))
        .await;
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+13125550100", "body": "sunday service"})).await;
    assert_eq!(r.body["status"], "deferred", "{}", r.body);
    assert_eq!(r.body["deferred_until"], "2026-11-01T15:00:00Z", "09:00 CST, not 09:00 CDT");
    let id = r.body["id"].as_str().unwrap();
    clock.set("2026-11-01T14:59:00Z");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.message(&t.test_key, id).await["status"], "deferred", "08:59 CST is still quiet");
    clock.set("2026-11-01T15:00:30Z");
    let m = app.wait_status(&t.test_key, id, "delivered", WAIT).await;
    assert_eq!(m["hold_reason"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_reservations_never_overrun_under_concurrency_and_are_released_on_failure() {
    let app = spawn_app(&[("HERALD_SMS_PRICES", "US=1,default=5")]).await;
    let t = app.create_tenant(json!({"daily_budget_cents": 20, "monthly_budget_cents": 1000})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let sends = (0..50).map(|i| {
        let app = &app;
        let key = t.live_key.clone();
        async move {
            app.send(&key, json!({"channel": "sms", "to": format!("+1415555{:04}", 1000 + i), "body": "one segment"}))
                .await
        }
    });
    let replies = futures::future::join_all(sends).await;
    let accepted = replies.iter().filter(|r| r.status == 202).count();
    let refused: Vec<_> = replies.iter().filter(|r| r.status != 202).collect();
    assert_eq!(accepted, 20);
    assert!(refused.iter().all(|r| r.status == 402 && r.code() == "BUDGET_EXCEEDED"));
    let b = app.get("/v1/tenant/budget", &t.live_key).await;
    assert_eq!(b.body["daily_spent_cents"], 20);
    assert_eq!(b.body["daily_budget_cents"], 20);
    assert_eq!(b.body["monthly_spent_cents"], 20);
    // A permanent failure gives its reservation back.
    let app2 = spawn_app(&[]).await;
    let t2 = app2.create_tenant(json!({"daily_budget_cents": 100})).await;
    app2.configure_twilio(&t2, "+14155550001").await;
    app2.sim.fail_next(SimProvider::Twilio, 1, Fault::code(400, "21211"));
    let r = app2.send(&t2.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "x"})).await;
    assert_eq!(app2.get("/v1/tenant/budget", &t2.live_key).await.body["daily_spent_cents"], 1);
    app2.wait_status(&t2.live_key, r.body["id"].as_str().unwrap(), "failed", WAIT).await;
    eventually(WAIT, "reservation released", || async {
        (app2.get("/v1/tenant/budget", &t2.live_key).await.body["daily_spent_cents"] == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after_past_the_per_minute_limit() {
    let clock = TestClock::at("2026-06-01T12:00:10Z");
    let app = spawn_app_with_clock(&[], Some(clock.clone())).await;
    let t = app.create_tenant(json!({"rate_limit_per_minute": 5})).await;
    for _ in 0..5 {
        assert_eq!(
            app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "x"})).await.status,
            202
        );
    }
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "RATE_LIMITED"));
    assert_eq!(r.headers["retry-after"], "50");
    clock.set("2026-06-01T12:01:00Z");
    assert_eq!(
        app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "x"})).await.status,
        202,
        "a new minute"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmup_cap_defers_past_the_cap_to_the_next_day() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({"timezone": "America/Chicago"})).await;
    let r = app.put("/v1/channels/sms", &t.live_key, json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": herald_tests::sim::TWILIO_SID, "auth_token": herald_tests::sim::TWILIO_TOKEN}}})).await;
    assert_eq!(r.status, 200);
    let r = app
        .post("/v1/numbers", &t.live_key, json!({"phone_number": "+14155550001", "provider": "twilio", "daily_cap": 2}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = app
            .send(&t.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 2000 + i), "body": "warm"}))
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut statuses = Vec::new();
    for id in &ids {
        let m = eventually(WAIT, "settled", || async {
            let m = app.message(&t.live_key, id).await;
            (m["status"] == "sent" || m["status"] == "deferred").then_some(m)
        })
        .await;
        statuses.push(m);
    }
    let deferred: Vec<_> = statuses.iter().filter(|m| m["status"] == "deferred").collect();
    assert_eq!(deferred.len(), 1, "{statuses:?}");
    assert_eq!(deferred[0]["hold_reason"], "WARMUP_CAP");
    let until = chrono::DateTime::parse_from_rfc3339(deferred[0]["deferred_until"].as_str().unwrap()).unwrap();
    let local = until.with_timezone(&chrono_tz::America::Chicago);
    assert_eq!((local.hour(), local.minute()), (0, 0), "next local midnight");
    assert!(until > chrono::Utc::now());
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_window_fallback_and_quota() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_whatsapp(&t).await;
    app.configure_twilio(&t, "+14155550001").await;
    // Outside the window, free text is refused…
    let r = app.send(&t.live_key, json!({"channel": "whatsapp", "to": "+16505551234", "body": "hi"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "WHATSAPP_TEMPLATE_REQUIRED"));
    // …or goes by SMS when the caller allows it.
    let r = app
        .send(
            &t.live_key,
            json!({"channel": "whatsapp", "to": "+16505551234", "body": "hi", "fallback_channels": ["sms"]}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert_eq!(m["channel"], "sms");
    assert!(m["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("whatsapp->sms")));
    assert_eq!(app.sim.requests_to(SimProvider::Twilio, "+16505551234").len(), 1);

    // Quota 10: bulk stops at 90 %, urgent passes until 100 %, the reset releases the rest.
    let r = app
        .put("/v1/channels/whatsapp", &t.live_key, json!({"phone_number_id": "106540352242922", "access_token": herald_tests::sim::WHATSAPP_TOKEN, "app_secret": "s", "verify_token": "v", "daily_quota": 10}))
        .await;
    assert_eq!(r.status, 200);
    let tpl = |i: usize, priority: &str| json!({"channel": "whatsapp", "to": format!("+1650555{:04}", 3000 + i), "priority": priority, "template": {"name": "promo", "language": "en_US"}});
    let mut ids = Vec::new();
    for i in 0..9 {
        let r = app.send(&t.live_key, tpl(i, "bulk")).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        app.wait_status(&t.live_key, id, "sent", WAIT).await;
    }
    let bulk = app.send(&t.live_key, tpl(9, "bulk")).await;
    let bulk_id = bulk.body["id"].as_str().unwrap();
    let m = app.wait_status(&t.live_key, bulk_id, "deferred", WAIT).await;
    assert_eq!(m["hold_reason"], "QUOTA_EXCEEDED");
    let urgent = app.send(&t.live_key, tpl(10, "urgent")).await;
    app.wait_status(&t.live_key, urgent.body["id"].as_str().unwrap(), "sent", WAIT).await;
    let urgent2 = app.send(&t.live_key, tpl(11, "urgent")).await;
    app.wait_status(&t.live_key, urgent2.body["id"].as_str().unwrap(), "deferred", WAIT).await;
    assert_eq!(app.sim.requests(SimProvider::Whatsapp).len(), 10);
    let report = app.run_job("quota-reset").await;
    assert_eq!(report["released"], 2, "{report}");
    app.wait_status(&t.live_key, bulk_id, "sent", WAIT).await;
    app.wait_status(&t.live_key, urgent2.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert_eq!(app.sim.requests(SimProvider::Whatsapp).len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_channel_refuses_new_messages_and_holds_queued_ones() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let t = app.create_tenant(json!({})).await;
    let early = app
        .send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "queued", "send_at": in_secs(2)}))
        .await;
    let r = app.patch("/v1/admin/features", &app.admin_key, json!({"feature": "sms_sending", "enabled": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "new"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (503, "CHANNEL_DISABLED"));
    let id = early.body["id"].as_str().unwrap();
    eventually(WAIT, "held by the flag", || async {
        let m = app.message(&t.test_key, id).await;
        (m["hold_reason"] == "CHANNEL_DISABLED" && m["status"] == "queued").then_some(())
    })
    .await;
    let f = app.get("/v1/admin/features", &app.admin_key).await;
    assert!(f.body.as_array().unwrap().iter().any(|x| x["feature"] == "sms_sending" && x["enabled"] == false));
    let r = app.patch("/v1/admin/features", &app.admin_key, json!({"feature": "sms_sending", "enabled": true})).await;
    assert_eq!(r.body["released"], 1);
    app.wait_status(&t.test_key, id, "delivered", WAIT).await;
}
