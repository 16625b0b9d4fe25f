//! Receipts and inbound messages, on in-memory ports.
use crate::inbound::{InboundMessage, Receipt};
use crate::service::testing::Harness;
use crate::service::ReceiptOutcome;
use crate::{Channel, Provider, Status, TenantId};
use serde_json::json;

fn receipt(pmid: &str, status: Status) -> Receipt {
    Receipt {
        provider: Provider::Twilio,
        provider_message_id: pmid.into(),
        status,
        error_code: None,
        error: None,
        error_message: None,
        at: chrono::Utc::now(),
        price_cents: None,
        tenant_id: None,
        message_id: None,
    }
}

async fn sent_message(h: &Harness) -> crate::MessageId {
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "hi"})).await.unwrap();
    h.send_next().await.unwrap();
    id
}

#[tokio::test]
async fn receipts_move_forward_only_and_each_event_applies_once() {
    let h = Harness::new();
    let id = sent_message(&h).await;
    let r = &h.services.receipts;
    let delivered = receipt("PM1", Status::Delivered);
    let first = r.once(Provider::Twilio, "PM1:delivered", || r.apply_receipt(&delivered)).await.unwrap();
    assert_eq!(first, Some(ReceiptOutcome::Applied(Status::Delivered)));
    let again = r.once(Provider::Twilio, "PM1:delivered", || r.apply_receipt(&delivered)).await.unwrap();
    assert_eq!(again, None, "a duplicate event is not applied");
    let late = r.apply_receipt(&receipt("PM1", Status::Sent)).await.unwrap();
    assert_eq!(late, ReceiptOutcome::Ignored, "a late sent never moves delivered back");
    assert_eq!(h.message(&id).status, Status::Delivered);
}

#[tokio::test]
async fn a_receipt_that_beats_the_sender_is_kept_and_applied_after() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "hi"})).await.unwrap();
    let early = h.services.receipts.apply_receipt(&receipt("PM1", Status::Delivered)).await.unwrap();
    assert_eq!(early, ReceiptOutcome::Unknown);
    h.send_next().await.unwrap();
    assert_eq!(h.message(&id).status, Status::Delivered);
}

#[tokio::test]
async fn a_failed_receipt_dead_letters_with_the_mapped_code() {
    let h = Harness::new();
    let id = sent_message(&h).await;
    let mut failed = receipt("PM1", Status::Failed);
    failed.error_code = Some("30003".into());
    failed.error = Some(crate::ErrorCode::Undeliverable);
    h.services.receipts.apply_receipt(&failed).await.unwrap();
    let m = h.message(&id);
    assert_eq!(
        (m.status, m.error_code, m.dead_lettered),
        (Status::Failed, Some(crate::ErrorCode::Undeliverable), true)
    );
    assert_eq!(m.error_message.as_deref(), Some("twilio error 30003"));
}

fn inbound(tenant: &TenantId, body: &str) -> InboundMessage {
    InboundMessage {
        id: format!("inb_{body}"),
        tenant_id: tenant.clone(),
        channel: Channel::Sms,
        provider: Provider::Twilio,
        provider_message_id: "SM9".into(),
        from: "+14155550177".into(),
        to: "+14155550001".into(),
        body: body.into(),
        received_at: chrono::Utc::now(),
        keyword: None,
    }
}

#[tokio::test]
async fn stop_opts_out_and_confirms_once_start_opts_back_in() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    let tenant = t.tenant().unwrap().id.clone();
    let reply = h.services.receipts.handle_inbound(inbound(&tenant, " stop ")).await.unwrap().unwrap();
    assert!(reply.contains("unsubscribed"), "{reply}");
    assert!(h.mem.with(|s| s.dnc.contains_key(&(tenant.clone(), "+14155550177".to_string()))));
    let confirmation = h.queue.pop().expect("the confirmation is queued");
    let m = h.message(&confirmation.message_id);
    assert_eq!((m.to.as_str(), m.from.as_deref()), ("+14155550177", Some("+14155550001")));
    assert!(m.notes.iter().any(|n| n == crate::service::policy::NOTE_DNC_BYPASS));
    h.services.receipts.handle_inbound(inbound(&tenant, "START")).await.unwrap();
    assert!(!h.mem.with(|s| s.dnc.contains_key(&(tenant.clone(), "+14155550177".to_string()))));
    let none = h.services.receipts.handle_inbound(inbound(&tenant, "stop please")).await.unwrap();
    assert_eq!(none, None, "only a single keyword counts");
    assert_eq!(h.queue.len(), 1, "only START was answered since");
}
