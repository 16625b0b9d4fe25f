//! A guard added the documented way: a type implementing `Guard` and one line in the list
//! (here `Policy::with_guard`, which puts it where a new line goes: before the budget). It
//! is asked in its place, at acceptance and before each send.
use super::{AcceptCheck, Gate, Guard, Policy, PolicyPorts, Verdict};
use crate::message::HoldReason;
use crate::service::accepting::{validate, SendRequest};
use crate::service::budget::Budgets;
use crate::service::testing::Harness;
use crate::service::{HeraldError, Settings};
use crate::KeyMode;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// Only recipients who said yes: refused at the API, held if consent went away since.
struct Consent;

const CONSENTED: &str = "+14155550100";

#[async_trait]
impl Guard for Consent {
    fn name(&self) -> &'static str {
        "consent"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        Ok(match c.valid.to.as_str() == CONSENTED {
            true => Verdict::Pass,
            false => Verdict::Refuse(HeraldError::validation("to", "NO_CONSENT", "the recipient has not consented")),
        })
    }
    async fn before_send(&self, c: &super::SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        Ok((c.msg.to.as_str() != CONSENTED).then(|| Gate::held(HoldReason::TenantPaused)))
    }
}

fn policy(h: &Harness) -> Policy {
    let m = h.mem.clone();
    let ports = PolicyPorts {
        tenants: m.clone(),
        numbers: m.clone(),
        dnc: m.clone(),
        counters: m.clone(),
        windows: m.clone(),
        features: m.clone(),
        linking: m.clone(),
        clock: h.clock.clone(),
    };
    let budgets = Arc::new(Budgets::new(m.clone(), m.clone(), m, h.clock.clone()));
    let recheck = std::time::Duration::from_secs(60);
    Policy::new(ports, budgets, Settings::default().pricing, recheck).with_guard(Arc::new(Consent))
}

async fn admit(h: &Harness, p: &Policy, tenant: &crate::tenant::Tenant, to: &str) -> Result<u64, HeraldError> {
    let mut req: SendRequest = serde_json::from_value(json!({"channel": "sms", "to": to, "body": "hi"})).unwrap();
    let mut valid = validate(Some("US"), &req).unwrap();
    let mut notes = vec![];
    let mut c = AcceptCheck {
        tenant,
        mode: KeyMode::Live,
        req: &mut req,
        valid: &mut valid,
        notes: &mut notes,
        revalidate: h.services.accepting.as_ref(),
        now: h.clock.now_value(),
        hold: None,
        cost: 0,
        reserved: None,
    };
    p.at_acceptance(&mut c).await.map(|()| c.cost)
}

#[tokio::test]
async fn a_new_guard_is_asked_in_its_place_in_the_list() {
    let h = Harness::new();
    let p = policy(&h);
    let names = p.names();
    assert_eq!(&names[names.len() - 2..], ["consent", "budget"], "{names:?}");
    let t = h.tenant(|t| t.daily_budget_cents = Some(100));
    let tenant = t.tenant().unwrap().clone();

    let refused = admit(&h, &p, &tenant, "+14155550199").await.unwrap_err();
    assert_eq!(refused.code(), "VALIDATION_ERROR", "{refused:?}");
    assert_eq!(h.services.budgets.view(&tenant).await.unwrap().daily_spent_cents, 0, "refused before the budget");
    assert!(admit(&h, &p, &tenant, CONSENTED).await.unwrap() > 0, "priced and reserved after it");
    assert!(h.services.budgets.view(&tenant).await.unwrap().daily_spent_cents > 0);

    // Guards before it answer first: the do-not-contact list refuses with its own code.
    h.services.dnc.put(&t, "+14155550199", None).await.unwrap();
    let refused = admit(&h, &p, &tenant, "+14155550199").await.unwrap_err();
    assert_eq!(refused, HeraldError::RecipientOptedOut);

    // Before a send: asked after the guards that need no route, and only then.
    let mut msg = crate::message::tests::sample(h.clock.now_value());
    msg.tenant_id = tenant.id.clone();
    msg.to = crate::address::Address::Phone(crate::address::E164::from_stored("+14155550199".into()));
    assert_eq!(p.before_send(&msg, Some(None), None).await.unwrap(), Some(Gate::held(HoldReason::TenantPaused)));
    let route = super::Route { provider: crate::Provider::Twilio, from: None, daily_quota: None };
    assert_eq!(p.before_send(&msg, Some(None), Some(route)).await.unwrap(), None, "not a route guard");
}
