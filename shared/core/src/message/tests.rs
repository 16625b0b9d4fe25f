use super::*;

pub fn sample(now: DateTime<Utc>) -> Message {
    let mut m = Message::draft(
        TenantId::generate(),
        Channel::Sms,
        crate::Address::from_stored("+14155550100".into()),
        CorrelationId::generate(),
        KeyMode::Live,
        now,
    );
    m.body = Some("hi".into());
    m.encoding = Some(Encoding::Gsm7);
    m.estimated_cost_cents = 1;
    m.version = 0;
    m
}

#[test]
fn attempt_lifecycle() {
    let now = Utc::now();
    let mut m = sample(now);
    assert_eq!(m.begin_attempt(Provider::Twilio, now), 1);
    assert_eq!(m.status, Status::Sending);
    m.record_retry(ErrorCode::TemporaryError, Some("503".into()), "down".into(), now, now);
    assert_eq!(m.status, Status::Queued);
    assert_eq!(m.attempts_made(), 1);
    assert_eq!(m.begin_attempt(Provider::Twilio, now), 2);
    m.record_sent("SM1".into(), now, false);
    assert_eq!(m.status, Status::Sent);
    assert_eq!(m.error_code, None);
    assert_eq!(
        m.attempts.iter().map(|a| a.outcome).collect::<Vec<_>>(),
        vec![AttemptOutcome::Retry, AttemptOutcome::Sent]
    );
    let statuses: Vec<_> = m.history.iter().map(|h| h.status).collect();
    assert_eq!(statuses, vec![Status::Queued, Status::Sending, Status::Queued, Status::Sending, Status::Sent]);
}

#[test]
fn sent_does_not_undo_an_earlier_receipt() {
    let now = Utc::now();
    let mut m = sample(now);
    m.begin_attempt(Provider::Telnyx, now);
    m.set_status(Status::Delivered, now);
    m.record_sent("id".into(), now, false);
    assert_eq!(m.status, Status::Delivered);
}

#[test]
fn group_and_dedup_ids() {
    let now = Utc::now();
    let mut m = sample(now);
    let g = m.group_id();
    assert!(g.len() <= 128);
    let d0 = m.dedup_id();
    m.requeue(now);
    assert_ne!(d0, m.dedup_id());
    assert_eq!(g, m.group_id());
}

#[test]
fn a_receipt_settles_only_a_plausible_price_and_only_for_its_own_tenant() {
    let now = Utc::now();
    let mut m = sample(now);
    m.begin_attempt(Provider::Telnyx, now);
    m.record_sent("id".into(), now, false);
    m.reserved_cents = 1;
    let receipt = |price: i64, tenant: Option<TenantId>| crate::inbound::Receipt {
        provider: Provider::Telnyx,
        provider_message_id: "id".into(),
        status: Status::Delivered,
        error_code: None,
        error: None,
        error_message: None,
        at: now,
        price_cents: Some(price),
        tenant_id: tenant,
        message_id: None,
    };
    assert_eq!(m.clone().apply_receipt(&receipt(2, Some(TenantId::generate())), now), None, "another tenant's");
    assert_eq!(m.clone().apply_receipt(&receipt(-500, None), now), Some(None), "a credit settles nothing");
    assert_eq!(m.clone().apply_receipt(&receipt(5_000, None), now), Some(None), "far above the estimate");
    assert_eq!(m.apply_receipt(&receipt(2, Some(m.tenant_id.clone())), now), Some(Some((2, 1))));
}

#[test]
fn hold_reason_names_are_their_serialized_names() {
    for r in HoldReason::ALL {
        assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
    }
}
