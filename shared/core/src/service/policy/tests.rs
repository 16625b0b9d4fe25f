//! Guards, on in-memory ports (`added.rs`: a guard added the documented way).
use crate::guards::QuotaState;
use crate::message::HoldReason;
use crate::service::policy::{Gate, Hold, Route};
use crate::service::testing::Harness;
use crate::service::HeraldError;
use crate::tenant::QuietHours;
use crate::Status;
use serde_json::json;

#[tokio::test]
async fn the_rate_limit_refuses_with_the_seconds_left() {
    let h = Harness::new();
    let t = h.tenant(|t| t.rate_limit_per_minute = Some(2));
    h.sms_channel(&t, false);
    let sms = json!({"channel": "sms", "to": "+14155550100", "body": "hi"});
    h.clock.advance(chrono::Duration::seconds(10));
    h.accept(&t, sms.clone()).await.unwrap();
    h.accept(&t, sms.clone()).await.unwrap();
    let refused = h.accept(&t, sms.clone()).await.unwrap_err();
    assert_eq!(refused, HeraldError::RateLimited { limit: 2, retry_after_secs: 50 });
    h.clock.advance(chrono::Duration::minutes(1));
    h.accept(&t, sms).await.unwrap();
}

#[tokio::test]
async fn budgets_reserve_and_release() {
    let h = Harness::new();
    let t = h.tenant(|t| t.daily_budget_cents = Some(2));
    h.sms_channel(&t, false);
    let sms = json!({"channel": "sms", "to": "+14155550100", "body": "hi"});
    let first = h.accept(&t, sms.clone()).await.unwrap();
    h.accept(&t, sms.clone()).await.unwrap();
    assert!(matches!(h.accept(&t, sms.clone()).await, Err(HeraldError::BudgetExceeded(_))));
    let caller = t.clone();
    h.services.reading.cancel(&caller, first.as_str()).await.unwrap();
    h.accept(&t, sms).await.expect("the canceled message's reservation was released");
}

#[tokio::test]
async fn quiet_hours_defer_normal_messages_and_let_urgent_ones_through() {
    let h = Harness::new();
    // 12:00 UTC is 06:00 in Chicago: inside 21:00–09:00.
    let t = h.tenant(|t| t.quiet_hours = Some(QuietHours { start: "21:00".into(), end: "09:00".into() }));
    h.sms_channel(&t, false);
    let normal = h.accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "hi"})).await.unwrap();
    let m = h.message(&normal);
    assert_eq!((m.status, m.hold_reason), (Status::Deferred, Some(HoldReason::QuietHours)));
    assert_eq!(m.deferred_until.unwrap().to_rfc3339(), "2026-11-25T15:00:00+00:00", "09:00 CST");
    let urgent = h
        .accept(&t, json!({"channel": "sms", "to": "+14155550100", "body": "otp", "priority": "urgent"}))
        .await
        .unwrap();
    assert_eq!(h.message(&urgent).status, Status::Queued);
    assert_eq!(h.queue.len(), 1, "only the urgent one was queued");
}

#[tokio::test]
async fn the_whatsapp_quota_keeps_the_last_tenth_for_urgent_messages() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    let tenant = t.tenant().unwrap().id.clone();
    let reset_at = h.clock.now_value() + chrono::Duration::hours(6);
    h.mem.with(|s| {
        s.quotas.insert(
            tenant.clone(),
            QuotaState { tenant_id: tenant.clone(), sent: 8, limit: 10, reset_at, throttle_until: None },
        )
    });
    let mut msg = crate::message::tests::sample(h.clock.now_value());
    (msg.tenant_id, msg.channel) = (tenant.clone(), crate::Channel::Whatsapp);
    let route = Some(Route { provider: crate::Provider::Whatsapp, from: None, daily_quota: Some(10) });
    let policy = &h.services.policy;
    assert_eq!(policy.before_send(&msg, None, route).await.unwrap(), None, "9th of 10 passes");
    let gate = policy.before_send(&msg, None, route).await.unwrap();
    assert_eq!(gate, Some(Gate::Hold(Hold::deferred(HoldReason::QuotaExceeded, reset_at))));
    msg.priority = crate::message::Priority::Urgent;
    assert_eq!(policy.before_send(&msg, None, route).await.unwrap(), None, "urgent may use the last 10 %");
    assert!(policy.before_send(&msg, None, route).await.unwrap().is_some(), "at 100 % nothing passes");
}

#[tokio::test]
async fn a_dead_letter_retried_reserves_its_budget_again() {
    let h = Harness::new();
    let t = h.tenant(|t| t.daily_budget_cents = Some(1));
    h.sms_channel(&t, false);
    let sms = json!({"channel": "sms", "to": "+14155550100", "body": "hi"});
    let failed = h.accept(&t, sms.clone()).await.unwrap();
    h.provider.fail_next(
        crate::Provider::Twilio,
        400,
        crate::ErrorCode::InvalidPhoneNumber,
        false,
        crate::errors::Blame::Recipient,
    );
    h.send_next().await.unwrap();
    assert_eq!(h.message(&failed).status, Status::Failed, "its reservation went back");
    let other = h.accept(&t, sms).await.unwrap();
    let retry = crate::service::DlqFilter { ids: Some(vec![failed.to_string()]), ..Default::default() };
    let report = h.services.dead_letters.dlq_retry(&t, &retry).await.unwrap();
    assert_eq!(report.requeued, 0, "no room in the budget: it stays a dead letter");
    h.services.reading.cancel(&t, other.as_str()).await.unwrap();
    let report = h.services.dead_letters.dlq_retry(&t, &retry).await.unwrap();
    assert_eq!(report.requeued, 1);
    assert_eq!(h.message(&failed).reserved_cents, 1);
}
