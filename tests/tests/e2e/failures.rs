//! Issue 5: dead-letter operations, circuit breaker and failover, stale recovery, back-off.
use herald_core::ports::MessageStore;
use herald_tests::sim::{Fault, SimProvider, TELNYX_KEY, TWILIO_SID, TWILIO_TOKEN};
use herald_tests::{eventually, spawn_app, TestApp, TestTenant};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_grouped_retried_by_code_once_and_archived() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    for code in ["21211", "21610", "21612"] {
        app.sim.fail_next(SimProvider::Twilio, 10, Fault::code(400, code));
    }
    let mut ids = Vec::new();
    for i in 0..30 {
        let r = app
            .send(
                &t.live_key,
                json!({"channel": "sms", "to": format!("+1415555{:04}", 3000 + i), "body": format!("m{i}")}),
            )
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        app.wait_status(&t.live_key, id, "failed", WAIT).await;
    }
    let stats = app.get("/v1/dlq/stats", &t.live_key).await;
    let mut groups: Vec<(String, u64)> = stats
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["error_code"].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        vec![
            ("INVALID_PHONE_NUMBER".to_string(), 10),
            ("RECIPIENT_OPTED_OUT".to_string(), 10),
            ("UNDELIVERABLE".to_string(), 10)
        ]
    );
    assert!(stats.body.as_array().unwrap().iter().all(|g| g["channel"] == "sms" && g["last_occurrence"].is_string()));
    let admin = app.get(&format!("/v1/admin/dlq/stats?tenant_id={}", t.id), &app.admin_key).await;
    assert_eq!(admin.body, stats.body, "the admin twin sees the same");
    assert_eq!(app.get("/v1/dlq/stats", &app.admin_key).await.status, 403);

    // The simulator is fixed (the faults are used up); retry one error code only.
    let before = app.sim.requests(SimProvider::Twilio).len();
    let r = app.post("/v1/dlq/retry", &t.live_key, json!({"error_code": "RECIPIENT_OPTED_OUT"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["requeued"], 10);
    assert_eq!(
        app.post("/v1/dlq/retry", &t.live_key, json!({"error_code": "RECIPIENT_OPTED_OUT"})).await.body["requeued"],
        0,
        "repeating is safe"
    );
    let retried: Vec<String> = {
        let mut v = Vec::new();
        for id in &ids {
            let m = app.message(&t.live_key, id).await;
            if m["notes"].as_array().is_some_and(|n| n.iter().any(|n| n.as_str().unwrap().starts_with("dlq_retry"))) {
                v.push(id.clone());
            }
        }
        v
    };
    assert_eq!(retried.len(), 10);
    for id in &retried {
        app.wait_status(&t.live_key, id, "sent", WAIT).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.sim.requests(SimProvider::Twilio).len() - before, 10, "exactly once each");
    let dlq = app.get("/v1/dlq?error_code=RECIPIENT_OPTED_OUT", &t.live_key).await;
    assert_eq!(dlq.body["messages"].as_array().unwrap().len(), 0);

    // Archive the rest: gone from the DLQ view, still readable in the archive.
    let r = app.post("/v1/dlq/archive", &t.live_key, json!({"older_than_days": 0})).await;
    assert_eq!(r.body["archived"], 20, "{}", r.body);
    assert_eq!(app.get("/v1/dlq", &t.live_key).await.body["messages"].as_array().unwrap().len(), 0);
    let archived = app.get("/v1/dlq/archive", &t.live_key).await;
    assert_eq!(archived.body["messages"].as_array().unwrap().len(), 20);
    let one = archived.body["messages"][0]["id"].as_str().unwrap();
    assert_eq!(app.message(&t.live_key, one).await["status"], "failed");
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}", t.id), &app.admin_key).await;
    let actions: Vec<&str> =
        audit.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"dlq.retry") && actions.contains(&"dlq.archive"));
}

const BREAKER: &[(&str, &str)] = &[
    ("HERALD_BREAKER_MIN_ATTEMPTS", "4"),
    ("HERALD_BREAKER_FAILURE_RATE", "0.5"),
    ("HERALD_BREAKER_COOLDOWN", "3s"),
    ("HERALD_MAX_ATTEMPTS", "8"),
];

async fn sms_with_backup(app: &TestApp, t: &TestTenant) {
    let r = app
        .put(
            "/v1/channels/sms",
            &t.live_key,
            json!({"provider": "twilio", "backup_provider": "telnyx", "credentials": {
                "twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
                "telnyx": {"api_key": TELNYX_KEY, "messaging_profile_id": "40019a80-d883-4618-953b-dad1610b39f4"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.post("/v1/numbers", &t.live_key, json!({"phone_number": "+14155550001", "provider": "twilio"}))
            .await
            .status,
        201
    );
    assert_eq!(
        app.post("/v1/numbers", &t.live_key, json!({"phone_number": "+14155550002", "provider": "telnyx"}))
            .await
            .status,
        201
    );
}

/// The provider's account breaker (one account per provider in these tests); an account
/// that never counted a provider failure has no breaker yet: closed.
async fn breaker_state(app: &TestApp, provider: &str) -> Value {
    let h = app.get("/v1/system/health/providers", &app.admin_key).await;
    let found = h.body.as_array().unwrap().iter().find(|p| p["provider"] == provider).cloned();
    found
        .unwrap_or_else(|| json!({"provider": provider, "state": "closed", "window_attempts": 0, "window_failures": 0}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_fails_over_to_the_backup_provider() {
    let app = spawn_app(BREAKER).await;
    let t = app.create_tenant(json!({})).await;
    sms_with_backup(&app, &t).await;
    app.sim.fail_always(SimProvider::Twilio, Fault::status(503));
    let mut ids = Vec::new();
    for i in 0..8 {
        let r = app
            .send(&t.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 4000 + i), "body": "outage"}))
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
        assert_eq!(m["provider"], "telnyx", "{m}");
        assert_eq!(m["from"], "+14155550002", "a number of the backup provider");
    }
    let twilio_calls = app.sim.requests(SimProvider::Twilio).len();
    // At most each message's first attempt (all 8 may be in flight before the circuit opens)
    // and a probe or two after the cool-down; without the breaker each would retry Twilio.
    assert!(
        (4..=10).contains(&twilio_calls),
        "the breaker stopped the calls to Twilio after the threshold: {twilio_calls}"
    );
    assert_eq!(app.sim.accepted(SimProvider::Telnyx).len(), 8);
    assert_eq!(breaker_state(&app, "twilio").await["state"], "open");
    let m = app.message(&t.live_key, &ids[7]).await;
    assert!(
        m["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with("failover:twilio->telnyx")),
        "{m}"
    );
    let audit = app.get("/v1/admin/audit", &app.admin_key).await;
    assert!(audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "breaker.switch" && e["detail"]["state"] == "open"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_backup_messages_are_held_until_the_breaker_closes() {
    let app = spawn_app(BREAKER).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_always(SimProvider::Twilio, Fault::status(503));
    let mut ids = Vec::new();
    for i in 0..6 {
        let r = app
            .send(&t.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 5000 + i), "body": "hold"}))
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    eventually(WAIT, "a message held by the open circuit", || async {
        for id in &ids {
            let m = app.message(&t.live_key, id).await;
            if m["hold_reason"] == "PROVIDER_CIRCUIT_OPEN" {
                return Some(());
            }
        }
        None
    })
    .await;
    assert_eq!(breaker_state(&app, "twilio").await["state"], "open");
    app.sim.heal(SimProvider::Twilio);
    for id in &ids {
        app.wait_status(&t.live_key, id, "sent", WAIT).await;
    }
    assert_eq!(breaker_state(&app, "twilio").await["state"], "closed", "the probe closed it");
    let audit = app.get("/v1/admin/audit", &app.admin_key).await;
    let states: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "breaker.switch")
        .map(|e| e["detail"]["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"open") && !states.contains(&"half_open") && states.contains(&"closed"), "{states:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipient_errors_never_open_the_breaker() {
    let app = spawn_app(BREAKER).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 8, Fault::code(400, "21211"));
    let mut ids = Vec::new();
    for i in 0..8 {
        let r = app
            .send(&t.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 6000 + i), "body": "bad"}))
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        app.wait_status(&t.live_key, id, "failed", WAIT).await;
    }
    let b = breaker_state(&app, "twilio").await;
    assert_eq!(b["state"], "closed");
    assert_eq!(b["window_failures"], 0);
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155556999", "body": "fine"})).await;
    app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
}

/// Puts a message in `sending` as a sender that died after the provider call would leave it.
async fn stranded(app: &TestApp, t: &TestTenant, to: &str, body: &str) -> String {
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let r = app
        .send(&t.live_key, json!({"channel": "sms", "to": to, "body": body, "from": "+14155550001", "send_at": later}))
        .await;
    let id = herald_core::MessageId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let store: &dyn MessageStore = &app.running.app.infra.store;
    let mut m = store.message(&id).await.unwrap().unwrap();
    let at = chrono::Utc::now() - chrono::Duration::seconds(30);
    m.status = herald_core::Status::Queued;
    m.begin_attempt(herald_core::Provider::Twilio, at);
    m.due_at = Some(at + chrono::Duration::seconds(1));
    m.version += 1;
    assert!(store.replace(&m).await.unwrap());
    id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_sending_messages_are_looked_up_before_any_resend() {
    let app = spawn_app(&[("HERALD_STALE_AFTER", "1s")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    // A: Twilio has it (the sender died after the call). B: Twilio never got it.
    let a = stranded(&app, &t, "+14155557001", "delivered before the crash").await;
    app.sim.seed_twilio_message("+14155557001", "+14155550001", "delivered before the crash", "SMseeded");
    let b = stranded(&app, &t, "+14155557002", "lost in the crash").await;
    let report = app.run_job("stale-recovery").await;
    assert_eq!(report["examined"], 2, "{report}");
    assert_eq!(report["requeued"], 1, "{report}");
    let ma = app.message(&t.live_key, &a).await;
    assert_eq!(ma["provider_message_id"], "SMseeded");
    assert!(ma["status"] == "sent" || ma["status"] == "delivered");
    app.wait_status(&t.live_key, &b, "sent", WAIT).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let posts =
        |to: &str| app.sim.requests_to(SimProvider::Twilio, to).into_iter().filter(|r| r.path != "seeded").count();
    assert_eq!(posts("+14155557001"), 0, "found at the provider: not sent again");
    assert_eq!(posts("+14155557002"), 1, "never received: sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_off_follows_the_schedule_and_honours_retry_after() {
    let app =
        spawn_app(&[("HERALD_RETRY_BACKOFF", "1s,3s"), ("HERALD_RETRY_JITTER", "0.2"), ("HERALD_MAX_ATTEMPTS", "5")])
            .await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 2, Fault::status(503));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155558001", "body": "backoff"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    let gap = |a: &Value| {
        let at = chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap();
        let next = chrono::DateTime::parse_from_rfc3339(a["next_retry_at"].as_str().unwrap()).unwrap();
        (next - at).num_milliseconds() as f64 / 1000.0
    };
    let g1 = gap(&m["attempts"][0]);
    let g2 = gap(&m["attempts"][1]);
    // SQS visibility is whole seconds, so a delay is rounded up; the call itself adds a little.
    assert!((0.8..=2.5).contains(&g1), "1s ±20 %: {g1}");
    assert!((2.4..=4.5).contains(&g2), "3s ±20 %: {g2}");

    app.sim.fail_next(SimProvider::Twilio, 1, Fault::Status { status: 429, code: None, retry_after: Some(7) });
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155558002", "body": "slow down"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert_eq!(m["attempts"][0]["error_code"], "RATE_LIMIT_EXCEEDED");
    assert!(gap(&m["attempts"][0]) >= 7.0, "Retry-After: 7 is a floor");
    let first = chrono::DateTime::parse_from_rfc3339(m["attempts"][0]["at"].as_str().unwrap()).unwrap();
    let second = chrono::DateTime::parse_from_rfc3339(m["attempts"][1]["at"].as_str().unwrap()).unwrap();
    assert!((second - first).num_milliseconds() >= 7000, "the second attempt waited at least 7 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_through_smtp_and_fails_over_from_a_dead_relay_to_ses() {
    let sink = herald_tests::smtp_sink::SmtpSink::start().await;
    let app = spawn_app(&[
        ("AWS_REGION", "ap-southeast-2"),
        ("HERALD_BREAKER_MIN_ATTEMPTS", "2"),
        ("HERALD_BREAKER_COOLDOWN", "60s"),
        ("HERALD_MAX_ATTEMPTS", "6"),
    ])
    .await;
    let t = app.create_tenant(json!({})).await;
    let smtp = |port: u16| json!({"provider": "smtp", "backup_provider": "ses", "from_address": "news@grace.example", "credentials": {"smtp": {"host": "127.0.0.1", "port": port, "username": "herald", "password": "s3cret"}}});
    app.email_identity(&t, "grace.example").await;
    assert_eq!(app.put("/v1/channels/email", &t.live_key, smtp(sink.port)).await.status, 200);
    let r = app.send(&t.live_key, json!({"channel": "email", "to": "member@example.com", "subject": "Welcome", "body": "Hello", "html": "<p>Hello</p>"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert_eq!(m["provider"], "smtp");
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["<member@example.com>"]);
    assert!(mails[0].data.contains("Subject: Welcome"));
    assert!(mails[0].auth.is_some(), "authenticated with the tenant's credentials");

    // The relay dies: connection failures open its breaker and the mail goes by SES.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(app.put("/v1/channels/email", &t.live_key, smtp(dead)).await.status, 200);
    let before = herald_tests::ses_sent_count(&app.region).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = app
            .send(
                &t.live_key,
                json!({"channel": "email", "to": format!("m{i}@example.com"), "subject": "s", "body": "b"}),
            )
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
        assert_eq!(m["provider"], "ses", "{m}");
    }
    assert_eq!(herald_tests::ses_sent_count(&app.region).await, before + 3);
    // Keyed by the tenant's login at the relay, not the relay host alone (review M-3): the
    // live relay's account stays closed.
    let health = app.get("/v1/system/health/providers", &app.admin_key).await.body;
    let state = |account: String| {
        let found = health.as_array().unwrap().iter().find(|p| p["provider"] == "smtp" && p["account"] == account);
        found.map_or("closed".to_string(), |p| p["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state(format!("127.0.0.1:{dead}:herald")), "open", "{health}");
    assert_eq!(state(format!("127.0.0.1:{}:herald", sink.port)), "closed", "{health}");
    // Port 25 can never leave AWS Lambda: refused at save, naming the port (real-AWS row 3).
    let r = app.put("/v1/channels/email", &t.live_key, smtp(25)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "{}", r.body);
    assert!(r.body.to_string().contains("port"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_twilio_account_leaves_another_accounts_tenants_untouched() {
    let app = spawn_app(BREAKER).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    app.configure_twilio(&a, "+14155550001").await;
    let (other_sid, other_token) = ("AC0000000000000000000000000000000b", "0123456789abcdef0123456789abcdef");
    app.sim.twilio_number_in(other_sid, other_token, "+14155550066");
    let creds =
        json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": other_sid, "auth_token": other_token}}});
    assert_eq!(app.put("/v1/channels/sms", &b.live_key, creds).await.status, 200);
    assert_eq!(
        app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550066", "provider": "twilio"}))
            .await
            .status,
        201
    );
    app.sim.fail_twilio_account(TWILIO_SID, Fault::status(503));
    for i in 0..25 {
        let r = app
            .send(&a.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 2000 + i), "body": "a"}))
            .await;
        assert_eq!(r.status, 202);
    }
    herald_tests::eventually(WAIT, "A's account breaker opens", || async {
        let all = app.get("/v1/system/health/providers", &app.admin_key).await;
        let open = all.body.as_array().unwrap().iter().any(|h| h["account"] == TWILIO_SID && h["state"] == "open");
        open.then_some(())
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = app
            .send(&b.live_key, json!({"channel": "sms", "to": format!("+1415555{:04}", 3000 + i), "body": "b"}))
            .await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in ids {
        let m = app.wait_status(&b.live_key, &id, "sent", WAIT).await;
        assert_eq!(m["attempts"].as_array().unwrap().len(), 1, "sent at the first attempt: {m}");
    }
    let all = app.get("/v1/system/health/providers", &app.admin_key).await;
    let state = |account: &str| {
        all.body.as_array().unwrap().iter().find(|h| h["account"] == account).map(|h| h["state"].clone())
    };
    // Open, or half-open while a retry carries the probe after the cool-down.
    let failing = state(TWILIO_SID).unwrap_or_default();
    assert!(failing == "open" || failing == "half_open", "{}", all.body);
    assert_eq!(state(other_sid), Some(json!("closed")), "{}", all.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_head_does_not_starve_the_messages_behind_it() {
    let app = spawn_app(&[("HERALD_MAX_ATTEMPTS", "5")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 3, Fault::status(503));
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": format!("n={i}")})).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
        assert!(!m["attempts"].as_array().unwrap().is_empty(), "{m}");
    }
    let bodies: Vec<String> =
        app.sim.accepted(SimProvider::Twilio).iter().filter_map(|r| r.form.get("Body").cloned()).collect();
    assert_eq!(bodies, (0..5).map(|i| format!("n={i}")).collect::<Vec<_>>(), "in order, each once");
    let dlq = app.get("/v1/dlq", &t.live_key).await;
    assert_eq!(dlq.body["messages"].as_array().map(Vec::len), Some(0), "nothing dead-lettered: {}", dlq.body);
}
