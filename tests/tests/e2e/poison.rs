//! Issue 23, part 4: no poison records. A signed provider event that no message can be
//! linked to is kept as an early receipt for a while, then dropped; it never fails the
//! dispatch job, and the outcome stats keep counting around it.
use herald_tests::sim::webhooks as wh;
use herald_tests::sim::{SimProvider, TWILIO_TOKEN};
use herald_tests::{eventually, spawn_app_with_clock, TestClock};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn rfc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlinkable_signed_receipt_never_stops_dispatch_and_the_stats_keep_counting() {
    let start = chrono::Utc::now();
    let clock = TestClock::at(&rfc(start));
    let app = spawn_app_with_clock(&[], Some(clock.clone())).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;

    // A Twilio retry for a message Herald never sent (no herald_message_id, unknown SID).
    let params = wh::twilio_status("SM0000000000000000000000000000dead", "delivered", "+14155559000");
    let status = wh::twilio(&app.url, "/webhooks/twilio/status", &params, Some(TWILIO_TOKEN)).await.status();
    assert_eq!(status, 200, "a correctly signed receipt is accepted");

    // A minute later it is an early receipt the sweep reads; dispatch still answers.
    clock.set(&rfc(start + chrono::Duration::minutes(2)));
    let report = app.run_job("dispatch").await;
    assert_eq!(report["errors"], 0, "{report}");

    // The stats keep counting a normal send around it.
    app.sim.next_message_id(SimProvider::Twilio, "SM00000000000000000000000000000001");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155559001", "body": "counted"})).await;
    app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    let params = wh::twilio_status("SM00000000000000000000000000000001", "delivered", "+14155559001");
    wh::twilio(&app.url, "/webhooks/twilio/status", &params, Some(TWILIO_TOKEN)).await;
    eventually(WAIT, "the stream counted the delivery", || async {
        let s = app.get("/v1/admin/stats?window=1h", &app.admin_key).await;
        (s.body["delivered"] == 1 && s.body["sent"] == 1).then_some(())
    })
    .await;

    // Past the expiry it is dropped (by whichever run comes first), and dispatch keeps answering.
    assert_eq!(kept(&app, "SM0000000000000000000000000000dead").await, 1, "kept while it may still link");
    clock.set(&rfc(start + chrono::Duration::minutes(62)));
    let report = app.run_job("dispatch").await;
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(kept(&app, "SM0000000000000000000000000000dead").await, 0, "an early receipt expires");
}

/// Early receipts kept for one provider message id, read from the table.
async fn kept(app: &herald_tests::TestApp, sid: &str) -> usize {
    let db = aws_sdk_dynamodb::Client::new(&app.running.app.infra.sdk);
    let out = db
        .query()
        .table_name(&app.prefix)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORPHAN#twilio#{sid}")))
        .send()
        .await
        .unwrap();
    out.items.unwrap_or_default().len()
}
