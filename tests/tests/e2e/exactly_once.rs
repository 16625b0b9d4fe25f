//! Issue 11: a provider that took the message but answered after the timeout is never sent
//! the message twice blindly (Twilio and WhatsApp: exactly one call).
use herald_tests::sim::{Fault, SimProvider};
use herald_tests::{spawn_app, TestApp, TestTenant};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SETTINGS: &[(&str, &str)] = &[("HERALD_PROVIDER_TIMEOUT", "1s"), ("HERALD_AMBIGUOUS_WAIT", "1s")];
const SLOW: Fault = Fault::SlowAccept { delay_ms: 2500 };

async fn ambiguous(app: &TestApp, t: &TestTenant, body: serde_json::Value) -> String {
    let r = app.send(&t.live_key, body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    herald_tests::eventually(WAIT, "the attempt recorded as unknown", || async {
        let m = app.message(&t.live_key, &id).await;
        (m["attempts"][0]["outcome"] == "unknown" || m["status"] != "sending" && m["status"] != "queued").then_some(())
    })
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_answering_after_the_timeout_is_looked_up_not_resent() {
    let app = spawn_app(SETTINGS).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    // The same text went to the same recipient an hour ago: that is not this message.
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    app.sim.seed_twilio_message_at("+14155550100", "+14155550001", "code 1234", "SMold", hour_ago);
    app.sim.fail_next(SimProvider::Twilio, 1, SLOW);
    let id = ambiguous(&app, &t, json!({"channel": "sms", "to": "+14155550100", "body": "code 1234"})).await;
    let m = app.message(&t.live_key, &id).await;
    assert_eq!((m["status"].as_str(), m["attempts"][0]["outcome"].as_str()), (Some("sending"), Some("unknown")), "{m}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let report = app.run_job("stale-recovery").await;
    assert_eq!(report["details"][0]["action"], "found", "{report}");
    // Found at Twilio (which reports it delivered): recorded, not sent again.
    let m = app.wait_status(&t.live_key, &id, "delivered", WAIT).await;
    assert_ne!(m["provider_message_id"], "SMold", "the old message with the same text is not proof");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sends =
        app.sim.requests_to(SimProvider::Twilio, "+14155550100").into_iter().filter(|r| r.path != "seeded").count();
    assert_eq!(sends, 1, "exactly one provider call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_answering_after_the_timeout_is_linked_by_its_status_webhook() {
    let app = spawn_app(SETTINGS).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_whatsapp(&t).await;
    app.sim.whatsapp_webhooks_to(&app.url, "TEST_APP_SECRET");
    app.sim.fail_next(SimProvider::Whatsapp, 1, SLOW);
    let body =
        json!({"channel": "whatsapp", "to": "+14155550100", "template": {"name": "order_update", "language": "en_US"}});
    let id = ambiguous(&app, &t, body).await;
    let m = app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    assert!(m["provider_message_id"].as_str().is_some_and(|p| p.starts_with("wamid.")), "{m}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.run_job("stale-recovery").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.sim.requests_to(SimProvider::Whatsapp, "+14155550100").len(), 1, "exactly one provider call");
    assert_eq!(app.message(&t.live_key, &id).await["status"], "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telnyx_without_a_receipt_is_resent_after_the_wait_and_says_so() {
    let app = spawn_app(SETTINGS).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_telnyx(&t, "+14155550002").await;
    app.sim.fail_next(SimProvider::Telnyx, 1, SLOW);
    let id = ambiguous(&app, &t, json!({"channel": "sms", "to": "+14155550100", "body": "hello"})).await;
    let r = app.run_job("stale-recovery").await;
    assert_eq!(r["requeued"], 0, "not before the wait: {r}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = app.run_job("stale-recovery").await;
    assert_eq!(r["requeued"], 1, "{r}");
    let m = app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    let notes = m["notes"].to_string();
    assert!(notes.contains("ambiguous:telnyx") && notes.contains("ambiguous_no_receipt_resent"), "{m}");
    assert_eq!(app.sim.requests_to(SimProvider::Telnyx, "+14155550100").len(), 2, "at least once, as documented");
}

/// Idempotency without a transaction: the key's record is written first, then the message.
/// A request that stopped between the two is completed by its retry, with the same id; and
/// twelve clients racing with one key make one message and one provider call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_stopped_between_its_writes_is_completed_by_its_retry() {
    use herald_core::ports::{IdempotencyStore, MessageStore};
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let body = json!({"channel": "sms", "to": "+14155550177", "body": "half written"});
    // What the first request left: its key's record, naming a message never written.
    let first = app.send_idempotent(&t.live_key, body.clone(), "k-0").await;
    let store = &app.running.app.infra.store;
    let tenant = herald_core::TenantId::parse(&t.id).unwrap();
    let mut record = IdempotencyStore::idempotency(store, &tenant, "k-0").await.unwrap().unwrap();
    let lost = herald_core::MessageId::generate();
    record.key = "k-1".into();
    record.message_id = Some(lost.clone());
    record.response["id"] = json!(lost.as_str());
    assert!(store.claim_idempotency(&record).await.unwrap());
    assert!(MessageStore::message(store, &lost).await.unwrap().is_none());
    let retry = app.send_idempotent(&t.live_key, body.clone(), "k-1").await;
    assert_eq!(retry.status, 202, "{}", retry.body);
    assert_eq!(retry.body["id"], lost.as_str(), "the id the first request answered");
    let m = app.wait_status(&t.live_key, lost.as_str(), "sent", WAIT).await;
    assert!(m["notes"].to_string().contains("completed_by_retry"), "{m}");
    let again = app.send_idempotent(&t.live_key, body.clone(), "k-1").await;
    assert_eq!(again.body["id"], lost.as_str());
    // Twelve clients, one key.
    let race = (0..12).map(|_| {
        let (app, key, body) =
            (&app, t.live_key.clone(), json!({"channel": "sms", "to": "+14155550178", "body": "race"}));
        async move { app.send_idempotent(&key, body, "k-race").await }
    });
    let replies = futures::future::join_all(race).await;
    let ids: std::collections::HashSet<_> =
        replies.iter().map(|r| r.body["id"].as_str().unwrap().to_string()).collect();
    assert!(replies.iter().all(|r| r.status == 202), "every client gets the answer");
    assert_eq!(ids.len(), 1, "one message for one key");
    app.wait_status(&t.live_key, ids.iter().next().unwrap(), "sent", WAIT).await;
    app.wait_status(&t.live_key, first.body["id"].as_str().unwrap(), "sent", WAIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (to, n) in [("+14155550177", 2), ("+14155550178", 1)] {
        assert_eq!(app.sim.requests_to(SimProvider::Twilio, to).len(), n, "one provider call per message to {to}");
    }
}

/// A sender that died mid-call leaves its message claimed and its job unacknowledged (a claim
/// writes no work-index entry). SQS redelivers the job; the redelivery indexes the claim at
/// `claim + HERALD_STALE_AFTER`, and stale recovery finds it at the provider: never re-sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_job_of_a_dead_senders_claim_leads_to_a_lookup_not_a_resend() {
    use herald_core::ports::{MessageStore, SendQueue};
    let app = spawn_app(&[("HERALD_STALE_AFTER", "1s")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let body = json!({"channel": "sms", "to": "+14155557101", "body": "sent before the crash", "send_at": later});
    let r = app.send(&t.live_key, body).await;
    let id = herald_core::MessageId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let store: &dyn MessageStore = &app.running.app.infra.store;
    let mut m = store.message(&id).await.unwrap().unwrap();
    m.status = herald_core::Status::Queued;
    m.begin_attempt(herald_core::Provider::Twilio, chrono::Utc::now() - chrono::Duration::seconds(30));
    m.version += 1;
    assert!(store.replace(&m).await.unwrap());
    assert_eq!(app.run_job("stale-recovery").await["examined"], 0, "a claim alone is in no index");
    app.sim.seed_twilio_message("+14155557101", "+14155550001", "sent before the crash", "SMcrash");
    // The job the dead sender never acknowledged, delivered again.
    app.running
        .app
        .infra
        .queues
        .enqueue(&m.job(), &m.group_id(), &format!("{}-redelivered", m.dedup_id()))
        .await
        .unwrap();
    herald_tests::eventually(WAIT, "the redelivery indexes the claim", || async {
        store.message(&id).await.unwrap().unwrap().due_at.map(|_| ())
    })
    .await;
    let report = app.run_job("stale-recovery").await;
    assert_eq!(report["details"][0]["action"], "found", "{report}");
    let m = app.message(&t.live_key, id.as_str()).await;
    assert_eq!(m["provider_message_id"], "SMcrash", "{m}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sends =
        app.sim.requests_to(SimProvider::Twilio, "+14155557101").into_iter().filter(|r| r.path != "seeded").count();
    assert_eq!(sends, 0, "found at the provider: not sent again");
}
