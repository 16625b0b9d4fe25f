//! Console users and sessions (CONTRACT §15) through the public surface: users in the
//! emulator's Cognito, the session cookie, the origin rule, roles, sign-out and removal.
use herald_tests::{spawn_app, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn audit_actors(app: &TestApp, tenant: &str, action: &str) -> Vec<String> {
    let r = app.get(&format!("/v1/admin/audit?tenant_id={tenant}&action={action}"), &app.admin_key).await;
    r.body["entries"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_changes_things_only_from_its_own_origin() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let owner = app.invite("Owner@Grace.org", "owner", Some(&t.id)).await;
    assert_eq!((owner["status"].as_str(), owner["email"].as_str()), (Some("invited"), Some("owner@grace.org")));
    let (cookie, set) = app.sign_in("owner@grace.org").await;
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"), "{set}");
    let me = app.as_user(Method::GET, "/v1/session", &cookie, None, None).await;
    assert_eq!(
        (me.body["user"]["role"].as_str(), me.body["tenant_name"].as_str()),
        (Some("owner"), Some("Grace Church"))
    );

    // Another site's page, and a request naming no origin at all, change nothing.
    let pause = Some(json!({"reason": "from a forged form"}));
    let forged =
        app.as_user(Method::POST, "/v1/tenant/pause", &cookie, pause.clone(), Some("https://evil.example")).await;
    assert_eq!((forged.status.as_u16(), forged.code()), (403, "CROSS_ORIGIN"));
    let bare = app.as_user(Method::POST, "/v1/tenant/pause", &cookie, pause.clone(), None).await;
    assert_eq!(bare.status, 403);
    assert!(app.get("/v1/tenant", &t.live_key).await.body["paused"].is_null(), "nothing was paused");

    // From the console's own origin it works, audited under the user's id.
    let ok = app.as_user(Method::POST, "/v1/tenant/pause", &cookie, pause, Some(&app.origin())).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(audit_actors(&app, &t.id, "tenant.pause").await, vec![owner["id"].as_str().unwrap().to_string()]);

    // Over https the cookie is Secure too.
    let r = app
        .call(
            Method::POST,
            "/v1/session",
            None,
            Some(json!({"email": "owner@grace.org", "password": herald_tests::users::PASSWORD})),
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(r.headers["set-cookie"].to_str().unwrap().contains("; Secure"));
    let wrong = json!({"email": "owner@grace.org", "password": "Not-it-123!"});
    let r = app.call(Method::POST, "/v1/session", None, Some(wrong), &[]).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "INVALID_CREDENTIALS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reads_and_sends_but_cannot_do_an_owners_work() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.invite("owner@grace.org", "owner", Some(&t.id)).await;
    app.invite("member@grace.org", "member", Some(&t.id)).await;
    let (member, _) = app.sign_in("member@grace.org").await;
    let o = Some(app.origin());
    let o = o.as_deref();
    assert_eq!(app.as_user(Method::GET, "/v1/messages", &member, None, None).await.status, 200);
    for (method, path, body) in [
        (Method::POST, "/v1/tenant/pause", Some(json!({}))),
        (Method::PATCH, "/v1/tenant", Some(json!({"daily_budget_cents": 100}))),
        (Method::POST, "/v1/keys", Some(json!({}))),
        (Method::POST, "/v1/users", Some(json!({"email": "x@grace.org", "role": "owner"}))),
        (Method::PUT, "/v1/channels/sms", Some(json!({"provider": "twilio"}))),
    ] {
        let r = app.as_user(method, path, &member, body, o).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "OWNER_ONLY"), "{path}: {}", r.body);
    }
    let own = app.as_user(Method::GET, "/v1/tenant", &member, None, None).await;
    assert!(own.body["callback_secret"].is_null(), "a member sees no secret: {}", own.body);
    let admin = app.as_user(Method::GET, "/v1/admin/tenants", &member, None, None).await;
    assert_eq!(admin.status, 403, "a tenant's user is no operator");

    // An owner's session makes keys and users; the key works and is shown once.
    let (owner, _) = app.sign_in("owner@grace.org").await;
    let key = app.as_user(Method::POST, "/v1/keys", &owner, Some(json!({})), o).await;
    assert_eq!(key.status, 201, "{}", key.body);
    assert_eq!(app.get("/v1/tenant", key.body["api_key"].as_str().unwrap()).await.status, 200);
    let listed = app.as_user(Method::GET, "/v1/keys", &owner, None, None).await;
    assert!(listed.body.to_string().find("hk_live_").is_none(), "no secret in the list");
    let users = app.as_user(Method::GET, "/v1/users", &owner, None, None).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_and_removed_users_sessions_stop_working() {
    // Cognito is asked about every session on every request here (the default is a minute).
    let app = spawn_app(&[("HERALD_SESSION_RECHECK", "0s")]).await;
    let t = app.create_tenant(json!({})).await;
    app.invite("owner@grace.org", "owner", Some(&t.id)).await;
    let member = app.invite("member@grace.org", "member", Some(&t.id)).await;
    let o = app.origin();
    let (laptop, _) = app.sign_in("owner@grace.org").await;
    let (phone, _) = app.sign_in("owner@grace.org").await;
    let out = app.as_user(Method::DELETE, "/v1/session", &laptop, None, Some(&o)).await;
    assert_eq!(out.status, 204);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let me = app.as_user(Method::GET, "/v1/session", &laptop, None, None).await;
    assert_eq!((me.status.as_u16(), me.code()), (401, "SESSION_EXPIRED"));
    // Sign-out revoked the user's tokens at Cognito: the other browser is out too.
    assert_eq!(app.as_user(Method::GET, "/v1/session", &phone, None, None).await.status, 401);

    let (owner, _) = app.sign_in("owner@grace.org").await;
    let (m, _) = app.sign_in("member@grace.org").await;
    assert_eq!(app.as_user(Method::GET, "/v1/messages", &m, None, None).await.status, 200);
    let id = member["id"].as_str().unwrap();
    let removed = app.as_user(Method::DELETE, &format!("/v1/users/{id}"), &owner, None, Some(&o)).await;
    assert_eq!(removed.body["status"], "disabled", "{}", removed.body);
    assert_eq!(app.as_user(Method::GET, "/v1/messages", &m, None, None).await.status, 401);
    let again = json!({"email": "member@grace.org", "password": herald_tests::users::PASSWORD});
    assert_eq!(app.call(Method::POST, "/v1/session", None, Some(again), &[]).await.status, 401);

    // Another tenant's owner cannot reach this tenant's users.
    let other = app.create_tenant(json!({"name": "Other"})).await;
    let r = app.call(Method::DELETE, &format!("/v1/users/{id}"), Some(&other.live_key), None, &[]).await;
    assert_eq!(r.status, 404);
    let ops: Value = app.invite("ops@herald.dev", "operator", None).await;
    let (op, _) = app.sign_in("ops@herald.dev").await;
    let tenants = app.as_user(Method::GET, "/v1/admin/tenants", &op, None, None).await;
    assert_eq!(tenants.body["tenants"].as_array().unwrap().len(), 2, "{}", tenants.body);
    assert_eq!(ops["role"], "operator");
}
