//! SES v2 in front of the emulator: answers what moto cannot (the account's sending quota,
//! `GET /v2/email/account`; `429 TooManyRequestsException` "Maximum sending rate exceeded"
//! when asked to throttle) in SES's own wire format, and forwards everything else to moto
//! untouched (signed requests as the SDK sent them).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct SesState {
    throttle: AtomicUsize,
    /// `SendEmail` calls answered 429, and forwarded.
    pub throttled: AtomicUsize,
    pub forwarded_sends: AtomicUsize,
}

pub struct SesFront {
    pub url: String,
    pub state: Arc<SesState>,
}

impl SesFront {
    /// Starts in front of `moto`, with an account rate of `max_send_rate` per second.
    pub async fn start(moto: String, max_send_rate: f64) -> SesFront {
        let state = Arc::new(SesState::default());
        let shared = (state.clone(), moto, max_send_rate, reqwest::Client::new());
        let app = axum::Router::new().fallback(front).with_state(Arc::new(shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        SesFront { url, state }
    }

    /// The next `n` `SendEmail` calls are throttled.
    pub fn throttle_next(&self, n: usize) {
        self.state.throttle.store(n, Ordering::SeqCst);
    }
}

type Shared = Arc<(Arc<SesState>, String, f64, reqwest::Client)>;

fn json(status: StatusCode, error_type: Option<&str>, body: serde_json::Value) -> Response {
    let mut r = (status, [("content-type", "application/json")], body.to_string()).into_response();
    if let Some(t) = error_type {
        r.headers_mut().insert("x-amzn-errortype", t.parse().unwrap());
    }
    r
}

async fn front(State(s): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (state, moto, rate, http) = (&s.0, &s.1, s.2, &s.3);
    let path = uri.path();
    if method == Method::GET && path == "/v2/email/account" {
        let quota = serde_json::json!({"Max24HourSend": 50000.0, "MaxSendRate": rate, "SentLast24Hours": 0.0});
        let account = serde_json::json!({"SendQuota": quota, "SendingEnabled": true, "ProductionAccessEnabled": true,
            "EnforcementStatus": "HEALTHY", "DedicatedIpAutoWarmupEnabled": false});
        return json(StatusCode::OK, None, account);
    }
    if method == Method::POST && path == "/v2/email/outbound-emails" {
        let take = state.throttle.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if take.is_ok() {
            state.throttled.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({"message": "Maximum sending rate exceeded."});
            return json(StatusCode::TOO_MANY_REQUESTS, Some("TooManyRequestsException"), body);
        }
        state.forwarded_sends.fetch_add(1, Ordering::SeqCst);
    }
    let target = format!("{moto}{}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut req = http.request(method, target).body(body);
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host" && *k != "content-length") {
        req = req.header(k, v);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status();
            let headers = r.headers().clone();
            let bytes = r.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            for (k, v) in headers.iter().filter(|(k, _)| *k != "content-length" && *k != "transfer-encoding") {
                out.headers_mut().insert(k, v.clone());
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
