//! Issue 6: Telnyx number linking with self-healing recovery.
use herald_tests::sim::numbers::SimNumber;
use herald_tests::sim::{SimProvider, TELNYX_KEY};
use herald_tests::{eventually, spawn_app, TestApp, TestTenant};
use serde_json::{json, Value};
use std::time::Duration;

const PROFILE: &str = "40019a80-d883-4618-953b-dad1610b39f4";
const FAST: &[(&str, &str)] =
    &[("HERALD_LINKING_SEARCH_DELAYS", "50ms,100ms,200ms"), ("HERALD_LINKING_RETRY_DELAYS", "1s,2s,3s")];

async fn telnyx_tenant(app: &TestApp, profile: Option<&str>) -> TestTenant {
    let t = app.create_tenant(json!({})).await;
    let mut creds = json!({"api_key": TELNYX_KEY});
    if let Some(p) = profile {
        creds["messaging_profile_id"] = json!(p);
    }
    let r =
        app.put("/v1/channels/sms", &t.live_key, json!({"provider": "telnyx", "credentials": {"telnyx": creds}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    t
}

fn calls(app: &TestApp, contains: &str) -> Vec<String> {
    app.sim.requests(SimProvider::TelnyxNumbers).into_iter().map(|r| r.path).filter(|p| p.contains(contains)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_by_method_1_once_indexed_and_by_method_2_using_the_number_id() {
    let app = spawn_app(FAST).await;
    let t = telnyx_tenant(&app, None).await;
    app.sim.telnyx_number(SimNumber { searches_before_indexed: 2, ..SimNumber::new("+14155550301") });
    let r = app
        .post(
            "/v1/numbers",
            &t.live_key,
            json!({"phone_number": "+14155550301", "provider": "telnyx", "messaging_profile_id": PROFILE}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["linking"]["status"], "linked");
    assert_eq!(r.body["linking"]["method"], "direct");
    assert_eq!(calls(&app, "GET /v2/phone_numbers?14155550301").len(), 3, "two empty searches, then found");
    let id = app.sim.telnyx_number_state("+14155550301").unwrap().id;
    assert_eq!(calls(&app, "PATCH"), vec![format!("PATCH /v2/phone_numbers/{id}/messaging")]);
    assert_eq!(app.sim.telnyx_number_state("+14155550301").unwrap().messaging_profile_id.as_deref(), Some(PROFILE));

    app.sim.telnyx_number(SimNumber { method1_fails: Some(422), ..SimNumber::new("+14155550302") });
    let r = app
        .post(
            "/v1/numbers",
            &t.live_key,
            json!({"phone_number": "+14155550302", "provider": "telnyx", "messaging_profile_id": PROFILE}),
        )
        .await;
    assert_eq!(r.body["linking"]["status"], "linked", "{}", r.body);
    assert_eq!(r.body["linking"]["method"], "profile");
    let id = app.sim.telnyx_number_state("+14155550302").unwrap().id;
    assert!(
        calls(&app, "PATCH").contains(&format!("PATCH /v2/messaging_phone_numbers/{id}")),
        "method 2 addresses the number by its id"
    );
    let s = app.get("/v1/numbers/+14155550302/linking", &t.live_key).await;
    assert_eq!(
        (s.body["status"].as_str(), s.body["method"].as_str(), s.body["can_retry"].as_bool()),
        (Some("linked"), Some("profile"), Some(false))
    );

    // Bought through Herald: ordered, then linked once Telnyx indexes it.
    let r = app.post("/v1/numbers", &t.live_key, json!({"phone_number": "+14155550303", "provider": "telnyx", "messaging_profile_id": PROFILE, "purchase": true})).await;
    assert_eq!(r.body["linking"]["status"], "linked", "{}", r.body);
    assert_eq!(calls(&app, "POST /v2/number_orders").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_happens_before_any_call_to_telnyx() {
    let app = spawn_app(FAST).await;
    let t = telnyx_tenant(&app, None).await;
    let cases = [
        (json!({"provider": "telnyx", "messaging_profile_id": PROFILE}), "INVALID_PHONE_NUMBER_TYPE"),
        (
            json!({"phone_number": 14155550100u64, "provider": "telnyx", "messaging_profile_id": PROFILE}),
            "INVALID_PHONE_NUMBER_TYPE",
        ),
        (
            json!({"phone_number": "4155550100", "provider": "telnyx", "messaging_profile_id": PROFILE}),
            "INVALID_PHONE_NUMBER_FORMAT",
        ),
        (json!({"phone_number": "+14155550100", "provider": "telnyx"}), "INVALID_PROFILE_ID_TYPE"),
        (
            json!({"phone_number": "+14155550100", "provider": "telnyx", "messaging_profile_id": "my-profile"}),
            "INVALID_PROFILE_ID_FORMAT",
        ),
    ];
    for (body, code) in cases {
        let r = app.post("/v1/numbers", &t.live_key, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.code(), code, "{body}");
    }
    assert!(app.sim.requests(SimProvider::TelnyxNumbers).is_empty(), "no call reached Telnyx");
}

async fn subscribe_alerts(app: &TestApp) -> String {
    let sqs = app.sqs();
    let q = sqs.create_queue().queue_name(format!("{}-alerts-test", app.prefix)).send().await.unwrap();
    let url = q.queue_url.unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let sns = aws_sdk_sns::Client::new(&app.running.app.infra.sdk);
    let topic = sns.create_topic().name(format!("{}-alerts", app.prefix)).send().await.unwrap().topic_arn.unwrap();
    sns.subscribe().topic_arn(topic).protocol("sqs").endpoint(arn).send().await.unwrap();
    url
}

async fn alerts(app: &TestApp, url: &str) -> Vec<Value> {
    let out = app.sqs().receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
    out.messages
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let env: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
            serde_json::from_str(env["Message"].as_str().unwrap_or("{}")).unwrap_or(env)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_number_is_retried_on_schedule_then_alerts_and_manual_retry_links_it() {
    let app = spawn_app(FAST).await;
    let alert_queue = subscribe_alerts(&app).await;
    let t = telnyx_tenant(&app, Some(PROFILE)).await;
    app.sim.telnyx_number(SimNumber {
        method1_fails: Some(422),
        method2_fails: Some(422),
        ..SimNumber::new("+14155550401")
    });
    let r = app.post("/v1/numbers", &t.live_key, json!({"phone_number": "+14155550401", "provider": "telnyx"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let l = &r.body["linking"];
    assert_eq!(
        (l["status"].as_str(), l["retry_count"].as_u64(), l["can_retry"].as_bool()),
        (Some("failed"), Some(0), Some(true))
    );
    assert_eq!(l["error"]["category"], "UNPROCESSABLE_ENTITY_PHONE_NUMBER");
    // A held SMS from the unlinked number.
    let held = app
        .send(
            &t.live_key,
            json!({"channel": "sms", "to": "+14155559001", "from": "+14155550401", "body": "from the new number"}),
        )
        .await;
    let held_id = held.body["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(20), "held until linked", || async {
        (app.message(&t.live_key, &held_id).await["hold_reason"] == "NUMBER_NOT_LINKED").then_some(())
    })
    .await;
    let patches = || calls(&app, "PATCH /v2/phone_numbers/").len();
    assert_eq!(patches(), 1);
    assert_eq!(app.run_job("linking-recovery").await["examined"], 0, "not due yet");
    for (n, delay) in [(1u64, 1.0f64), (2, 2.0), (3, 3.0)] {
        let s = app.get("/v1/numbers/+14155550401/linking", &t.live_key).await.body;
        let last = chrono::DateTime::parse_from_rfc3339(s["last_attempt"].as_str().unwrap()).unwrap();
        let next = chrono::DateTime::parse_from_rfc3339(s["next_attempt_at"].as_str().unwrap()).unwrap();
        let gap = (next - last).num_milliseconds() as f64 / 1000.0;
        assert!((gap - delay).abs() < 0.1, "retry {n} after {delay}s, got {gap}");
        tokio::time::sleep(Duration::from_millis((delay * 1000.0) as u64 + 100)).await;
        let report = app.run_job("linking-recovery").await;
        assert_eq!(report["examined"], 1, "{report}");
        assert_eq!(patches(), 1 + n as usize);
        assert_eq!(app.get("/v1/numbers/+14155550401/linking", &t.live_key).await.body["retry_count"], n);
    }
    let s = app.get("/v1/numbers/+14155550401/linking", &t.live_key).await.body;
    assert_eq!((s["status"].as_str(), s["can_retry"].as_bool()), (Some("failed"), Some(false)));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(app.run_job("linking-recovery").await["examined"], 0, "no retries past the third");
    let got = eventually(Duration::from_secs(10), "the support alert", || async {
        let a = alerts(&app, &alert_queue).await;
        (!a.is_empty()).then_some(a)
    })
    .await;
    assert_eq!(got.len(), 1, "one alert");
    assert_eq!(got[0]["phone_number"], "+14155550401");
    assert_eq!(got[0]["tenant_id"], t.id.as_str());
    assert_eq!(got[0]["last_error"]["category"], "UNPROCESSABLE_ENTITY_PHONE_NUMBER");
    let failed = app.get("/v1/admin/linking?status=failed", &app.admin_key).await;
    assert!(failed.body.as_array().unwrap().iter().any(|n| n["phone_number"] == "+14155550401"));

    // Telnyx is fixed; support retries by hand.
    app.sim.fix_telnyx_number("+14155550401");
    let r = app.post("/v1/numbers/+14155550401/linking/retry", &t.live_key, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["status"].as_str(), r.body["retry_count"].as_u64()), (Some("linked"), Some(0)));
    let m = app.wait_status(&t.live_key, &held_id, "sent", Duration::from_secs(20)).await;
    assert_eq!(m["from"], "+14155550401");
    assert_eq!(app.sim.requests_from(SimProvider::Telnyx, "+14155550401").len(), 1, "the held SMS went out once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_job_runs_attempt_each_due_number_once() {
    let app = spawn_app(&[("HERALD_LINKING_SEARCH_DELAYS", "50ms"), ("HERALD_LINKING_RETRY_DELAYS", "1s,1s,1s")]).await;
    let t = telnyx_tenant(&app, Some(PROFILE)).await;
    let numbers = ["+14155550501", "+14155550502", "+14155550503"];
    for n in numbers {
        app.sim.telnyx_number(SimNumber { method1_fails: Some(503), method2_fails: Some(503), ..SimNumber::new(n) });
        let r = app.post("/v1/numbers", &t.live_key, json!({"phone_number": n, "provider": "telnyx"})).await;
        assert_eq!(r.body["linking"]["error"]["category"], "TELNYX_SERVICE_ERROR", "{}", r.body);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (a, b) = tokio::join!(app.run_job("linking-recovery"), app.run_job("linking-recovery"));
    let attempted = a["details"].as_array().map_or(0, Vec::len) + b["details"].as_array().map_or(0, Vec::len);
    assert_eq!(attempted, 3, "{a} {b}");
    for n in numbers {
        let id = app.sim.telnyx_number_state(n).unwrap().id;
        assert_eq!(
            calls(&app, &format!("PATCH /v2/phone_numbers/{id}/messaging")).len(),
            2,
            "initial + exactly one retry for {n}"
        );
        assert_eq!(app.get(&format!("/v1/numbers/{n}/linking"), &t.live_key).await.body["retry_count"], 1);
    }
}
