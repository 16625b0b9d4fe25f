//! Telnyx `POST /v2/messages`: JSON, Bearer key, `{"data": {...}}`; errors
//! `{"errors": [{"code": "<string>", "title", "detail", "meta": {"url"}}]}`.
use super::*;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

fn title(code: &str) -> (&'static str, &'static str) {
    match code {
        "10009" => ("Authentication failed", "The API key looks malformed. Check that you copied it correctly."),
        "10011" => ("Too many requests", "You have exceeded the rate limit."),
        "10015" => ("Bad Request", "The request failed because it was not well-formed."),
        "10016" => ("Phone number must be in +E.164 format", "The 'to' number must be in +E.164 format."),
        "40300" => (
            "Blocked due to STOP message",
            "Messages cannot be sent from 'from' to 'to' due to an existing block rule.",
        ),
        _ => ("Service unavailable", "The service is temporarily unavailable."),
    }
}

pub(crate) fn error(status: u16, code: &str, retry_after: Option<u64>) -> Response {
    let (t, d) = title(code);
    let body = json!({"errors": [{"code": code, "title": t, "detail": d, "meta": {"url": format!("https://developers.telnyx.com/docs/overview/errors/{code}")}}]});
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response();
    if let Some(s) = retry_after {
        r.headers_mut().insert("retry-after", s.into());
    }
    r
}

pub(crate) fn authed(sim: &Simulator, auth: &Option<String>) -> bool {
    let keys = &sim.state.lock().unwrap().telnyx_keys;
    auth.as_deref().and_then(|a| a.strip_prefix("bearer:")).is_some_and(|k| keys.contains(k))
}

pub async fn send_message(State(sim): State<Simulator>, headers: HeaderMap, body: String) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let auth = auth_header(&headers);
    let mut rec = Recorded {
        provider: SimProvider::Telnyx,
        path: "/v2/messages".into(),
        auth: auth.clone(),
        form: BTreeMap::new(),
        json: json.clone(),
        status: 0,
        provider_message_id: None,
        at: None,
    };
    let to = json.get("to").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    // A slow answer: the message is taken, but the answer comes after any sane timeout.
    let fault = if authed(&sim, &auth) { sim.take_fault(SimProvider::Telnyx) } else { None };
    let slow = match &fault {
        Some(Fault::SlowAccept { delay_ms }) => Some(Duration::from_millis(*delay_ms)),
        _ => None,
    };
    let fault = fault.filter(|f| !matches!(f, Fault::SlowAccept { .. }));
    let response = if !authed(&sim, &auth) {
        error(401, "10009", None)
    } else if let Some(fault) = fault {
        match fault {
            Fault::Timeout => {
                sim.record(rec.clone());
                timeout_fault().await;
                return error(504, "10000", None);
            }
            Fault::SlowAccept { .. } => unreachable!("a slow answer is not a refusal"),
            Fault::Status { status, code, retry_after } => {
                let code = code.unwrap_or_else(|| if status == 429 { "10011".into() } else { "10000".into() });
                error(status, &code, retry_after)
            }
        }
    } else if json.is_null() || to.is_empty() {
        error(400, "10015", None)
    } else if !to.starts_with('+') {
        error(400, "10016", None)
    } else {
        let id = sim.take_id(SimProvider::Telnyx, || uuid::Uuid::new_v4().to_string());
        rec.provider_message_id = Some(id.clone());
        let text = json.get("text").and_then(|v| v.as_str()).unwrap_or_default();
        let body = json!({"data": {
            "record_type": "message", "direction": "outbound", "id": id, "type": "SMS",
            "messaging_profile_id": json.get("messaging_profile_id"), "organization_id": "sim-org",
            "from": {"phone_number": json.get("from"), "carrier": "SIM", "line_type": "Wireless"},
            "to": [{"phone_number": to, "status": "queued", "carrier": "SIM", "line_type": "Wireless"}],
            "text": text, "encoding": "GSM-7", "parts": 1, "cost": null, "errors": [],
            "received_at": chrono::Utc::now().to_rfc3339(), "webhook_url": json.get("webhook_url")
        }});
        (StatusCode::OK, Json(body)).into_response()
    };
    rec.status = response.status().as_u16();
    let accepted = rec.provider_message_id.clone().filter(|_| response.status().is_success());
    sim.record(rec);
    if let Some(id) = accepted {
        sim.after_accept(SimProvider::Telnyx, &id, &json_of(&body));
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    response
}
