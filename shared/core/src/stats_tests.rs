use super::*;
use crate::message::tests::sample;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[test]
fn a_message_life_counts_once_per_outcome() {
    let now = at("2026-11-26T10:15:00Z");
    let created = sample(now);
    assert_eq!(outcomes(None, &created), vec![Outcome::Accepted]);
    let mut sending = created.clone();
    sending.begin_attempt(Provider::Twilio, now);
    assert!(outcomes(Some(&created), &sending).is_empty(), "a claim is no outcome");
    let mut sent = sending.clone();
    sent.record_sent("SM1".into(), now, false);
    assert_eq!(outcomes(Some(&sending), &sent), vec![Outcome::Sent { provider: Some(Provider::Twilio) }]);
    assert!(outcomes(Some(&sent), &sent).is_empty(), "a rewrite of the same state counts nothing");
    let mut delivered = sent.clone();
    delivered.delivered_at = Some(now);
    delivered.delivery_latency_ms = Some(1_500);
    delivered.status = Status::Delivered;
    assert_eq!(outcomes(Some(&sent), &delivered), vec![Outcome::Delivered { latency_ms: Some(1_500) }]);
    let mut failed = sending.clone();
    failed.record_failure(ErrorCode::InvalidPhoneNumber, None, "bad".into(), now);
    assert_eq!(
        outcomes(Some(&sending), &failed),
        vec![Outcome::Failed { code: Some(ErrorCode::InvalidPhoneNumber) }, Outcome::DeadLetters(1)]
    );
    let mut retried = failed.clone();
    retried.retry_from_dlq("admin", now);
    assert_eq!(outcomes(Some(&failed), &retried), vec![Outcome::DeadLetters(-1)]);
}

#[test]
fn holds_are_counted_in_and_out() {
    let now = at("2026-11-26T10:15:00Z");
    let m = sample(now);
    let mut held = m.clone();
    held.hold(HoldReason::TenantPaused, None, Status::Queued, now);
    let mut released = held.clone();
    released.requeue(now);
    let mut t = Tally::default();
    t.add(&held, &outcomes(Some(&m), &held));
    assert_eq!(t.held.get(&(Channel::Sms, HoldReason::TenantPaused)), Some(&1));
    t.add(&released, &outcomes(Some(&held), &released));
    assert_eq!(t.held.get(&(Channel::Sms, HoldReason::TenantPaused)), Some(&0));
    assert!(t.is_empty(), "in and out: nothing to write");
}

#[test]
fn the_window_is_rounded_out_to_whole_hours() {
    let now = at("2026-11-26T10:15:00Z");
    assert_eq!(window_hours(now, std::time::Duration::from_secs(3600)), vec!["2026112609", "2026112610"]);
    assert_eq!(window_hours(now, std::time::Duration::from_secs(600)), vec!["2026112610"]);
    assert_eq!(window_hours(now, std::time::Duration::from_secs(86_400)).len(), 25);
}

#[test]
fn the_summary_has_rates_codes_percentiles_and_top_tenants() {
    let (a, b) = (TenantId::generate(), TenantId::generate());
    let row = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<Counters>();
    let rows = vec![
        (
            a.clone(),
            row(&[
                ("accepted", 100),
                ("sent", 98),
                ("delivered", 90),
                ("failed", 4),
                ("e_INVALID_PHONE_NUMBER", 3),
                ("e_CARRIER_REJECTED", 1),
                ("l_02", 80),
                ("l_05", 9),
                ("l_08", 1),
            ]),
        ),
        (b.clone(), row(&[("accepted", 10), ("sent", 10), ("delivered", 10), ("l_02", 10)])),
        (a.clone(), row(&[("sent", 2)])),
    ];
    let now = at("2026-11-26T10:15:00Z");
    let v = summarize(now, now, &rows, 10);
    assert_eq!((v.accepted, v.sent, v.delivered, v.failed), (110, 110, 100, 4));
    assert_eq!(v.delivery_rate, Some(0.9091));
    assert_eq!(v.failure_rate, Some(0.0385));
    assert_eq!(v.by_error_code.get("INVALID_PHONE_NUMBER"), Some(&3));
    // 100 latencies: 90 ≤ 1 s, 9 ≤ 10 s, 1 ≤ 2 min.
    assert_eq!(v.latency_ms, Latency { p50: Some(1_000), p95: Some(10_000), p99: Some(10_000) });
    assert_eq!(v.top_tenants, vec![TenantCount { tenant_id: a, sent: 100 }, TenantCount { tenant_id: b, sent: 10 }]);
    let empty = summarize(now, now, &[], 10);
    assert_eq!((empty.delivery_rate, empty.latency_ms.p95), (None, None));
}
