//! Accepting, on in-memory ports.
use crate::service::testing::Harness;
use crate::service::{HeraldError, SendRequest};
use crate::CorrelationId;
use serde_json::json;

#[tokio::test]
async fn the_same_idempotency_key_answers_the_first_acceptance_and_refuses_another_payload() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let req = |body: &str| -> SendRequest {
        serde_json::from_value(json!({"channel": "sms", "to": "+14155550100", "body": body})).unwrap()
    };
    let accept = |r, k: &str| h.services.accepting.accept(&t, r, Some(k.into()), CorrelationId::generate());
    let first = accept(req("a"), "k1").await.unwrap();
    let again = accept(req("a"), "k1").await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(h.queue.len(), 1, "created once");
    assert_eq!(accept(req("b"), "k1").await.unwrap_err(), HeraldError::IdempotencyKeyReused);
}

#[tokio::test]
async fn refusals_name_their_code_and_queue_nothing() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let bad = h.accept(&t, json!({"channel": "sms", "to": "12", "body": "x"})).await.unwrap_err();
    assert_eq!(bad.code(), "INVALID_PHONE_NUMBER_FORMAT");
    let from = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "from": "+14155550199", "body": "x"})).await;
    assert_eq!(from.unwrap_err().code(), "VALIDATION_ERROR", "an unregistered sender");
    let wa = h.accept(&t, json!({"channel": "whatsapp", "to": "+14155550100", "body": "x"})).await.unwrap_err();
    assert_eq!(wa, HeraldError::WhatsappTemplateRequired);
    let long = "x".repeat(1601);
    let too_long = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": long})).await.unwrap_err();
    assert!(matches!(too_long, HeraldError::Validation { ref fields, .. } if fields["body"] == "TOO_LONG"));
    assert_eq!(h.queue.len(), 0);
}

#[tokio::test]
async fn whatsapp_outside_the_window_falls_back_to_sms_when_asked() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let req = json!({"channel": "whatsapp", "to": "+14155550100", "body": "x", "fallback_channels": ["sms"]});
    let id = h.accept(&t, req).await.unwrap();
    let m = h.message(&id);
    assert_eq!(m.channel, crate::Channel::Sms);
    assert!(m.notes.iter().any(|n| n.starts_with("fallback:whatsapp->sms")));
}

#[tokio::test]
async fn a_message_is_on_its_queue_before_it_is_written_and_a_failed_enqueue_writes_nothing() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "a"})).await.unwrap();
    assert_eq!(h.queue.pop().map(|j| j.message_id), Some(id.clone()));
    assert_eq!(h.message(&id).due_at, None, "no work-index entry: the job is already queued");
    // SQS down: a clear 503 and nothing accepted (no message left without its job).
    h.queue.failing.store(3, std::sync::atomic::Ordering::SeqCst);
    let err = h.accept(&t, json!({"channel": "sms", "to": "+14155550101", "body": "b"})).await.unwrap_err();
    assert_eq!(err.code(), "SERVICE_UNAVAILABLE");
    assert_eq!(h.mem.with(|s| s.messages.len()), 1);
    assert_eq!(h.queue.len(), 0);
}

#[tokio::test]
async fn a_keyed_request_whose_enqueue_failed_is_completed_by_its_retry_with_a_due_time() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let req = || -> SendRequest {
        serde_json::from_value(json!({"channel": "sms", "to": "+14155550100", "body": "k"})).unwrap()
    };
    let accept = || h.services.accepting.accept(&t, req(), Some("k-9".into()), CorrelationId::generate());
    h.queue.failing.store(3, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(accept().await.unwrap_err().code(), "SERVICE_UNAVAILABLE");
    assert_eq!(h.mem.with(|s| s.messages.len()), 0);
    let again = accept().await.unwrap();
    let m = h.message(&again.id);
    assert!(m.notes.iter().any(|n| n == "idempotency:completed_by_retry"), "{:?}", m.notes);
    assert!(m.due_at.is_some(), "written before its job: the dispatch job can still find it");
    assert_eq!(h.queue.pop().map(|j| j.message_id), Some(again.id));
}

#[tokio::test]
async fn a_keyed_request_that_failed_after_taking_its_key_keeps_one_reservation_for_its_retry() {
    let h = Harness::new();
    let t = h.tenant(|t| t.daily_budget_cents = Some(2));
    h.sms_channel(&t, false);
    let sms = json!({"channel": "sms", "to": "+14155550100", "body": "hi"});
    let keyed = || {
        let req: SendRequest = serde_json::from_value(sms.clone()).unwrap();
        h.services.accepting.accept(&t, req, Some("k-b".into()), CorrelationId::generate())
    };
    h.queue.failing.store(3, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(keyed().await.unwrap_err().code(), "SERVICE_UNAVAILABLE");
    keyed().await.expect("the retry completes it");
    // One reservation for the keyed message, whichever request wrote it: room for one more.
    h.accept(&t, sms.clone()).await.unwrap();
    assert!(matches!(h.accept(&t, sms).await, Err(HeraldError::BudgetExceeded(_))));
}

#[tokio::test]
async fn a_batch_queues_its_jobs_ten_to_a_request_and_refuses_alone_what_it_could_not_queue() {
    let h = Harness::new();
    let t = h.tenant(|t| t.daily_budget_cents = Some(14));
    h.sms_channel(&t, false);
    let sms = |to: String| -> SendRequest {
        serde_json::from_value(json!({"channel": "sms", "to": to, "body": "hi"})).unwrap()
    };
    let mut reqs: Vec<SendRequest> = (0..12).map(|i| sms(format!("+141555501{i:02}"))).collect();
    reqs.insert(5, sms("12".into()));
    let results = h.services.accepting.accept_batch(&t, reqs, CorrelationId::generate()).await;
    assert_eq!(results.len(), 13);
    assert_eq!(results[5].as_ref().unwrap_err().code(), "INVALID_PHONE_NUMBER_FORMAT");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 12);
    assert_eq!(*h.queue.batches.lock().unwrap(), vec![10, 2], "two SendMessageBatch requests");
    assert_eq!(h.queue.len(), 12);
    let ids: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).map(|a| a.id.clone()).collect();
    assert!(ids.iter().all(|id| h.message(id).due_at.is_none()), "queued first: no work-index entry");
    // SQS refuses every try: those messages are refused 503, nothing is written and their
    // reservations are released (the budget of 14 still has room for two more).
    h.queue.failing.store(100, std::sync::atomic::Ordering::SeqCst);
    let two = || vec![sms("+14155550190".into()), sms("+14155550191".into())];
    let refused = h.services.accepting.accept_batch(&t, two(), CorrelationId::generate()).await;
    assert!(refused.iter().all(|r| r.as_ref().is_err_and(|e| e.code() == "SERVICE_UNAVAILABLE")), "{refused:?}");
    assert_eq!(h.mem.with(|s| s.messages.len()), 12);
    h.queue.failing.store(0, std::sync::atomic::Ordering::SeqCst);
    let later = h.services.accepting.accept_batch(&t, two(), CorrelationId::generate()).await;
    assert!(later.iter().all(|r| r.is_ok()), "{later:?}");
}
