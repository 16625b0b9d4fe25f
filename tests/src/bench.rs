//! The cost benchmark: the real functions (API router, sender handler, webhooks router) in
//! this process, against moto behind the metering proxy (`meter`) and the simulator, both in
//! a child process so this process's CPU time is Herald's (plus the driver's small part).
//! Phases run one after another: accept N messages, send them (the event source mapping's
//! receive/delete included, batches of 10), answer each with a signed `delivered` receipt.
use crate::meter::{self, Tally};
use crate::sim::{webhooks::twilio_sign, TWILIO_SID, TWILIO_TOKEN};
use axum::body::Body;
use axum::http::Request;
use herald_core::Channel;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tower::ServiceExt;

pub const PUBLIC_URL: &str = "https://herald.bench.invalid";
const FROM: &str = "+15005550006";

/// CPU time this process used so far in milliseconds: (user, system).
pub fn cpu_ms() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) * 10.0;
    (ticks(11), ticks(12))
}

/// How the bench's SMS are accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accept {
    One,
    Keyed,
    Batch,
}

pub struct Phase {
    pub name: &'static str,
    pub tally: Tally,
    /// User + system CPU time of the phase.
    pub cpu_ms: f64,
    /// The system (kernel) part of it: mostly the loopback sockets to the emulator.
    pub sys_ms: f64,
}

pub struct Bench {
    proxy: String,
    router: axum::Router,
    app: herald_runtime::AppState,
}

impl Bench {
    pub async fn start(proxy: String, sim: String) -> Bench {
        let prefix = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let vars: HashMap<String, String> = [
            ("AWS_ENDPOINT_URL", proxy.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("HERALD_TABLE", &prefix),
            ("HERALD_QUEUE_PREFIX", &prefix),
            ("HERALD_SECRET_PREFIX", &prefix),
            ("HERALD_ADMIN_KEY", "bench-admin"),
            ("HERALD_PUBLIC_URL", PUBLIC_URL),
            ("TWILIO_API_BASE", &sim),
            ("HERALD_PROVIDER_TIMEOUT", "5s"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut config = herald_runtime::Config::from_map(&vars).expect("config").for_local();
        herald_runtime::provision(&mut config).await.expect("provision");
        let app = herald_runtime::AppState::new(herald_runtime::build(config).await.expect("build"));
        let router = herald_webhooks::router(app.clone()).merge(herald_api::router(app.clone()));
        Bench { proxy, router, app }
    }

    async fn call(&self, method: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// What one request costs this process in CPU on this machine, whatever Herald does
    /// around it: a bare SDK `GetItem` (a missing key) and a bare HTTP POST through the
    /// same proxy, `n` of each; (user ms, system ms) per request.
    pub async fn request_floor(&self, n: usize) -> [(&'static str, f64, f64); 2] {
        use aws_sdk_dynamodb::types::AttributeValue as A;
        let ddb = aws_sdk_dynamodb::Client::new(&self.app.infra.sdk);
        let table = self.app.config.table.clone();
        let get = || ddb.get_item().table_name(&table).key("pk", A::S("floor".into())).key("sk", A::S("floor".into()));
        let http = reqwest::Client::new();
        let post = || {
            http.post(&self.proxy)
                .header("x-amz-target", "DynamoDB_20120810.DescribeLimits")
                .header("content-type", "application/x-amz-json-1.0")
                .body("{}")
        };
        get().send().await.expect("warm-up GetItem");
        post().send().await.expect("warm-up POST");
        let (u0, s0) = cpu_ms();
        for _ in 0..n {
            get().send().await.expect("GetItem");
        }
        let (u1, s1) = cpu_ms();
        for _ in 0..n {
            post().send().await.expect("POST").bytes().await.expect("body");
        }
        let (u2, s2) = cpu_ms();
        let per = n as f64;
        [("SDK GetItem", (u1 - u0) / per, (s1 - s0) / per), ("bare HTTP POST", (u2 - u1) / per, (s2 - s1) / per)]
    }

    /// A tenant with a Twilio SMS channel and a number; returns its live key.
    pub async fn tenant(&self) -> String {
        let (s, t) = self
            .call(
                "POST",
                "/v1/admin/tenants",
                "bench-admin",
                json!({"name": "Bench", "timezone": "UTC", "default_country": "US"}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let key = t["api_key"].as_str().unwrap().to_string();
        let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
        assert_eq!(self.call("PUT", "/v1/channels/sms", &key, creds).await.0, 200);
        assert_eq!(
            self.call("POST", "/v1/numbers", &key, json!({"phone_number": FROM, "provider": "twilio"})).await.0,
            201
        );
        key
    }

    async fn phase<F: std::future::Future<Output = ()>>(&self, name: &'static str, run: F) -> Phase {
        meter::set_phase(&self.proxy, name).await;
        let before_tally = meter::tallies(&self.proxy).await.remove(name).unwrap_or_default();
        let (user, sys) = cpu_ms();
        run.await;
        let (user_after, sys_after) = cpu_ms();
        let (cpu_ms, sys_ms) = (user_after - user + sys_after - sys, sys_after - sys);
        meter::set_phase(&self.proxy, "idle").await;
        let mut tally = meter::tallies(&self.proxy).await.remove(name).unwrap_or_default();
        for (op, n) in before_tally.requests {
            *tally.requests.entry(op).or_default() -= n;
        }
        for (op, n) in before_tally.detail {
            *tally.detail.entry(op).or_default() -= n;
        }
        tally.wru -= before_tally.wru;
        tally.rru -= before_tally.rru;
        Phase { name, tally, cpu_ms, sys_ms }
    }

    /// Accept `n` 160-character SMS (`how`: one request each, with Idempotency-Keys, or in
    /// batches of 100), send them, deliver them.
    pub async fn sms(&self, key: &str, n: usize, how: Accept) -> Vec<Phase> {
        let mut ids = Vec::with_capacity(n);
        let sms = |i: usize| {
            let text = format!("{i:06} {}", "x".repeat(153));
            json!({"channel": "sms", "to": format!("+1415555{:04}", i % 10_000), "body": text})
        };
        let accept = self
            .phase("accept", async {
                if how == Accept::Batch {
                    for start in (0..n).step_by(100) {
                        let messages: Vec<Value> = (start..n.min(start + 100)).map(sms).collect();
                        let (s, v) = self.call("POST", "/v1/messages/batch", key, json!({"messages": messages})).await;
                        assert_eq!(s, 200, "{v}");
                        for r in v["results"].as_array().unwrap() {
                            ids.push(r["id"].as_str().unwrap_or_else(|| panic!("refused: {r}")).to_string());
                        }
                    }
                    return;
                }
                for i in 0..n {
                    let mut req = Request::builder()
                        .method("POST")
                        .uri("/v1/messages")
                        .header("authorization", format!("Bearer {key}"));
                    if how == Accept::Keyed {
                        req = req.header("idempotency-key", format!("bench-{i}"));
                    }
                    let resp =
                        self.router.clone().oneshot(req.body(Body::from(sms(i).to_string())).unwrap()).await.unwrap();
                    assert_eq!(resp.status().as_u16(), 202);
                    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
                    let v: Value = serde_json::from_slice(&bytes).unwrap();
                    ids.push(v["id"].as_str().unwrap().to_string());
                }
            })
            .await;
        let send = self.phase("send", self.drain(Channel::Sms, n)).await;
        let mut sids = Vec::new();
        for id in &ids {
            let (_, m) = self.call("GET", &format!("/v1/messages/{id}"), key, Value::Null).await;
            assert_eq!(m["status"], "sent", "{m}");
            sids.push((
                id.clone(),
                m["provider_message_id"].as_str().unwrap().to_string(),
                m["to"].as_str().unwrap().to_string(),
            ));
        }
        let receipt = self.phase("receipt", self.receipts(&sids)).await;
        for (id, _, _) in &sids {
            let (_, m) = self.call("GET", &format!("/v1/messages/{id}"), key, Value::Null).await;
            assert_eq!(m["status"], "delivered", "{m}");
        }
        vec![accept, send, receipt]
    }

    /// Email through SES for the tenant of `key`: a verified identity and the channel.
    pub async fn email_channel(&self, key: &str) {
        // SES identities are account-wide: each run claims a domain of its own.
        let domain = format!("bench-{}.example", uuid::Uuid::new_v4().simple());
        assert_eq!(self.call("POST", "/v1/email/identities", key, json!({"identity": domain})).await.0, 201);
        let channel = json!({"provider": "ses", "from_address": format!("news@{domain}")});
        assert_eq!(self.call("PUT", "/v1/channels/email", key, channel).await.0, 200);
    }

    /// Accept `n` emails, send them through SES, apply one SES `Delivery` event each.
    pub async fn email(&self, key: &str, n: usize) -> Vec<Phase> {
        let mut ids = Vec::with_capacity(n);
        let accept = self
            .phase("accept", async {
                for i in 0..n {
                    let body = json!({"channel": "email", "to": format!("member{i}@example.com"), "subject": "This week", "body": "Service at 10am. See you there."});
                    let (s, v) = self.call("POST", "/v1/messages", key, body).await;
                    assert_eq!(s, 202, "{v}");
                    ids.push(v["id"].as_str().unwrap().to_string());
                }
            })
            .await;
        let send = self.phase("send", self.drain(Channel::Email, n)).await;
        let mut events = Vec::new();
        for id in &ids {
            let (_, m) = self.call("GET", &format!("/v1/messages/{id}"), key, Value::Null).await;
            assert_eq!(m["status"], "sent", "{m}");
            let tags = json!({"herald_tenant_id": [m["tenant_id"]], "herald_message_id": [id]});
            let mail = json!({"messageId": m["provider_message_id"], "tags": tags});
            events.push(json!({"eventType": "Delivery", "mail": mail, "delivery": {"recipients": [m["to"]]}}));
        }
        let receipt = self
            .phase("receipt", async {
                for e in events {
                    let (s, v) = self.call("POST", "/v1/admin/ses-events", "bench-admin", e).await;
                    assert_eq!(s, 200, "{v}");
                }
            })
            .await;
        for id in &ids {
            let (_, m) = self.call("GET", &format!("/v1/messages/{id}"), key, Value::Null).await;
            assert_eq!(m["status"], "delivered", "{m}");
        }
        vec![accept, send, receipt]
    }

    /// The event source mapping: receive batches of 10, run the sender, delete what it finished.
    async fn drain(&self, channel: Channel, n: usize) {
        let arn = self.app.infra.queues.pair(channel).map(|p| p.arn.clone()).unwrap_or_default();
        let mut done = 0;
        let mut idle = 0;
        while done < n && idle < 20 {
            let got = self.app.infra.queues.receive(channel, 10, std::time::Duration::from_secs(1)).await.unwrap();
            if got.is_empty() {
                idle += 1;
                continue;
            }
            let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
            event.records = got.iter().map(|r| herald_local::to_record(r, &arn, "us-east-1")).collect();
            let resp = herald_sender::handle(&self.app.services.sending, event).await;
            assert!(resp.batch_item_failures.is_empty(), "no send fails in the bench");
            let handles: Vec<String> = got.into_iter().map(|r| r.receipt_handle).collect();
            done += handles.len();
            self.app.infra.queues.delete(channel, &handles).await.unwrap();
        }
        assert_eq!(done, n, "every message was sent");
    }

    /// One signed Twilio `delivered` status callback per message, to its per-message URL.
    async fn receipts(&self, sids: &[(String, String, String)]) {
        for (id, sid, to) in sids {
            let path = format!("/webhooks/twilio/status?herald_message_id={id}");
            let params = [
                ("AccountSid", TWILIO_SID),
                ("From", FROM),
                ("MessageSid", sid.as_str()),
                ("MessageStatus", "delivered"),
                ("SmsSid", sid.as_str()),
                ("SmsStatus", "delivered"),
                ("To", to.as_str()),
            ];
            let sig = twilio_sign(&format!("{PUBLIC_URL}{path}"), &params, TWILIO_TOKEN);
            let req = Request::builder()
                .method("POST")
                .uri(&path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", sig)
                .body(Body::from(serde_urlencoded::to_string(params).unwrap()))
                .unwrap();
            let resp = self.router.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
        }
    }
}

/// us-east-1 list prices (USD), November 2026.
pub mod prices {
    pub const HTTP_API_PER_M: f64 = 1.00;
    pub const LAMBDA_REQ_PER_M: f64 = 0.20;
    /// arm64, per GB-second.
    pub const LAMBDA_GB_S: f64 = 0.000_013_333_4;
    pub const WRU_PER_M: f64 = 0.625;
    pub const RRU_PER_M: f64 = 0.125;
    pub const SQS_FIFO_PER_M: f64 = 0.50;
    pub const SECRETS_PER_10K: f64 = 0.05;
    pub const SNS_PER_M: f64 = 0.50;
}

/// Cost of one message's AWS work, per million messages.
pub struct Cost {
    pub lines: BTreeMap<&'static str, f64>,
}

impl Cost {
    /// `http` API Gateway requests and `invocations` Lambda invocations per message;
    /// Lambda duration = CPU + 4 ms of waiting per AWS request (a same-region round trip).
    pub fn of(t: &Tally, per: f64, http: f64, invocations: f64, cpu_ms: f64) -> Cost {
        use prices::*;
        let by = |svc: &str| {
            t.requests.iter().filter(|(k, _)| k.starts_with(svc)).map(|(_, v)| *v as f64).sum::<f64>() / per
        };
        let aws_requests = t.total() as f64 / per;
        let gb_s = 0.25 * (cpu_ms + 4.0 * aws_requests) / 1000.0;
        let mut lines = BTreeMap::new();
        lines.insert("API Gateway (HTTP API)", http * HTTP_API_PER_M);
        lines.insert("Lambda", invocations * LAMBDA_REQ_PER_M + gb_s * LAMBDA_GB_S * 1e6);
        lines.insert("DynamoDB writes", t.wru / per * WRU_PER_M);
        lines.insert("DynamoDB reads", t.rru / per * RRU_PER_M);
        lines.insert("SQS FIFO", by("sqs:") * SQS_FIFO_PER_M);
        lines.insert("Secrets Manager", by("secretsmanager:") * SECRETS_PER_10K * 100.0);
        lines.insert("SNS", by("query:Publish") * SNS_PER_M);
        // SES's own fee ($0.10 per 1,000) is the provider's price, left out like Twilio's.
        lines.insert("SES events via SNS", by("ses:") * SNS_PER_M);
        Cost { lines }
    }

    pub fn total(&self) -> f64 {
        self.lines.values().sum()
    }
}
