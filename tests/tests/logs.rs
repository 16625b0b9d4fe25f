//! Every log line of a send carries that message's own ids, also when a batch's message
//! groups are sent concurrently (each group's future is instrumented with its own span), and
//! every log line of an API request carries that request's request and correlation ids.
//! Its own test binary: it installs the process-wide subscriber it reads.
use herald_tests::spawn_app;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_send_log_line_names_its_own_message() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_env_filter("herald_core=info,herald_sender=info,herald_http=info,herald_api=info")
        .with_writer(logs.clone())
        .init();
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let mut ids = BTreeSet::new();
    let mut requests = BTreeMap::new();
    for i in 0..10 {
        let to = format!("+1415555{:04}", 7000 + i);
        let correlation = format!("logs-{i}");
        let body = json!({"channel": "sms", "to": to, "body": "logs"});
        let headers = [("x-correlation-id", correlation.as_str())];
        let r = app.call(Method::POST, "/v1/messages", Some(&t.live_key), Some(body), &headers).await;
        assert_eq!(r.status, 202, "{}", r.body);
        ids.insert(r.body["id"].as_str().unwrap().to_string());
        let request_id = r.headers["x-request-id"].to_str().unwrap().to_string();
        requests.insert(request_id, correlation);
    }
    for id in &ids {
        app.wait_status(&t.live_key, id, "sent", Duration::from_secs(30)).await;
    }
    let raw = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = raw.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let calls: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == "calling provider").collect();
    assert_eq!(calls.len(), 10, "one provider call per message");
    let mut spanned = BTreeSet::new();
    for line in calls.iter().copied().chain(lines.iter().filter(|l| l["span"]["name"] == "send")) {
        let span_id =
            line["span"]["message_id"].as_str().unwrap_or_else(|| panic!("a send line outside its span: {line}"));
        if let Some(own) = line["fields"]["message_id"].as_str() {
            assert_eq!(own, span_id, "a line names one message and sits in another's span: {line}");
        }
        spanned.insert(span_id.to_string());
    }
    assert_eq!(spanned, ids, "every message's send was logged in its own span");
    check_request_lines(&lines, &requests);
}

/// Each acceptance is logged inside its request's span, with the ids the client was answered
/// with; no API line is logged outside a request.
fn check_request_lines(lines: &[Value], requests: &BTreeMap<String, String>) {
    let request_of = |line: &Value| -> Option<(String, String)> {
        let spans = line["spans"].as_array()?;
        let span = spans.iter().find(|s| s["name"] == "request")?;
        Some((span["request_id"].as_str()?.to_string(), span["correlation_id"].as_str()?.to_string()))
    };
    let mut seen = BTreeMap::new();
    for line in lines.iter().filter(|l| l["fields"]["message"] == "message accepted") {
        let (request_id, correlation_id) =
            request_of(line).unwrap_or_else(|| panic!("an acceptance logged outside its request: {line}"));
        assert_eq!(line["fields"]["correlation_id"].as_str(), Some(correlation_id.as_str()), "{line}");
        seen.insert(request_id, correlation_id);
    }
    assert_eq!(&seen, requests, "each request's acceptance carries the ids it was answered with");
    for line in lines.iter().filter(|l| l["target"].as_str().is_some_and(|t| t.starts_with("herald_api"))) {
        assert!(request_of(line).is_some(), "an API line outside its request: {line}");
    }
}
