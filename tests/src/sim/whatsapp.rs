//! WhatsApp Cloud API `POST /{version}/{phone_number_id}/messages`; Graph API errors
//! `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient"}}`.
use super::*;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

fn error(status: u16, code: i64, retry_after: Option<u64>) -> Response {
    let (message, transient) = match code {
        190 => ("Invalid OAuth access token - Cannot parse access token".to_string(), false),
        132001 => ("(#132001) Template name does not exist in the translation".to_string(), false),
        131026 => ("(#131026) Message undeliverable".to_string(), false),
        131047 => ("(#131047) Re-engagement message".to_string(), false),
        130429 => ("(#130429) Rate limit hit".to_string(), true),
        131056 => ("(#131056) (Business Account, Consumer Account) pair rate limit hit".to_string(), true),
        100 => ("(#100) Invalid parameter".to_string(), false),
        _ => ("An unexpected error has occurred. Please retry your request later.".to_string(), true),
    };
    let body = json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AsimTRACE", "is_transient": transient}});
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response();
    if let Some(s) = retry_after {
        r.headers_mut().insert("retry-after", s.into());
    }
    r
}

pub async fn send_message(
    State(sim): State<Simulator>,
    Path((version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let auth = auth_header(&headers);
    let mut rec = Recorded {
        provider: SimProvider::Whatsapp,
        path: format!("/{version}/{pnid}/messages"),
        auth: auth.clone(),
        form: BTreeMap::new(),
        json: json.clone(),
        status: 0,
        provider_message_id: None,
        at: None,
    };
    let token_ok = {
        let tokens = &sim.state.lock().unwrap().whatsapp_tokens;
        auth.as_deref().and_then(|a| a.strip_prefix("bearer:")).is_some_and(|t| tokens.contains(t))
    };
    let kind = json.get("type").and_then(|v| v.as_str()).unwrap_or("text");
    let shape_ok = json.get("messaging_product").and_then(|v| v.as_str()) == Some("whatsapp")
        && json
            .get("to")
            .and_then(|v| v.as_str())
            .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '+'))
        && match kind {
            "text" => json.pointer("/text/body").and_then(|v| v.as_str()).is_some(),
            "template" => json.pointer("/template/name").is_some() && json.pointer("/template/language/code").is_some(),
            _ => false,
        };
    // A slow answer: the message is taken, but the answer comes after any sane timeout.
    let fault = if token_ok { sim.take_fault(SimProvider::Whatsapp) } else { None };
    let slow = match &fault {
        Some(Fault::SlowAccept { delay_ms }) => Some(Duration::from_millis(*delay_ms)),
        _ => None,
    };
    let fault = fault.filter(|f| !matches!(f, Fault::SlowAccept { .. }));
    let response = if !token_ok {
        error(401, 190, None)
    } else if let Some(fault) = fault {
        match fault {
            Fault::Timeout => {
                sim.record(rec.clone());
                timeout_fault().await;
                return error(504, 2, None);
            }
            Fault::SlowAccept { .. } => unreachable!("a slow answer is not a refusal"),
            Fault::Status { status, code, retry_after } => {
                let code = code.and_then(|c| c.parse().ok()).unwrap_or(if status == 429 { 130429 } else { 2 });
                error(status, code, retry_after)
            }
        }
    } else if !shape_ok {
        error(400, 100, None)
    } else {
        let id = sim.take_id(SimProvider::Whatsapp, || format!("wamid.{}", uuid::Uuid::new_v4().simple()));
        rec.provider_message_id = Some(id.clone());
        let to = json.get("to").and_then(|v| v.as_str()).unwrap_or_default();
        (StatusCode::OK, Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to.trim_start_matches('+')}], "messages": [{"id": id, "message_status": "accepted"}]}))).into_response()
    };
    rec.status = response.status().as_u16();
    let accepted = rec.provider_message_id.clone().filter(|_| response.status().is_success());
    sim.record(rec);
    if let Some(id) = accepted {
        let mut request = json_of(&body);
        request["phone_number_id"] = json!(pnid);
        sim.after_accept(SimProvider::Whatsapp, &id, &request);
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    response
}

/// `GET /{version}/{phone_number_id}`: the phone number object, for a token that reaches it.
/// An id given to a token (`Simulator::whatsapp_number_for`) is reachable with that token
/// only; any other id with any valid token.
pub async fn phone_number(
    State(sim): State<Simulator>,
    Path((_version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let auth = auth_header(&headers);
    let token = auth.as_deref().and_then(|a| a.strip_prefix("bearer:")).unwrap_or_default().to_string();
    let (known, owner) = {
        let st = sim.state.lock().unwrap();
        (st.whatsapp_tokens.contains(&token), st.whatsapp_numbers.get(&pnid).cloned())
    };
    let status = if !known {
        401
    } else if owner.is_some_and(|o| o != token) {
        400
    } else {
        200
    };
    sim.record(Recorded {
        provider: SimProvider::WhatsappNumbers,
        path: format!("GET /{pnid}"),
        auth,
        form: BTreeMap::new(),
        json: Value::Null,
        status,
        provider_message_id: None,
        at: None,
    });
    match status {
        401 => error(401, 190, None),
        400 => {
            let message = format!("Unsupported get request. Object with ID '{pnid}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.");
            let body = json!({"error": {"message": message, "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": "AsimTRACE"}});
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
        _ => {
            let body = json!({"verified_name": "Herald Sim", "display_phone_number": "+1 555-0100", "id": pnid, "quality_rating": "GREEN", "code_verification_status": "VERIFIED"});
            (StatusCode::OK, Json(body)).into_response()
        }
    }
}
