//! A message's whole path with each function wired as in Lambda (queue URLs and topic from
//! the template's variables) and holding only its own IAM user's credentials: the API
//! accepts it, the SMS sender sends it, the webhooks function applies its receipt, the
//! callbacks worker notifies the tenant, and the jobs function runs every schedule.
use aws_lambda_events::sqs::SqsEvent;
use herald_aws::SqsQueues;
use herald_core::Channel;
use herald_runtime::{App, AppState};
use herald_tests::sim::{webhooks as wh, Fault, SimProvider, Simulator, TWILIO_SID, TWILIO_TOKEN};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Keys = BTreeMap<String, (String, String)>;

/// Each function's configuration, as the template's Environment gives it.
fn lambda_vars(url: &str, queues: &SqsQueues, topic: &str, sim: &str) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", "us-east-1"),
        ("HERALD_ADMIN_KEY", "adm_iam"),
        ("HERALD_ALERT_TOPIC_ARN", topic),
        ("TWILIO_API_BASE", sim),
        ("HERALD_PROVIDER_TIMEOUT", "2s"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for ch in Channel::ALL {
        let up = ch.as_str().to_ascii_uppercase();
        let pair = queues.pair(ch).unwrap();
        vars.insert(format!("HERALD_QUEUE_URL_{up}"), pair.url.clone());
        vars.insert(format!("HERALD_DLQ_URL_{up}"), pair.dlq_url.clone());
    }
    let cb = queues.callbacks().unwrap();
    vars.insert("HERALD_CALLBACK_QUEUE_URL".into(), cb.url.clone());
    vars.insert("HERALD_CALLBACK_DLQ_URL".into(), cb.dlq_url.clone());
    vars
}

async fn function(vars: &HashMap<String, String>, (key, secret): &(String, String)) -> AppState {
    let mut cfg = herald_runtime::Config::from_map(vars).unwrap();
    cfg.credentials = Some(aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "iam-flow"));
    // The tenant's callback endpoint is this test's own plain-http listener.
    cfg.allow_http_callbacks = true;
    herald_runtime::AppState::new(
        herald_runtime::build(cfg).await.expect("the function's wiring starts with its own permissions"),
    )
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn call(method: reqwest::Method, url: String, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One event source mapping poll: receive, invoke, delete what succeeded.
async fn poll_sender(app: &App, channel: Channel) -> usize {
    let received = app.infra.queues.receive(channel, 10, Duration::from_secs(1)).await.expect("the sender receives");
    let mut event = SqsEvent::default();
    event.records = received.iter().map(|r| herald_local::to_record(r, "arn", "us-east-1")).collect();
    let response = herald_sender::handle(&app.services.sending, event).await;
    assert!(response.batch_item_failures.is_empty(), "every record handled");
    let handles: Vec<String> = received.iter().map(|r| r.receipt_handle.clone()).collect();
    app.infra.queues.delete(channel, &handles).await.expect("the sender deletes what it handled");
    received.len()
}

async fn poll_callbacks(app: &App) -> usize {
    let url = app.infra.queues.callbacks().unwrap().url.clone();
    let received = app.infra.queues.receive_url(&url, 10, Duration::from_secs(1)).await.expect("callbacks receives");
    let mut event = SqsEvent::default();
    event.records = received.iter().map(|r| herald_local::to_record(r, "arn", "us-east-1")).collect();
    let response = herald_sender::callbacks::handle(&app.services.callbacks, &event).await;
    assert!(response.batch_item_failures.is_empty(), "every callback delivered");
    received.len()
}

pub async fn message_path(url: &str, keys: &Keys, queues: &SqsQueues, topic: &str) {
    let sim = Simulator::start("127.0.0.1:0").await.unwrap();
    let vars = lambda_vars(url, queues, topic, &sim.url());
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let tenant_site = serve(axum::Router::new().route(
        "/status",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| async move { sink.lock().unwrap().push(v) }),
    ))
    .await;

    let api = serve(herald_api::router(function(&vars, &keys["ApiFunction"]).await)).await;
    let body = json!({"name": "Grace", "timezone": "America/Chicago", "default_country": "US"});
    let (s, t) = call(reqwest::Method::POST, format!("{api}/v1/admin/tenants"), "adm_iam", Some(body)).await;
    assert_eq!(s, 201, "{t}");
    let key = t["api_key"].as_str().unwrap().to_string();
    let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}}});
    let (s, b) = call(reqwest::Method::PUT, format!("{api}/v1/channels/sms"), &key, Some(creds)).await;
    assert_eq!(s, 200, "the API stores channel credentials: {b}");
    let number = json!({"phone_number": "+14155550001", "provider": "twilio"});
    let (s, b) = call(reqwest::Method::POST, format!("{api}/v1/numbers"), &key, Some(number)).await;
    assert_eq!(s, 201, "{b}");
    let msg =
        json!({"channel": "sms", "to": "+14155550100", "body": "hi", "callback_url": format!("{tenant_site}/status")});
    let (s, b) = call(reqwest::Method::POST, format!("{api}/v1/messages"), &key, Some(msg)).await;
    assert_eq!(s, 202, "the API accepts and enqueues: {b}");
    let id = b["id"].as_str().unwrap().to_string();

    let sender = function(&vars, &keys["SmsSenderFunction"]).await;
    // The queue also holds the first test's jobs for messages never written (dropped).
    assert!(poll_sender(&sender, Channel::Sms).await >= 1);
    assert_eq!(sim.accepted(SimProvider::Twilio).len(), 1, "the sender called Twilio once");
    let (_, m) = call(reqwest::Method::GET, format!("{api}/v1/messages/{id}"), &key, None).await;
    assert_eq!(m["status"], "sent", "{m}");

    let webhooks = serve(herald_webhooks::router(function(&vars, &keys["WebhooksFunction"]).await)).await;
    let sid = m["provider_message_id"].as_str().unwrap();
    let receipt = [
        ("AccountSid", TWILIO_SID),
        ("From", "+14155550001"),
        ("MessageSid", sid),
        ("MessageStatus", "delivered"),
        ("To", "+14155550100"),
    ];
    let r = wh::twilio(&webhooks, "/webhooks/twilio/status", &receipt, Some(TWILIO_TOKEN)).await;
    assert_eq!(r.status(), 200, "the webhooks function applies the receipt");
    let (_, m) = call(reqwest::Method::GET, format!("{api}/v1/messages/{id}"), &key, None).await;
    assert_eq!(m["status"], "delivered", "{m}");

    let callbacks = function(&vars, &keys["CallbacksFunction"]).await;
    let mut delivered = 0;
    for _ in 0..3 {
        delivered += poll_callbacks(&callbacks).await;
    }
    assert!(delivered >= 1, "the callbacks worker read its queue");
    assert!(got.lock().unwrap().iter().any(|c| c["id"] == id.as_str()), "the tenant was notified");

    let jobs = function(&vars, &keys["JobsFunction"]).await;
    for (job, _) in herald_jobs::SCHEDULES {
        let report = herald_jobs::run(&jobs.services.jobs, job).await;
        assert!(report.is_ok(), "{job} runs with the jobs function's permissions: {report:?}");
    }
    count_the_stream(&vars, keys).await;
}

/// A sender poll that may fail records (a provider refusal is reported, not asserted).
async fn poll_sender_once(app: &App, channel: Channel) -> usize {
    let received = app.infra.queues.receive(channel, 10, Duration::from_secs(1)).await.expect("the sender receives");
    let mut event = SqsEvent::default();
    event.records = received.iter().map(|r| herald_local::to_record(r, "arn", "us-east-1")).collect();
    let response = herald_sender::handle(&app.services.sending, event).await;
    let failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
    let done: Vec<String> =
        received.iter().filter(|r| !failed.contains(&r.message_id)).map(|r| r.receipt_handle.clone()).collect();
    app.infra.queues.delete(channel, &done).await.expect("the sender deletes what it handled");
    received.len()
}

/// Real-AWS review row 1: a probe that closes a circuit puts the messages the circuit held
/// back on the sender's own queue, with the sender's own credentials, and they go out.
pub async fn circuit_close_release(url: &str, keys: &Keys, queues: &SqsQueues, topic: &str) {
    let sim = Simulator::start("127.0.0.1:0").await.unwrap();
    let mut vars = lambda_vars(url, queues, topic, &sim.url());
    for (k, v) in
        [("HERALD_BREAKER_MIN_ATTEMPTS", "1"), ("HERALD_BREAKER_COOLDOWN", "2s"), ("HERALD_MAX_ATTEMPTS", "1")]
    {
        vars.insert(k.into(), v.into());
    }
    let api = serve(herald_api::router(function(&vars, &keys["ApiFunction"]).await)).await;
    let body = json!({"name": "Probe", "timezone": "UTC", "default_country": "US"});
    let (_, t) = call(reqwest::Method::POST, format!("{api}/v1/admin/tenants"), "adm_iam", Some(body)).await;
    let key = t["api_key"].as_str().unwrap().to_string();
    // Its own Twilio account: the flow's first tenant holds the simulator's default one.
    let (sid, token) = ("AC000000000000000000000000000000c2", "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2");
    sim.twilio_number_in(sid, token, "+14155550002");
    let creds = json!({"provider": "twilio", "credentials": {"twilio": {"account_sid": sid, "auth_token": token}}});
    assert_eq!(call(reqwest::Method::PUT, format!("{api}/v1/channels/sms"), &key, Some(creds)).await.0, 200);
    let number = json!({"phone_number": "+14155550002", "provider": "twilio"});
    assert_eq!(call(reqwest::Method::POST, format!("{api}/v1/numbers"), &key, Some(number)).await.0, 201);
    let send = |to: &'static str| {
        let (api, key) = (api.clone(), key.clone());
        async move {
            let msg = json!({"channel": "sms", "to": to, "body": "probe"});
            let (s, b) = call(reqwest::Method::POST, format!("{api}/v1/messages"), &key, Some(msg)).await;
            assert_eq!(s, 202, "{b}");
            b["id"].as_str().unwrap().to_string()
        }
    };
    let sender = function(&vars, &keys["SmsSenderFunction"]).await;
    // One provider failure opens the circuit; the next two messages are held by it.
    sim.fail_next(SimProvider::Twilio, 1, Fault::status(503));
    send("+14155550111").await;
    poll_sender_once(&sender, Channel::Sms).await;
    let held = [send("+14155550112").await, send("+14155550113").await];
    poll_sender_once(&sender, Channel::Sms).await;
    for id in &held {
        let (_, m) = call(reqwest::Method::GET, format!("{api}/v1/messages/{id}"), &key, None).await;
        assert_eq!(m["hold_reason"], "PROVIDER_CIRCUIT_OPEN", "{m}");
    }
    // After the cool-down the jobs function sends one back as the probe; the probe closes
    // the circuit and the sender releases the other onto its own queue.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let jobs = function(&vars, &keys["JobsFunction"]).await;
    herald_jobs::run(&jobs.services.jobs, "dispatch").await.expect("dispatch");
    for _ in 0..4 {
        poll_sender_once(&sender, Channel::Sms).await;
    }
    for id in &held {
        let (_, m) = call(reqwest::Method::GET, format!("{api}/v1/messages/{id}"), &key, None).await;
        assert_eq!(m["status"], "sent", "released by the probe's sender and sent: {m}");
    }
}

/// The stats function reads the table's stream and counts the message's outcomes.
async fn count_the_stream(vars: &HashMap<String, String>, keys: &Keys) {
    let stats = function(vars, &keys["StatsFunction"]).await;
    let mut tail = herald_aws::streams::StreamTail::new(&stats.infra.sdk, stats.config.table.clone());
    let mut event = aws_lambda_events::event::dynamodb::Event::default();
    for change in tail.poll(1000).await.expect("the stats function reads the stream") {
        let mut r = aws_lambda_events::event::dynamodb::EventRecord::default();
        (r.change.old_image, r.change.new_image) = (change.old_image, change.new_image);
        event.records.push(r);
    }
    let counted =
        herald_jobs::stats::handle(&stats.services.stats, &event).await.expect("counted with its permissions");
    assert!(counted >= 3, "accepted, sent, delivered: {counted}");
    let view = stats.services.stats.view(&herald_core::service::Caller::ADMIN, Duration::from_secs(3600), None, None);
    let view = view.await.expect("its counters read back");
    assert_eq!((view.accepted, view.sent, view.delivered), (1, 1, 1));
}
