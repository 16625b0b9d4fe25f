//! Issue 12: the `herald` command line against the local stack, one command (at least) per
//! route group, through the same entry point the binary runs.
use herald_tests::sim::{Fault, SimProvider, TWILIO_SID};
use herald_tests::{spawn_app, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

/// Runs `herald <args>` against the app with the admin key; (exit code, stdout, stderr).
async fn herald(app: &TestApp, args: &str) -> (i32, String, String) {
    herald_as(app, &app.admin_key, args).await
}

async fn herald_as(app: &TestApp, key: &str, args: &str) -> (i32, String, String) {
    let mut argv = vec!["herald".to_string(), "--url".into(), app.url.clone(), "--key".into(), key.to_string()];
    argv.extend(shell_words(args));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = herald_cli::run(argv, &mut out, &mut err).await.expect("herald runs");
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// Splits on spaces, keeping "quoted words" together.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    for (i, part) in s.split('"').enumerate() {
        if i % 2 == 1 {
            words.push(part.to_string());
        } else {
            words.extend(part.split_whitespace().map(str::to_string));
        }
    }
    words
}

async fn json_of(app: &TestApp, args: &str) -> Value {
    let (code, out, err) = herald(app, &format!("--json {args}")).await;
    assert_eq!(code, 0, "herald {args}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_group_works_against_the_local_stack() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let (code, out, _) = herald(&app, "health").await;
    assert_eq!((code, out.contains("status") && out.contains("ok")), (0, true), "{out}");

    // Tenants: create, pause and resume, budgets, keys.
    let created = json_of(&app, "tenants create Grace --daily-budget-cents 500").await;
    let id = created["id"].as_str().unwrap().to_string();
    let key = created["api_key"].as_str().unwrap().to_string();
    let (code, out, _) = herald(&app, &format!("tenants pause {id} --reason \"fraud review\"")).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(json_of(&app, &format!("tenants get {id}")).await["paused"]["reason"], "fraud review");
    assert_eq!(herald(&app, &format!("tenants resume {id}")).await.0, 0);
    let b = json_of(&app, &format!("tenants budget {id}")).await;
    assert_eq!(b["daily_budget_cents"], 500);
    let r = json_of(&app, &format!("tenants budget-reset {id} --period day --reason \"approved\"")).await;
    assert_eq!(r["daily_spent_cents"], 0);
    let k = json_of(&app, &format!("tenants key-create {id} --mode test")).await;
    let key_id = k["key_id"].as_str().or(k["id"].as_str()).unwrap().to_string();
    assert_eq!(herald(&app, &format!("tenants key-revoke {id} {key_id}")).await.0, 0);

    // Messages: a back-off listed, released by retry-now; stuck list; lookup.
    let t = herald_tests::TestTenant { id: id.clone(), live_key: key.clone(), test_key: String::new() };
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 1, Fault::status(503));
    let sent = app.send(&key, json!({"channel": "sms", "to": "+14155550111", "body": "cli"})).await;
    let mid = sent.body["id"].as_str().unwrap().to_string();
    let m = app.wait_status(&key, &mid, "sent", WAIT).await;
    assert_eq!(m["attempts"].as_array().map(Vec::len), Some(2));
    let (code, out, _) = herald(&app, &format!("messages get {mid}")).await;
    assert!(code == 0 && out.contains(&mid) && out.contains("sent"), "{out}");
    let (code, out, _) = herald(&app, "messages stuck --older-than 10m").await;
    assert_eq!((code, out.as_str()), (0, "(none)\n"));
    let list = json_of(&app, &format!("messages list --tenant {id} --min-attempts 2")).await;
    assert_eq!(list["messages"][0]["id"], mid.as_str());
    let rn = json_of(&app, "messages retry-now --channel sms --reason \"carrier back\"").await;
    assert_eq!(rn["released"], 0);

    // Stats, queues, providers, circuits, quota, features, jobs, linking, DLQ, audit.
    let (code, out, _) = herald(&app, "stats --window 1h").await;
    assert!(code == 0 && out.contains("delivery_rate"), "{out}");
    let (code, out, _) = herald(&app, "queues").await;
    assert!(code == 0 && out.contains("sms") && out.contains("depth"), "{out}");
    let c = json_of(&app, &format!("circuit open twilio {TWILIO_SID} --reason \"INC-7\"")).await;
    assert_eq!(c["state"], "forced_open");
    let (code, out, _) = herald(&app, "providers").await;
    assert!(code == 0 && out.contains("forced_open"), "{out}");
    assert_eq!(
        json_of(&app, &format!("circuit close twilio {TWILIO_SID} --reason \"INC-7 over\"")).await["state"],
        "closed"
    );
    assert_eq!(json_of(&app, &format!("quota --tenant {id}")).await["used"], 0);
    let f = json_of(&app, "features set sms_sending off --reason \"Emergency rollback\"").await;
    assert_eq!(f["enabled"], false);
    let audit = json_of(&app, "audit --action feature.set").await;
    assert_eq!(audit["entries"][0]["detail"]["reason"], "Emergency rollback", "{audit}");
    assert_eq!(json_of(&app, "features set sms_sending on").await["enabled"], true);
    assert!(herald(&app, "features list").await.1.contains("sms_sending"));
    assert_eq!(json_of(&app, "job stale-recovery").await["job"], "stale-recovery");
    assert_eq!(herald(&app, "linking failed").await.0, 0);
    assert_eq!(herald(&app, "dlq stats").await.0, 0);
    assert_eq!(herald(&app, "dlq list --channel sms").await.0, 0);
    let (code, _, progress) = herald(&app, "dlq retry --channel sms").await;
    assert!(code == 0 && progress.contains("requeued 0, 0 in all, done"), "{progress}");
    assert_eq!(herald(&app, "dlq archive --older-than-days 30").await.0, 0);
    let audit = json_of(&app, &format!("audit --tenant {id} --action tenant. --since 1h")).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"tenant.pause") && actions.contains(&"tenant.resume"), "{actions:?}");

    // The generic call, with a tenant key; and errors come back with their code.
    let (code, out, _) = herald_as(&app, &key, "call GET /v1/tenant").await;
    assert!(code == 0 && out.contains("Grace"), "{out}");
    let (code, out, _) = herald_as(&app, &key, "calls list").await;
    assert_eq!((code, out.as_str()), (0, "(none)\n"));
    let (code, _, err) = herald_as(&app, &key, "calls get CA404").await;
    assert!(code == 1 && err.contains("NOT_FOUND"), "{err}");
    let (code, _, err) = herald(&app, "tenants budget-reset nope --period week --reason x").await;
    assert!(code == 1 && err.contains("error 4"), "{err}");
    let (code, _, err) = herald(&app, "tenants pause").await;
    assert!(code == 2 && err.contains("Usage"), "{err}");
}

/// Issue 23 (operations review): the operator finds tenants, sees and revokes a tenant's
/// keys, and retries one tenant's dead letters in paced batches; the admin key never goes
/// over plain http to another machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_lists_tenants_revokes_keys_and_paces_a_dead_letter_retry() {
    let app = spawn_app(&[("HERALD_PAUSE_RECHECK", "0s")]).await;
    let grace = app.create_tenant(json!({"name": "Grace Chapel"})).await;
    let plumber = app.create_tenant(json!({"name": "Joe's Plumbing"})).await;
    let page = json_of(&app, "tenants list --q chapel").await;
    assert_eq!(page["tenants"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["tenants"][0]["id"], grace.id.as_str());
    let first = json_of(&app, "tenants list --limit 1").await;
    let cursor = first["next_cursor"].as_str().expect("a second page").to_string();
    let second = json_of(&app, &format!("tenants list --limit 1 --cursor {cursor}")).await;
    assert_ne!(first["tenants"][0]["id"], second["tenants"][0]["id"]);
    let (code, _, err) = herald(&app, "tenants list --cursor nonsense").await;
    assert!(code == 1 && err.contains("VALIDATION_ERROR"), "{err}");

    // Dead letters in both tenants: the provider refuses the numbers for good.
    for (t, n) in [(&grace, 3), (&plumber, 2)] {
        match t.id == grace.id {
            true => app.configure_twilio(t, "+14155550001").await,
            false => app.use_platform_twilio(t, "+14155550002").await,
        }
        app.sim.fail_next(SimProvider::Twilio, n, Fault::code(400, "21211"));
        for i in 0..n {
            let r =
                app.send(&t.live_key, json!({"channel": "sms", "to": format!("+1415555012{i}"), "body": "x"})).await;
            app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "failed", WAIT).await;
        }
    }
    let (code, _, progress) = herald(&app, &format!("dlq retry --tenant {} --batch-size 2 --pause 1s", grace.id)).await;
    assert_eq!(code, 0, "{progress}");
    assert!(progress.contains("batch 1: requeued 2") && progress.contains("3 in all, done"), "{progress}");
    let left = json_of(&app, &format!("dlq list --tenant {}", plumber.id)).await;
    assert_eq!(left["messages"].as_array().map(Vec::len), Some(2), "the other tenant's dead letters stay: {left}");
    // Paged across every tenant, and by time.
    let first = json_of(&app, "dlq list --limit 1 --since 1h").await;
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
    let second = json_of(&app, &format!("dlq list --limit 1 --since 1h --cursor {cursor}")).await;
    assert_ne!(first["messages"][0]["id"], second["messages"][0]["id"]);
    assert_eq!(json_of(&app, "dlq list --since 2099-01-01T00:00:00Z").await["messages"], json!([]));

    // A tenant's keys: listed without secrets, then all revoked in a breach.
    let keys = json_of(&app, &format!("keys list {}", grace.id)).await;
    let listed = keys["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{keys}");
    assert!(listed.iter().any(|k| k["last_used_at"].is_string()), "the live key was used: {keys}");
    assert!(!keys.to_string().contains(&grace.live_key) && !keys.to_string().contains("hash"), "{keys}");
    let (code, _, err) = herald(&app, &format!("keys revoke-all {}", grace.id)).await;
    assert!(code == 2 && err.contains("--reason"), "{err}");
    let r = json_of(&app, &format!("keys revoke-all {} --reason \"key leaked in CI logs\"", grace.id)).await;
    assert_eq!(r["revoked"], 2);
    assert_eq!(app.get("/v1/tenant", &grace.live_key).await.status, 401, "the live key stopped working");
    assert_eq!(app.get("/v1/tenant", &plumber.live_key).await.status, 200, "other tenants keep theirs");
    let audit = json_of(&app, &format!("audit --tenant {} --action key.revoke_all", grace.id)).await;
    assert_eq!(audit["entries"][0]["detail"]["reason"], "key leaked in CI logs");

    // The admin key never goes over plain http to another machine.
    let argv = ["herald", "--url", "http://herald.example.org", "--key", "k", "health"];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = herald_cli::run(argv.iter().map(|s| s.to_string()).collect(), &mut out, &mut err).await.unwrap();
    assert!(code == 2 && String::from_utf8(err).unwrap().contains("https"));
}
