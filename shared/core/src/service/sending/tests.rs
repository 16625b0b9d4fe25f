//! The send pipeline's decisions, on in-memory ports.
use crate::errors::{Blame, ErrorCode};
use crate::guards::{BreakerRecord, BreakerState, DncEntry, ProviderAccount};
use crate::message::HoldReason;
use crate::service::testing::Harness;
use crate::service::JobOutcome;
use crate::{Provider, Status};
use serde_json::json;

fn sms(to: &str) -> serde_json::Value {
    json!({"channel": "sms", "to": to, "body": "hello"})
}

#[tokio::test]
async fn a_queued_message_is_sent_once() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    let (job, outcome) = h.send_next().await.unwrap();
    assert_eq!(outcome, JobOutcome::Done);
    let m = h.message(&id);
    assert_eq!((m.status, m.provider, m.from.as_deref()), (Status::Sent, Some(Provider::Twilio), Some("+14155550001")));
    assert_eq!(m.provider_message_id.as_deref(), Some("PM1"));
    // The same job again (a redelivery) finds the message sent: no second call.
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert_eq!(h.provider.calls().len(), 1);
}

#[tokio::test]
async fn a_retryable_failure_backs_off_and_a_permanent_one_dead_letters() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.provider.fail_next(Provider::Twilio, 503, ErrorCode::TemporaryError, true, Blame::Provider);
    let (job, outcome) = h.send_next().await.unwrap();
    assert!(matches!(outcome, JobOutcome::RetryAfter(_)), "{outcome:?}");
    let m = h.message(&id);
    assert_eq!((m.status, m.attempts.len(), m.error_code), (Status::Queued, 1, Some(ErrorCode::TemporaryError)));
    h.provider.fail_next(Provider::Twilio, 400, ErrorCode::InvalidPhoneNumber, false, Blame::Recipient);
    let outcome = h.services.sending.process(&job).await.unwrap();
    assert_eq!(outcome, JobOutcome::DeadLetter { reason: "INVALID_PHONE_NUMBER".into() });
    let m = h.message(&id);
    assert_eq!((m.status, m.dead_lettered, m.attempts.len()), (Status::Failed, true, 2));
}

#[tokio::test]
async fn a_job_before_its_message_comes_back_and_one_never_written_is_dropped() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    let mut job = h.queue.pop().unwrap();
    let written = h.mem.with(|s| s.messages.remove(&id)).unwrap();
    // Its request is still writing it: the job comes back in a second.
    let outcome = h.services.sending.process(&job).await.unwrap();
    assert_eq!(outcome, JobOutcome::NotYet(std::time::Duration::from_secs(1)));
    let delay = |s| super::recover::not_yet_delay(std::time::Duration::from_secs(s)).as_millis();
    assert_eq!((delay(0), delay(10), delay(60), delay(119)), (1000, 2500, 15000, 29750), "backs off with age");
    h.mem.with(|s| s.messages.insert(id.clone(), written));
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert_eq!(h.message(&id).status, Status::Sent);
    // A job older than the wait whose message never came: its request stopped; dropped.
    let old = h.clock.now_value() - chrono::Duration::minutes(3);
    job.message_id = crate::MessageId::floor_at(old.timestamp_millis() as u64);
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert_eq!(h.provider.calls().len(), 1);
}

#[tokio::test]
async fn a_job_redelivered_while_claimed_puts_the_claim_in_the_work_index_once() {
    use crate::ports::{WorkIndex, WorkState};
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    let job = h.queue.pop().unwrap();
    // What a sender that died mid-call leaves: claimed, no due time (the claim writes none).
    let claimed_at = h.clock.now_value();
    h.mem.with(|s| {
        let m = s.messages.get_mut(&id).unwrap();
        m.begin_attempt(Provider::Twilio, claimed_at);
        m.version += 1;
    });
    let mem = h.mem.clone();
    let work = |at| {
        let mem = mem.clone();
        async move { WorkIndex::due(mem.as_ref(), WorkState::Active, at, 10).await.unwrap() }
    };
    let far = claimed_at + chrono::Duration::days(1);
    assert!(work(far).await.is_empty(), "a claim alone is in no index");
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    let m = h.message(&id);
    assert_eq!(m.due_at, Some(claimed_at + chrono::Duration::minutes(10)), "claim + HERALD_STALE_AFTER");
    assert_eq!(work(far).await, vec![id.clone()]);
    let version = m.version;
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert_eq!(h.message(&id).version, version, "indexed once");
    assert!(h.provider.calls().is_empty(), "never called again blindly");
}

#[tokio::test]
async fn a_stale_generation_is_dropped_without_a_call() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    h.accept(&t, sms("+14155550100")).await.unwrap();
    let mut job = h.queue.pop().unwrap();
    job.generation += 1;
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert!(h.provider.calls().is_empty());
}

#[tokio::test]
async fn a_paused_tenant_is_held_and_an_opted_out_recipient_suppressed() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let held = h.accept(&t, sms("+14155550100")).await.unwrap();
    let suppressed = h.accept(&t, sms("+14155550101")).await.unwrap();
    let tenant_id = t.tenant().unwrap().id.clone();
    h.mem.with(|s| {
        s.tenants.get_mut(&tenant_id).unwrap().paused =
            Some(crate::tenant::Pause { reason: "x".into(), at: chrono::Utc::now(), by: "admin".into() });
    });
    h.send_next().await.unwrap();
    assert_eq!(h.message(&held).hold_reason, Some(HoldReason::TenantPaused));
    h.mem.with(|s| s.tenants.get_mut(&tenant_id).unwrap().paused = None);
    let entry = DncEntry {
        tenant_id,
        address: "+14155550101".into(),
        reason: "STOP".into(),
        source: "api".into(),
        created_at: chrono::Utc::now(),
    };
    h.mem.with(|s| s.dnc.insert((entry.tenant_id.clone(), entry.address.clone()), entry));
    h.send_next().await.unwrap();
    assert_eq!(h.message(&suppressed).status, Status::Suppressed);
    assert!(h.provider.calls().is_empty(), "nothing reached the provider");
}

/// The sender reads the recipient's entry with the message when the job names the
/// recipient; a job without one (queued before) or naming another address reads it apart.
#[tokio::test]
async fn the_send_time_opt_out_check_holds_for_any_job() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let tenant_id = t.tenant().unwrap().id.clone();
    let stop = |address: &str| DncEntry {
        tenant_id: tenant_id.clone(),
        address: address.into(),
        reason: "STOP".into(),
        source: "api".into(),
        created_at: chrono::Utc::now(),
    };
    let a = h.accept(&t, sms("+14155550102")).await.unwrap();
    let b = h.accept(&t, sms("+14155550103")).await.unwrap();
    for e in [stop("+14155550102"), stop("+14155550103")] {
        h.mem.with(|s| s.dnc.insert((e.tenant_id.clone(), e.address.clone()), e));
    }
    let mut legacy = h.queue.pop().unwrap();
    assert_eq!(legacy.to.as_deref(), Some("+14155550102"), "the job names its recipient");
    legacy.to = None;
    h.services.sending.process(&legacy).await.unwrap();
    let mut forged = h.queue.pop().unwrap();
    forged.to = Some("+14155550199".into());
    h.services.sending.process(&forged).await.unwrap();
    assert_eq!(h.message(&a).status, Status::Suppressed);
    assert_eq!(h.message(&b).status, Status::Suppressed, "a job naming another address is not trusted");
    assert!(h.provider.calls().is_empty());
}

fn open_breaker(h: &Harness, account: ProviderAccount) {
    let rec = BreakerRecord {
        state: BreakerState::Open,
        since: h.clock.now_value(),
        version: 1,
        buckets: Default::default(),
    };
    h.mem.with(|s| s.breakers.insert(account, rec));
}

#[tokio::test]
async fn an_open_circuit_fails_over_to_the_backup_or_holds() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, true);
    open_breaker(&h, ProviderAccount::new(Provider::Twilio, "AC1"));
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.send_next().await.unwrap();
    let m = h.message(&id);
    assert_eq!((m.status, m.provider, m.from.as_deref()), (Status::Sent, Some(Provider::Telnyx), Some("+14155550002")));
    assert!(m.notes.iter().any(|n| n == "failover:twilio->telnyx:circuit_open"));
}

#[tokio::test]
async fn with_both_circuits_open_the_message_is_held() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, true);
    open_breaker(&h, ProviderAccount::new(Provider::Twilio, "AC1"));
    open_breaker(&h, ProviderAccount::new(Provider::Telnyx, telnyx_account()));
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.send_next().await.unwrap();
    let m = h.message(&id);
    assert_eq!((m.status, m.hold_reason), (Status::Queued, Some(HoldReason::ProviderCircuitOpen)));
    assert!(h.provider.calls().is_empty(), "the held message reached no provider");
}

#[tokio::test]
async fn a_failed_probe_sends_the_message_straight_to_the_backup() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, true);
    open_breaker(&h, ProviderAccount::new(Provider::Twilio, "AC1"));
    h.clock.advance(chrono::Duration::minutes(5));
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.provider.fail_next(Provider::Twilio, 503, ErrorCode::TemporaryError, true, Blame::Provider);
    let (job, outcome) = h.send_next().await.unwrap();
    assert_eq!(outcome, JobOutcome::RetryAfter(std::time::Duration::ZERO), "no back-off after a failed probe");
    assert_eq!(h.message(&id).provider, Some(Provider::Twilio), "the probe went to the primary");
    h.services.sending.process(&job).await.unwrap();
    let m = h.message(&id);
    assert_eq!((m.status, m.provider), (Status::Sent, Some(Provider::Telnyx)), "{m:?}");
}

#[tokio::test]
async fn a_test_key_message_goes_to_the_simulator() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    let crate::service::Caller::Tenant { tenant, mut key, .. } = t else { unreachable!() };
    key.mode = crate::KeyMode::Test;
    let t = crate::service::Caller::Tenant { tenant, key, user: None };
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.send_next().await.unwrap();
    assert_eq!(h.provider.calls(), vec![(Provider::Simulator, "+14155550100".to_string())]);
    assert_eq!(h.message(&id).status, Status::Sent);
}

#[tokio::test]
async fn a_lost_answer_is_unknown_never_retried_and_a_receipt_with_heralds_id_settles_it() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    let id = h.accept(&t, sms("+14155550100")).await.unwrap();
    h.provider.lose_next_answer(Provider::Twilio);
    let (job, outcome) = h.send_next().await.unwrap();
    assert_eq!(outcome, JobOutcome::Done, "the queue copy goes: nothing is re-sent from the queue");
    let m = h.message(&id);
    assert_eq!((m.status, m.attempts[0].outcome), (Status::Sending, crate::message::AttemptOutcome::Unknown));
    assert!(m.due_at.is_some(), "recovery looks again after the wait");
    assert_eq!(h.services.sending.process(&job).await.unwrap(), JobOutcome::Done);
    assert_eq!(h.provider.calls().len(), 1, "a redelivery does not send it again");
    let receipt = crate::inbound::Receipt {
        provider: Provider::Twilio,
        provider_message_id: "SMlate".into(),
        status: Status::Delivered,
        error_code: None,
        error: None,
        error_message: None,
        at: h.clock.now_value(),
        price_cents: None,
        tenant_id: Some(t.tenant().unwrap().id.clone()),
        message_id: Some(id.clone()),
    };
    h.services.receipts.apply_receipt(&receipt).await.unwrap();
    let m = h.message(&id);
    assert_eq!((m.status, m.provider_message_id.as_deref()), (Status::Delivered, Some("SMlate")));
    assert_eq!(m.attempts[0].outcome, crate::message::AttemptOutcome::Sent);
}

/// The fake provider names a Telnyx account by its API key.
fn telnyx_account() -> String {
    "KEY".into()
}

#[tokio::test]
async fn a_broken_account_holds_only_its_own_tenants() {
    let h = Harness::new();
    let (a, b) = (h.tenant(|_| {}), h.tenant(|_| {}));
    h.sms_channel(&b, false);
    // B's account is another Twilio account, with a number of its own.
    let b_id = b.tenant().unwrap().id.clone();
    h.mem.with(|s| {
        let name = format!("herald/tenants/{b_id}/channels/sms");
        let secrets = s.secrets[&name].replace("\"AC1\"", "\"AC2\"");
        s.secrets.insert(name, secrets);
        let mut n = s.numbers["+14155550001"].clone();
        n.tenant_id = b_id.clone();
        n.phone_number = "+14155550003".into();
        s.numbers.insert(n.phone_number.clone(), n);
    });
    h.sms_channel(&a, false);
    open_breaker(&h, ProviderAccount::new(Provider::Twilio, "AC1"));
    let held = h.accept(&a, sms("+14155550100")).await.unwrap();
    let sent = h.accept(&b, sms("+14155550100")).await.unwrap();
    h.send_next().await.unwrap();
    h.send_next().await.unwrap();
    assert_eq!(h.message(&held).hold_reason, Some(HoldReason::ProviderCircuitOpen));
    assert_eq!(h.message(&sent).status, Status::Sent, "another account's circuit is closed");
}

#[tokio::test]
async fn an_open_circuit_holds_without_churn_and_its_probe_releases_the_hold_in_order() {
    let h = Harness::new();
    let t = h.tenant(|_| {});
    h.sms_channel(&t, false);
    open_breaker(&h, ProviderAccount::new(Provider::Twilio, "AC1"));
    let mut ids = Vec::new();
    for to in ["+14155550100", "+14155550101", "+14155550102"] {
        ids.push(h.accept(&t, sms(to)).await.unwrap());
        h.send_next().await.unwrap();
        h.clock.advance(chrono::Duration::seconds(1));
    }
    for id in &ids {
        let m = h.message(id);
        assert_eq!((m.hold_reason, m.due_at), (Some(HoldReason::ProviderCircuitOpen), None), "no due time: no churn");
    }
    // Within the cool-down the job's candidate is held again; after it, it carries the probe.
    h.clock.advance(chrono::Duration::minutes(5));
    h.services.jobs.dispatch().await.unwrap();
    let (job, _) = h.send_next().await.unwrap();
    assert_eq!(job.message_id, ids[0], "the oldest held message carries the probe");
    assert_eq!(h.message(&ids[0]).status, Status::Sent);
    // The probe closed the circuit and released the rest, oldest first.
    let (next, _) = h.send_next().await.unwrap();
    assert_eq!(next.message_id, ids[1]);
    h.send_next().await.unwrap();
    assert!(ids.iter().all(|id| h.message(id).status == Status::Sent));
    assert_eq!(h.provider.calls().len(), 3, "one call per message");
}

#[tokio::test]
async fn a_healthy_provider_costs_no_breaker_write_per_send_and_the_failure_rate_stays_exact() {
    use crate::errors::Classification;
    let h = Harness::new();
    let account = ProviderAccount::new(Provider::Twilio, "AC9");
    let breakers = &h.services.breakers;
    let totals = || {
        h.mem.with(|s| s.breakers.get(&account).map(|r| r.buckets.values().fold((0, 0), |t, b| (t.0 + b.0, t.1 + b.1))))
    };
    breakers.admit(&account).await.unwrap();
    breakers.record_outcome(&account, None, false).await.unwrap();
    assert_eq!(totals(), Some((1, 0)), "an account's first outcome is written (the health view lists it)");
    for _ in 0..4 {
        breakers.record_outcome(&account, None, false).await.unwrap();
    }
    assert_eq!(totals(), Some((1, 0)), "successes wait in the container");
    let failure = Classification { code: ErrorCode::TemporaryError, retryable: true, blame: Blame::Provider };
    breakers.record_outcome(&account, Some(failure), false).await.unwrap();
    assert_eq!(totals(), Some((6, 1)), "written with the next failure: 6 attempts, 1 failure");
}
