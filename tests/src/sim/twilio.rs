//! Twilio `CreateMessage`: form body, Basic auth, 201 with the message resource, legacy
//! error bodies `{"code","message","more_info","status"}`.
use super::*;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Whether `auth` is this account's Basic auth (its sid and token).
pub(super) fn account_authed(sim: &Simulator, sid: &str, auth: &Option<String>) -> bool {
    let expected = sim.state.lock().unwrap().twilio_accounts.get(sid).cloned();
    matches!((auth, &expected), (Some(a), Some(token)) if *a == format!("basic:{sid}:{token}"))
}

pub(super) fn error(status: u16, code: i64, message: &str, retry_after: Option<u64>) -> Response {
    let body = json!({"code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status});
    let mut r = (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response();
    if let Some(s) = retry_after {
        r.headers_mut().insert("retry-after", s.into());
    }
    r
}

fn message_for(code: i64, to: &str) -> String {
    match code {
        21211 => format!("The 'To' number {to} is not a valid phone number."),
        21610 => "Attempt to send to unsubscribed recipient".into(),
        21614 => format!("'To' number {to} is not a valid mobile number"),
        20429 => "Too Many Requests".into(),
        20003 => "Authenticate".into(),
        _ => "Service unavailable".into(),
    }
}

pub async fn create_message(
    State(sim): State<Simulator>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = form_of(&body);
    let auth = auth_header(&headers);
    let mut rec = Recorded {
        provider: SimProvider::Twilio,
        path: format!("/2010-04-01/Accounts/{sid}/Messages.json"),
        auth: auth.clone(),
        form: form.clone(),
        json: Value::Null,
        status: 0,
        provider_message_id: None,
        at: None,
    };
    let authed = account_authed(&sim, &sid, &auth);
    let to = form.get("To").cloned().unwrap_or_default();
    // A slow answer: the message is taken, but the answer comes after any sane timeout.
    let account_fault = sim.state.lock().unwrap().twilio_account_faults.get(&sid).cloned();
    let fault = if authed { sim.take_fault(SimProvider::Twilio).or(account_fault) } else { None };
    let slow = match &fault {
        Some(Fault::SlowAccept { delay_ms }) => Some(Duration::from_millis(*delay_ms)),
        _ => None,
    };
    let fault = fault.filter(|f| !matches!(f, Fault::SlowAccept { .. }));
    let response = if !authed {
        error(401, 20003, "Authenticate", None)
    } else if let Some(fault) = fault {
        match fault {
            Fault::Timeout => {
                sim.record(Recorded { status: 0, ..rec.clone() });
                timeout_fault().await;
                return error(504, 20504, "timeout", None);
            }
            Fault::SlowAccept { .. } => unreachable!("a slow answer is not a refusal"),
            Fault::Status { status, code, retry_after } => {
                let code: i64 = code.and_then(|c| c.parse().ok()).unwrap_or(if status == 429 {
                    20429
                } else {
                    i64::from(status) * 100
                });
                error(status, code, &message_for(code, &to), retry_after)
            }
        }
    } else if to.is_empty() {
        error(400, 21604, "A 'To' phone number is required.", None)
    } else if !form.contains_key("From") && !form.contains_key("MessagingServiceSid") {
        error(400, 21603, "A 'From' phone number is required.", None)
    } else if !form.contains_key("Body") && !form.contains_key("MediaUrl") && !form.contains_key("ContentSid") {
        error(400, 21602, "Message body is required.", None)
    } else if !to.starts_with('+') || to.len() < 8 {
        error(400, 21211, &message_for(21211, &to), None)
    } else {
        let msid = sim.take_id(SimProvider::Twilio, || format!("SM{}", uuid::Uuid::new_v4().simple()));
        rec.provider_message_id = Some(msid.clone());
        let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000").to_string();
        let body = json!({
            "account_sid": sid, "api_version": "2010-04-01", "body": form.get("Body"),
            "date_created": now, "date_sent": null, "date_updated": now, "direction": "outbound-api",
            "error_code": null, "error_message": null, "from": form.get("From"), "messaging_service_sid": null,
            "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD", "sid": msid, "status": "queued",
            "subresource_uris": {"media": format!("/2010-04-01/Accounts/{sid}/Messages/{msid}/Media.json")},
            "to": to, "uri": format!("/2010-04-01/Accounts/{sid}/Messages/{msid}.json")
        });
        (StatusCode::CREATED, Json(body)).into_response()
    };
    rec.status = response.status().as_u16();
    let accepted = rec.provider_message_id.clone().filter(|_| response.status().is_success());
    sim.record(rec);
    if let Some(id) = accepted {
        sim.after_accept(SimProvider::Twilio, &id, &json_of(&body));
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    response
}

/// `GET Messages.json?To=&From=&DateSent>=`: the account's accepted messages.
pub async fn list_messages(
    State(sim): State<Simulator>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    let authed = account_authed(&sim, &sid, &auth_header(&headers));
    if !authed {
        return error(401, 20003, "Authenticate", None);
    }
    let messages: Vec<Value> = sim
        .accepted(SimProvider::Twilio)
        .into_iter()
        .filter(|r| q.get("To").is_none_or(|t| r.form.get("To") == Some(t)) && q.get("From").is_none_or(|f| r.form.get("From") == Some(f)))
        .map(|r| {
            let created = r.at.unwrap_or_else(chrono::Utc::now).format("%a, %d %b %Y %H:%M:%S +0000").to_string();
            json!({"sid": r.provider_message_id, "to": r.form.get("To"), "from": r.form.get("From"), "body": r.form.get("Body"), "status": "delivered", "account_sid": sid, "direction": "outbound-api", "date_created": created, "date_sent": created})
        })
        .collect();
    (StatusCode::OK, Json(json!({"messages": messages, "page": 0, "page_size": 100, "uri": format!("/2010-04-01/Accounts/{sid}/Messages.json")}))).into_response()
}

/// `GET IncomingPhoneNumbers.json?PhoneNumber=`: the account's numbers. A number given to an
/// account (`Simulator::twilio_number_in`) is in that account only; any other number is in
/// every account (the simulator's numbers are a shared pool).
pub async fn incoming_numbers(
    State(sim): State<Simulator>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    let auth = auth_header(&headers);
    let authed = account_authed(&sim, &sid, &auth);
    let wanted = q.get("PhoneNumber").cloned().unwrap_or_default();
    sim.record(Recorded {
        provider: SimProvider::TwilioNumbers,
        path: format!("GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber={wanted}"),
        auth,
        form: BTreeMap::new(),
        json: Value::Null,
        status: if authed { 200 } else { 401 },
        provider_message_id: None,
        at: None,
    });
    if !authed {
        return error(401, 20003, "Authenticate", None);
    }
    let (owner, for_sale) = {
        let st = sim.state.lock().unwrap();
        (st.twilio_numbers.get(&wanted).cloned(), st.twilio_for_sale.contains(&wanted))
    };
    let numbers: Vec<Value> = if !wanted.is_empty() && !for_sale && owner.is_none_or(|o| o == sid) {
        let pn = super::twilio_voice::pn_sid(&wanted);
        let urls = sim.state.lock().unwrap().twilio_number_urls.get(&pn).cloned().unwrap_or_default();
        vec![json!({
            "account_sid": sid, "sid": pn, "phone_number": wanted, "friendly_name": wanted,
            "capabilities": {"sms": true, "mms": true, "voice": true}, "status": "in-use",
            "sms_url": urls.get("SmsUrl"), "voice_url": urls.get("VoiceUrl"), "status_callback": urls.get("StatusCallback"),
            "uri": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{pn}.json")
        })]
    } else {
        vec![]
    };
    let uri = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
    let page = json!({"incoming_phone_numbers": numbers, "page": 0, "page_size": 50, "first_page_uri": uri, "next_page_uri": null, "uri": uri});
    (StatusCode::OK, Json(page)).into_response()
}
