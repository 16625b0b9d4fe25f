//! Issue 23: what breaks on first contact with a real AWS account (../shared/reviews/real-aws.md),
//! shown through the wire: SES throttling in front of the emulator.
use herald_tests::sim::ses::SesFront;
use herald_tests::{moto_endpoint, spawn_app};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// Row 2: a burst above the account's SES rate answers 429. That is back-pressure: the mail
/// goes later, and the SES circuit (which every tenant shares) stays closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ses_throttle_backs_off_leaves_the_circuit_closed_and_the_mail_goes_later() {
    let ses = SesFront::start(moto_endpoint(), 50.0).await;
    let app = spawn_app(&[
        ("AWS_REGION", "ca-central-1"),
        ("AWS_ENDPOINT_URL_SESV2", &ses.url),
        ("HERALD_BREAKER_MIN_ATTEMPTS", "2"),
        ("HERALD_MAX_ATTEMPTS", "8"),
    ])
    .await;
    let t = app.create_tenant(json!({})).await;
    let domain = format!("{}.example", app.prefix);
    app.email_identity(&t, &domain).await;
    let channel = json!({"provider": "ses", "from_address": format!("news@{domain}")});
    assert_eq!(app.put("/v1/channels/email", &t.live_key, channel).await.status, 200);

    ses.throttle_next(4);
    let mut ids = Vec::new();
    for i in 0..3 {
        let mail = json!({"channel": "email", "to": format!("m{i}@example.com"), "subject": "s", "body": "b"});
        let r = app.send(&t.live_key, mail).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
        assert_eq!(m["provider"], "ses", "no failover, no hold: {m}");
    }
    assert_eq!(ses.state.throttled.load(Ordering::SeqCst), 4, "SES throttled four sends");
    assert_eq!(ses.state.forwarded_sends.load(Ordering::SeqCst), 3, "each mail reached SES once");
    let health = app.get("/v1/system/health/providers", &app.admin_key).await.body;
    let ses_states: Vec<&str> = health
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["provider"] == "ses")
        .filter_map(|p| p["state"].as_str())
        .collect();
    assert!(ses_states.iter().all(|s| *s == "closed"), "throttling never opens the SES circuit: {health}");
}
