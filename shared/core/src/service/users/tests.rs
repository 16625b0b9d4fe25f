use super::*;
use crate::service::testing::Harness;
use crate::service::users::SignInStep;

fn invite(email: &str, role: Role, tenant: Option<&TenantId>) -> Invite {
    Invite {
        email: email.into(),
        role,
        tenant_id: tenant.map(|t| t.to_string()),
        temporary_password: Some("Temp-pass1".into()),
    }
}

/// Invites and signs in (setting the first password); the session's token.
async fn signed_in(h: &Harness, email: &str, role: Role, tenant: Option<&TenantId>) -> String {
    h.services.users.invite(&Caller::ADMIN, invite(email, role, tenant), true).await.unwrap();
    let sessions = &h.services.sessions;
    let SignInStep::NewPasswordRequired { challenge } = sessions.sign_in(email, "Temp-pass1").await.unwrap() else {
        panic!("a first sign-in sets a password")
    };
    sessions.set_password(email, &challenge, "Own-pass-2").await.unwrap().token
}

#[tokio::test]
async fn a_first_sign_in_sets_a_password_and_the_session_acts_for_its_tenant() {
    let h = Harness::new();
    let tenant = h.tenant(|_| {});
    let id = tenant.tenant().unwrap().id.clone();
    let token = signed_in(&h, "Owner@Example.org", Role::Owner, Some(&id)).await;
    let caller = h.services.sessions.authenticate(&token).await.unwrap();
    assert_eq!(caller.tenant().unwrap().id, id);
    assert!(caller.live_tenant().is_ok(), "an owner changes settings");
    assert!(caller.actor().starts_with("usr_"));
    let again = h.services.sessions.sign_in("owner@example.org", "Own-pass-2").await.unwrap();
    assert!(matches!(again, SignInStep::Done(_)));
    let wrong = h.services.sessions.sign_in("owner@example.org", "Temp-pass1").await;
    assert!(matches!(wrong, Err(HeraldError::InvalidCredentials(_))));
}

#[tokio::test]
async fn a_member_reads_and_sends_but_changes_nothing() {
    let h = Harness::new();
    let id = h.tenant(|_| {}).tenant().unwrap().id.clone();
    let token = signed_in(&h, "member@example.org", Role::Member, Some(&id)).await;
    let member = h.services.sessions.authenticate(&token).await.unwrap();
    assert!(member.tenant().is_ok());
    assert_eq!(member.live_tenant().unwrap_err(), HeraldError::OwnerOnly);
    let asked = h.services.users.invite(&member, invite("x@example.org", Role::Member, None), false).await;
    assert_eq!(asked.unwrap_err(), HeraldError::OwnerOnly);
}

#[tokio::test]
async fn an_operator_session_has_admin_rights_and_no_tenant() {
    let h = Harness::new();
    let token = signed_in(&h, "ops@example.org", Role::Operator, None).await;
    let op = h.services.sessions.authenticate(&token).await.unwrap();
    assert!(op.require_admin().is_ok());
    assert!(op.tenant().is_err());
    let tenant_with_operator = invite("bad@example.org", Role::Operator, Some(&TenantId::generate()));
    assert!(h.services.users.invite(&Caller::ADMIN, tenant_with_operator, true).await.is_err());
}

#[tokio::test]
async fn sessions_end_when_idle_signed_out_or_disabled() {
    let h = Harness::new();
    let owner = h.tenant(|_| {});
    let id = owner.tenant().unwrap().id.clone();
    let sessions = &h.services.sessions;
    let idle = signed_in(&h, "a@example.org", Role::Member, Some(&id)).await;
    h.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(sessions.authenticate(&idle).await.unwrap_err(), HeraldError::SessionExpired);

    let out = signed_in(&h, "b@example.org", Role::Member, Some(&id)).await;
    let SignInStep::Done(second) = sessions.sign_in("b@example.org", "Own-pass-2").await.unwrap() else { panic!() };
    sessions.sign_out(&out).await.unwrap();
    assert_eq!(sessions.authenticate(&out).await.unwrap_err(), HeraldError::SessionExpired);
    // The other browser's tokens were revoked too: it ends at its next check with Cognito.
    h.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(sessions.authenticate(&second.token).await.unwrap_err(), HeraldError::SessionExpired);

    let gone = signed_in(&h, "c@example.org", Role::Member, Some(&id)).await;
    let user = h.users.user_by_email("c@example.org").await.unwrap().unwrap();
    let removed = h.services.users.disable(&owner, user.id.as_str()).await.unwrap();
    assert_eq!(removed.status, UserStatus::Disabled);
    assert_eq!(sessions.authenticate(&gone).await.unwrap_err(), HeraldError::SessionExpired);
    assert!(sessions.sign_in("c@example.org", "Own-pass-2").await.is_err());
}

#[tokio::test]
async fn a_tenant_reaches_only_its_own_users() {
    let h = Harness::new();
    let a = h.tenant(|_| {});
    let b = h.tenant(|_| {});
    let b_id = b.tenant().unwrap().id.clone();
    let theirs = h.services.users.invite(&b, invite("b@example.org", Role::Member, None), false).await;
    assert!(theirs.is_err(), "the tenant route takes no temporary password");
    let mut req = invite("b@example.org", Role::Member, None);
    req.temporary_password = None;
    let theirs = h.services.users.invite(&b, req, false).await.unwrap();
    assert_eq!(theirs.tenant_id.as_ref(), Some(&b_id));
    assert_eq!(h.services.users.disable(&a, theirs.id.as_str()).await.unwrap_err(), HeraldError::NotFound);
    assert!(h.services.users.list(&a, None, false).await.unwrap().is_empty());
    assert_eq!(h.services.users.list(&b, None, false).await.unwrap().len(), 1);
    let dup = h.services.users.invite(
        &a,
        Invite { temporary_password: None, ..invite("B@example.org", Role::Owner, None) },
        false,
    );
    assert!(matches!(dup.await, Err(HeraldError::Conflict(_))));
}
