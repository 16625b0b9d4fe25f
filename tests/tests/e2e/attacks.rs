//! Issue 23: each attack of the security review (../shared/reviews/security.md), tried
//! through the public surface; each fails with the contract's code, and the victim's state
//! is checked after.
use herald_tests::{spawn_app, spawn_app_with_clock, TestApp, TestClock};
use serde_json::json;

fn ses(app: &TestApp) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&app.running.app.infra.sdk)
}

async fn at_ses(app: &TestApp, identity: &str) -> bool {
    ses(app).get_email_identity().email_identity(identity).send().await.is_ok()
}

/// C-1: an identity that exists at SES is never adopted; the operator assigns it; a
/// released one is deleted at SES; a domain covers its subdomains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_identity_outside_herald_is_never_adopted_and_a_released_one_is_deleted() {
    let app = spawn_app(&[]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    let domain = format!("{}.example", app.prefix);
    // The operator verified B's domain out of band, before Herald kept claims.
    ses(&app).create_email_identity().email_identity(&domain).send().await.unwrap();

    for identity in [domain.clone(), format!("mail.{domain}"), format!("billing@{domain}")] {
        let r = app.post("/v1/email/identities", &a.live_key, json!({"identity": identity})).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "IDENTITY_EXISTS_OUTSIDE_HERALD"), "{identity}: {}", r.body);
    }
    let r = app.get("/v1/email/identities", &a.live_key).await;
    assert_eq!(r.body["identities"], json!([]), "nothing adopted, no claim left behind");
    let channel = json!({"provider": "ses", "from_address": format!("billing@{domain}")});
    let r = app.put("/v1/channels/email", &a.live_key, channel.clone()).await;
    assert_eq!((r.status.as_u16(), r.code()), (422, "IDENTITY_NOT_VERIFIED"), "{}", r.body);

    // Only the operator assigns it, with a reason, audited.
    let assign = format!("/v1/admin/tenants/{}/email/identities", b.id);
    assert_eq!(app.post(&assign, &b.live_key, json!({"identity": domain, "reason": "x"})).await.status, 403);
    let r = app.post(&assign, &app.admin_key, json!({"identity": domain})).await;
    assert_eq!(r.status, 400, "a reason is required: {}", r.body);
    let r = app.post(&assign, &app.admin_key, json!({"identity": domain, "reason": "verified before Herald"})).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (201, Some("verified")), "{}", r.body);
    let audit =
        app.get(&format!("/v1/admin/audit?tenant_id={}&action=email_identity.assign", b.id), &app.admin_key).await;
    assert_eq!(audit.body["entries"].as_array().map(Vec::len), Some(1), "{}", audit.body);

    // B's domain covers its subdomains: A cannot claim one, B sends from one.
    let r = app.post("/v1/email/identities", &a.live_key, json!({"identity": format!("mail.{domain}")})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "ALREADY_CLAIMED"), "{}", r.body);
    let sub = json!({"provider": "ses", "from_address": format!("news@mail.{domain}")});
    assert_eq!(app.put("/v1/channels/email", &b.live_key, sub).await.status, 200);

    // Released: deleted at SES, so the next claimant proves it afresh.
    assert_eq!(app.delete(&format!("/v1/email/identities/{domain}"), &b.live_key).await.status, 204);
    assert!(!at_ses(&app, &domain).await, "a released identity is deleted at SES");
    let r = app.post("/v1/email/identities", &a.live_key, json!({"identity": domain})).await;
    assert_eq!(r.status, 201, "a new identity, created by this claim: {}", r.body);
}

/// L-3: an unverified claim expires after 72 h, at SES too; claims per tenant are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_identity_claim_expires_and_pending_claims_are_bounded() {
    let start = chrono::Utc::now();
    let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let clock = TestClock::at(&rfc(start));
    let app = spawn_app_with_clock(&[("HERALD_SES_ASSUME_VERIFIED", "false")], Some(clock.clone())).await;
    let t = app.create_tenant(json!({})).await;
    let squat = format!("{}-bigbrand.example", app.prefix);
    let r = app.post("/v1/email/identities", &t.live_key, json!({"identity": squat})).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (201, Some("pending")), "{}", r.body);
    for i in 1..10 {
        let r = app.post("/v1/email/identities", &t.live_key, json!({"identity": format!("n{i}.{squat}")})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.post("/v1/email/identities", &t.live_key, json!({"identity": format!("n10.{squat}")})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "{}", r.body);
    assert_eq!(r.body["error"]["fields"]["identity"], "TOO_MANY_PENDING_IDENTITIES");

    clock.set(&rfc(start + chrono::Duration::hours(73)));
    herald_tests::eventually(std::time::Duration::from_secs(40), "the claims expired", || async {
        app.run_job("dispatch").await;
        let r = app.get("/v1/email/identities", &t.live_key).await;
        (r.body["identities"] == json!([])).then_some(())
    })
    .await;
    assert!(!at_ses(&app, &squat).await, "deleted at SES too");
    let audit =
        app.get(&format!("/v1/admin/audit?tenant_id={}&action=email_identity.expire", t.id), &app.admin_key).await;
    assert_eq!(audit.body["entries"].as_array().map(Vec::len), Some(10), "{}", audit.body);
}

/// H-1: a tenant cannot lift an operator's pause, in two calls or through a stale copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_lift_an_operators_pause_or_clear_its_ceilings() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({"name": "Grace Church"})).await;
    let admin_tenant = format!("/v1/admin/tenants/{}", t.id);
    // Another warm container has the tenant cached, unpaused and without ceilings.
    let other = app.another_container().await;
    let r = app.call_at(&other.url(), reqwest::Method::GET, "/v1/tenant", &t.live_key, json!(null)).await;
    assert_eq!((r.status.as_u16(), r.body["paused"].is_null()), (200, true), "{}", r.body);

    let r = app.patch(&admin_tenant, &app.admin_key, json!({"max_rate_limit_per_minute": 30})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post(&format!("{admin_tenant}/pause"), &app.admin_key, json!({"reason": "abuse report 7"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Two calls: the tenant's own pause does not replace the operator's, then resume.
    let r = app.post("/v1/tenant/pause", &t.live_key, json!({"reason": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PAUSED_BY_OPERATOR"), "{}", r.body);
    let r = app.post("/v1/tenant/resume", &t.live_key, json!({})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PAUSED_BY_OPERATOR"), "{}", r.body);
    // A settings change served by the container with the stale copy.
    let patch = json!({"name": "Grace Church"});
    let r = app.call_at(&other.url(), reqwest::Method::PATCH, "/v1/tenant", &t.live_key, patch).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        app.call_at(&other.url(), reqwest::Method::POST, "/v1/tenant/pause", &t.live_key, json!({"reason": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PAUSED_BY_OPERATOR"), "{}", r.body);

    let stored = app.get(&admin_tenant, &app.admin_key).await.body;
    assert_eq!(stored["paused"]["by"], "admin", "{stored}");
    assert_eq!(stored["paused"]["reason"], "abuse report 7", "{stored}");
    assert_eq!(stored["max_rate_limit_per_minute"], 30, "{stored}");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "held"})).await;
    let m = app.message(&t.live_key, r.body["id"].as_str().unwrap()).await;
    assert_eq!(m["hold_reason"], "TENANT_PAUSED", "{m}");
    // The operator lifts it.
    assert_eq!(app.post(&format!("{admin_tenant}/resume"), &app.admin_key, json!({})).await.status, 200);
    assert!(app.get(&admin_tenant, &app.admin_key).await.body["paused"].is_null());
}

/// L-1: every do-not-contact change is audited with who made it; L-4: a live key never
/// meets a test key's idempotency record, whatever it is called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_out_changes_are_audited_and_test_idempotency_keys_stay_apart() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    assert_eq!(app.put("/v1/dnc/+14155550123", &t.live_key, json!({"reason": "asked"})).await.status, 200);
    assert_eq!(app.delete("/v1/dnc/+14155550123", &t.live_key).await.status, 204);
    let long = "x".repeat(201);
    assert_eq!(app.put("/v1/dnc/+14155550124", &t.live_key, json!({"reason": long})).await.status, 400);
    let audit = app.get(&format!("/v1/admin/audit?tenant_id={}&action=dnc.", t.id), &app.admin_key).await.body;
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"dnc.add") && actions.contains(&"dnc.remove"), "{audit}");
    assert!(entries.iter().all(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("key_"))), "{audit}");

    let body = json!({"channel": "sms", "to": "+14155550100", "body": "x"});
    let test = app.send_idempotent(&t.test_key, body.clone(), "order-7").await;
    let live = app.send_idempotent(&t.live_key, body, "test:order-7").await;
    assert_eq!((test.status.as_u16(), live.status.as_u16()), (202, 202), "{} {}", test.body, live.body);
    assert_ne!(test.body["id"], live.body["id"], "a live key never gets the test send's answer");
}

/// E24: a cursor is one this list handed out, or `400 INVALID_CURSOR`: never a 503, never a
/// silent first page, never a way into another tenant's list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_foreign_cursor_is_refused() {
    let app = spawn_app(&[]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    for i in 0..3 {
        app.send(&a.test_key, json!({"channel": "sms", "to": format!("+1415555010{i}"), "body": "x"})).await;
    }
    let page = app.get("/v1/messages?limit=1", &a.test_key).await;
    let cursor = page.body["next_cursor"].as_str().expect("a next page").to_string();
    assert_eq!(app.get(&format!("/v1/messages?limit=1&cursor={cursor}"), &a.test_key).await.status, 200);
    for (key, c) in [(&b.test_key, cursor.as_str()), (&a.test_key, "zz"), (&a.test_key, "7b7d")] {
        let r = app.get(&format!("/v1/messages?cursor={c}"), key).await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"), "{c}: {}", r.body);
        assert_eq!(r.body["error"]["fields"]["cursor"], "INVALID_CURSOR");
    }
}

/// L-5: registering another tenant's Telnyx number answers exactly as any number outside
/// one's account does: registration reveals no one's numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_another_tenants_telnyx_number_reveals_nothing() {
    use herald_tests::sim::numbers::SimNumber;
    let app = spawn_app(&[("HERALD_LINKING_SEARCH_DELAYS", "10ms,10ms")]).await;
    let (a, b) = (app.create_tenant(json!({})).await, app.create_tenant(json!({})).await);
    let profile = "40019a80-d883-4618-953b-dad1610b39f4";
    let telnyx = json!({"provider": "telnyx", "credentials": {"telnyx": {"api_key": herald_tests::sim::TELNYX_KEY, "messaging_profile_id": profile}}});
    for t in [&a, &b] {
        assert_eq!(app.put("/v1/channels/sms", &t.live_key, telnyx.clone()).await.status, 200);
    }
    app.sim.telnyx_number(SimNumber::new("+14155550399"));
    let number = json!({"phone_number": "+14155550399", "provider": "telnyx"});
    assert_eq!(app.post("/v1/numbers", &a.live_key, number.clone()).await.status, 201);
    // B's own Telnyx account does not hold it (the simulator's account for B's key).
    app.sim.telnyx_foreign_number("+14155550399");
    let theirs = app.post("/v1/numbers", &b.live_key, number).await;
    app.sim.telnyx_foreign_number("+14155550398");
    let nobodys =
        app.post("/v1/numbers", &b.live_key, json!({"phone_number": "+14155550398", "provider": "telnyx"})).await;
    assert_eq!((theirs.status, theirs.code()), (nobodys.status, nobodys.code()), "{} {}", theirs.body, nobodys.body);
    assert_eq!(theirs.code(), "NUMBER_NOT_IN_ACCOUNT");
}
