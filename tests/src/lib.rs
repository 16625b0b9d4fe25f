//! Test harness: a moto emulator shared by the test process, and `spawn_app`, which starts
//! the real herald-local (fresh table, queues and secrets under a unique prefix) wired to an
//! in-process provider simulator. Tests talk HTTP to it, as a user would.
pub mod bench;
pub mod coldstart;
pub mod meter;
pub mod sim;
pub mod smtp_sink;
pub mod users;

use herald_core::Channel;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sim::Simulator;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static MOTO: OnceLock<String> = OnceLock::new();

/// The emulator endpoint: `HERALD_TEST_AWS_ENDPOINT` if set, else a moto_server started for
/// this test process (and stopped with it by a watchdog).
pub fn moto_endpoint() -> String {
    MOTO.get_or_init(|| {
        if let Ok(e) = std::env::var("HERALD_TEST_AWS_ENDPOINT") {
            return e;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = format!(
            "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & M=$!; while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill $M",
            pid = std::process::id()
        );
        // The shell watches this test process and stops moto when it exits; nobody waits on it.
        #[allow(clippy::zombie_processes)]
        std::process::Command::new("sh").arg("-c").arg(script).spawn().expect("start moto_server (pip install 'moto[server]')");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("http://127.0.0.1:{port}")
    })
    .clone()
}

pub struct TestApp {
    pub url: String,
    pub admin_key: String,
    pub sim: Simulator,
    pub running: herald_local::Running,
    pub http: reqwest::Client,
    pub prefix: String,
    pub region: String,
}

#[derive(Debug, Clone)]
pub struct TestTenant {
    pub id: String,
    pub live_key: String,
    pub test_key: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body.pointer("/error/code").and_then(|v| v.as_str()).unwrap_or("")
    }
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HERALD_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A clock tests can set and move.
pub struct TestClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl TestClock {
    pub fn at(rfc3339: &str) -> std::sync::Arc<TestClock> {
        std::sync::Arc::new(TestClock(std::sync::Mutex::new(
            chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&chrono::Utc),
        )))
    }
    pub fn set(&self, rfc3339: &str) {
        *self.0.lock().unwrap() = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&chrono::Utc);
    }
}

impl herald_core::ports::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// Starts herald-local against moto and a fresh simulator. `overrides` are configuration
/// variables, exactly as a user would set them.
pub async fn spawn_app(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_with_clock(overrides, None).await
}

pub async fn spawn_app_with_clock(
    overrides: &[(&str, &str)],
    clock: Option<std::sync::Arc<dyn herald_core::ports::Clock>>,
) -> TestApp {
    init_logs();
    let sim = Simulator::start("127.0.0.1:0").await.expect("simulator");
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap());
    let admin_key = format!("adm_{}", uuid::Uuid::new_v4().simple());
    let mut vars: HashMap<String, String> = [
        ("AWS_ENDPOINT_URL", moto_endpoint()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("HERALD_TABLE", prefix.clone()),
        ("HERALD_QUEUE_PREFIX", prefix.clone()),
        ("HERALD_SECRET_PREFIX", prefix.clone()),
        ("HERALD_ADMIN_KEY", admin_key.clone()),
        ("TWILIO_API_BASE", sim.url()),
        ("TELNYX_API_BASE", sim.url()),
        ("WHATSAPP_API_BASE", sim.url()),
        ("HERALD_RETRY_BACKOFF", "1s".to_string()),
        ("HERALD_RETRY_JITTER", "0".to_string()),
        ("HERALD_MAX_ATTEMPTS", "3".to_string()),
        ("HERALD_PROVIDER_TIMEOUT", "2s".to_string()),
        ("HERALD_ENQUEUE_GRACE", "2m".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    let region = vars["AWS_REGION"].clone();
    let mut config = herald_runtime::Config::from_map(&vars).expect("config").for_local();
    // herald-local turns the local callback switch on; a test can turn it off explicitly.
    if vars.get("HERALD_ALLOW_HTTP_CALLBACKS").is_some_and(|v| v == "false") {
        config.allow_http_callbacks = false;
    }
    if vars.get("HERALD_SES_ASSUME_VERIFIED").is_some_and(|v| v == "false") {
        config.ses_assume_verified = false;
    }
    let running = herald_local::start(
        config,
        herald_local::LocalOptions {
            listen: "127.0.0.1:0".into(),
            batch_size: 10,
            job_interval: Duration::from_millis(500),
            clock,
        },
    )
    .await
    .expect("herald-local starts");
    TestApp { url: running.url(), admin_key, sim, running, http: reqwest::Client::new(), prefix, region }
}

impl TestApp {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.request(&self.url, method, path, key, body, headers).await
    }

    async fn request(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, format!("{base}{path}"));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(key), None, &[]).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(key), Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(reqwest::Method::PUT, path, Some(key), Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(reqwest::Method::PATCH, path, Some(key), Some(body), &[]).await
    }

    pub async fn create_tenant(&self, settings: Value) -> TestTenant {
        let mut body = json!({"name": "Grace Church", "timezone": "America/Chicago", "default_country": "US"});
        if let (Some(b), Some(s)) = (body.as_object_mut(), settings.as_object()) {
            for (k, v) in s {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.post("/v1/admin/tenants", &self.admin_key, body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        TestTenant {
            id: r.body["id"].as_str().unwrap().into(),
            live_key: r.body["api_key"].as_str().unwrap().into(),
            test_key: r.body["test_api_key"].as_str().unwrap().into(),
        }
    }

    /// A second tenant on the simulator's Twilio account: through the platform's channel (a
    /// signing secret is one tenant's own, so shared accounts are the operator's), and a
    /// sending number bought into it.
    pub async fn use_platform_twilio(&self, t: &TestTenant, from: &str) {
        let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": sim::TWILIO_SID, "auth_token": sim::TWILIO_TOKEN}}});
        let r = self.put("/v1/admin/platform/channels/sms", &self.admin_key, creds).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.sim.twilio_for_sale(from);
        let number = json!({"phone_number": from, "provider": "twilio", "purchase": true});
        let r = self.post("/v1/numbers", &t.live_key, number).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    /// SMS through Twilio (primary) with the simulator's account, and a sending number.
    pub async fn configure_twilio(&self, t: &TestTenant, from: &str) {
        let r = self
            .put("/v1/channels/sms", &t.live_key, json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": sim::TWILIO_SID, "auth_token": sim::TWILIO_TOKEN}}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = self.post("/v1/numbers", &t.live_key, json!({"phone_number": from, "provider": "twilio"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    pub async fn configure_telnyx(&self, t: &TestTenant, from: &str) {
        let r = self
            .put(
                "/v1/channels/sms",
                &t.live_key,
                json!({"provider": "telnyx", "credentials": {"telnyx": {"api_key": sim::TELNYX_KEY, "messaging_profile_id": "40019a80-d883-4618-953b-dad1610b39f4"}}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = self.post("/v1/numbers", &t.live_key, json!({"phone_number": from, "provider": "telnyx"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    pub async fn configure_whatsapp(&self, t: &TestTenant) {
        let r = self
            .put(
                "/v1/channels/whatsapp",
                &t.live_key,
                json!({"phone_number_id": "106540352242922", "access_token": sim::WHATSAPP_TOKEN, "app_secret": "TEST_APP_SECRET", "verify_token": "verify-me", "daily_quota": 1000}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Claims an email identity for the tenant (verified at once: herald-local assumes SES
    /// verification, which the emulator never performs). The tests share one emulator, whose
    /// SES identities are account-wide: one another test created is assigned by the operator.
    pub async fn email_identity(&self, t: &TestTenant, identity: &str) {
        let mut r = self.post("/v1/email/identities", &t.live_key, json!({"identity": identity})).await;
        if r.code() == "IDENTITY_EXISTS_OUTSIDE_HERALD" {
            let path = format!("/v1/admin/tenants/{}/email/identities", t.id);
            r = self.post(&path, &self.admin_key, json!({"identity": identity, "reason": "shared test account"})).await;
        }
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["status"], "verified", "{}", r.body);
    }

    /// `POST /v1/messages` with an `Idempotency-Key`.
    pub async fn send_idempotent(&self, key: &str, body: Value, idempotency_key: &str) -> Reply {
        self.call(reqwest::Method::POST, "/v1/messages", Some(key), Some(body), &[("idempotency-key", idempotency_key)])
            .await
    }

    pub async fn send(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/messages", key, body).await
    }

    pub async fn message(&self, key: &str, id: &str) -> Value {
        let r = self.get(&format!("/v1/messages/{id}"), key).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// Polls the message until its status is `status` (panics after `within`).
    pub async fn wait_status(&self, key: &str, id: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let m = self.message(key, id).await;
            if m["status"] == status {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "message {id} still {} after {within:?}, wanted {status}: {m}",
                m["status"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn queues(&self) -> HashMap<String, Value> {
        let r = self.get("/v1/system/queues", &self.admin_key).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body.as_array().unwrap().iter().map(|q| (q["queue"].as_str().unwrap().to_string(), q.clone())).collect()
    }

    /// Messages visible plus in flight on a channel queue.
    pub async fn queued_count(&self, channel: Channel) -> u64 {
        let q = &self.queues().await[channel.as_str()];
        q["depth"].as_u64().unwrap() + q["in_flight"].as_u64().unwrap()
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.call(reqwest::Method::DELETE, path, Some(key), None, &[]).await
    }

    /// A second herald-local on the same table, queues and secrets: another warm Lambda
    /// container, with caches of its own. Its URL is `running.url()`.
    pub async fn another_container(&self) -> herald_local::Running {
        let options = herald_local::LocalOptions {
            listen: "127.0.0.1:0".into(),
            batch_size: 10,
            job_interval: Duration::from_secs(3600),
            clock: None,
        };
        herald_local::start(self.running.app.config.clone(), options).await.expect("a second container")
    }

    /// A call to another container (`another_container`).
    pub async fn call_at(&self, base: &str, method: reqwest::Method, path: &str, key: &str, body: Value) -> Reply {
        let body = (!body.is_null()).then_some(body);
        self.request(base, method, path, Some(key), body, &[]).await
    }

    pub async fn run_job(&self, job: &str) -> Value {
        let r = self.post(&format!("/v1/admin/jobs/{job}/run"), &self.admin_key, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.running.app.infra.sdk)
    }
}

/// Waits until `f` returns Some, polling.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Emails the emulator's SES has sent in `region` (SES v1 `GetSendQuota`, SentLast24Hours).
pub async fn ses_sent_count(region: &str) -> u64 {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/ses/aws4_request, SignedHeaders=host, Signature=00"
    );
    let res = reqwest::Client::new()
        .post(moto_endpoint())
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=GetSendQuota&Version=2010-12-01")
        .send()
        .await
        .expect("moto");
    let text = res.text().await.unwrap_or_default();
    let v = text.split("<SentLast24Hours>").nth(1).and_then(|s| s.split('<').next()).unwrap_or("0");
    v.parse::<f64>().unwrap_or(0.0) as u64
}
