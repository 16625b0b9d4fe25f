//! Telnyx's number APIs with stateful numbers: a new number is only found by the search
//! after some searches (indexing lag), and either linking method can be made to fail.
use super::*;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct SimNumber {
    pub id: String,
    pub phone_number: String,
    /// Searches that still return nothing before the number shows up.
    pub searches_before_indexed: u32,
    /// HTTP status method 1 (`PATCH /v2/phone_numbers/{id}/messaging`) answers with, if failing.
    pub method1_fails: Option<u16>,
    pub method2_fails: Option<u16>,
    pub messaging_profile_id: Option<String>,
}

impl SimNumber {
    pub fn new(phone: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            phone_number: phone.into(),
            searches_before_indexed: 0,
            method1_fails: None,
            method2_fails: None,
            messaging_profile_id: None,
        }
    }
}

fn record(sim: &Simulator, path: String, auth: Option<String>, json: Value, status: u16) {
    sim.record(Recorded {
        provider: SimProvider::TelnyxNumbers,
        path,
        auth,
        form: BTreeMap::new(),
        json,
        status,
        provider_message_id: None,
        at: None,
    });
}

fn number_json(n: &SimNumber) -> Value {
    json!({"id": n.id, "record_type": "phone_number", "phone_number": n.phone_number, "status": "active", "messaging_profile_id": n.messaging_profile_id, "tags": [], "created_at": "2026-11-24T00:00:00Z"})
}

pub async fn list(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let auth = auth_header(&headers);
    let filter = q.get("filter[phone_number]").cloned().unwrap_or_default();
    if !super::telnyx::authed(&sim, &auth) {
        record(&sim, format!("GET /v2/phone_numbers?{filter}"), auth, Value::Null, 401);
        return super::telnyx::error(401, "10009", None);
    }
    let found = {
        let mut st = sim.state.lock().unwrap();
        let digits_ok = !filter.is_empty() && filter.chars().all(|c| c.is_ascii_digit());
        let key = format!("+{filter}");
        let digits_ok = digits_ok && !st.telnyx_foreign.contains(&key);
        if digits_ok && !st.numbers.contains_key(&key) {
            st.numbers.insert(key.clone(), SimNumber::new(&key));
        }
        match st.numbers.get_mut(&key).filter(|_| digits_ok) {
            Some(n) if n.searches_before_indexed > 0 => {
                n.searches_before_indexed -= 1;
                None
            }
            Some(n) => Some(number_json(n)),
            None => None,
        }
    };
    record(&sim, format!("GET /v2/phone_numbers?{filter}"), auth, Value::Null, 200);
    let data: Vec<Value> = found.into_iter().collect();
    (
        StatusCode::OK,
        Json(json!({"data": data, "meta": {"page_number": 1, "total_pages": 1, "total_results": data.len()}})),
    )
        .into_response()
}

fn link(sim: &Simulator, id: &str, method: u8, body: &Value) -> Response {
    let mut st = sim.state.lock().unwrap();
    let Some(n) = st.numbers.values_mut().find(|n| n.id == id) else {
        // Addressed by anything but a number id (e.g. the number string): Telnyx's 400.
        return super::telnyx::error(
            if id.starts_with('+') { 400 } else { 404 },
            if id.starts_with('+') { "10015" } else { "10005" },
            None,
        );
    };
    let fail = if method == 1 { n.method1_fails } else { n.method2_fails };
    if let Some(status) = fail {
        return super::telnyx::error(status, if status == 422 { "10015" } else { "10000" }, None);
    }
    n.messaging_profile_id = body.get("messaging_profile_id").and_then(|v| v.as_str()).map(str::to_string);
    let mut v = number_json(n);
    v["record_type"] = json!("messaging_phone_number");
    (StatusCode::OK, Json(json!({"data": v}))).into_response()
}

pub async fn link_direct(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = auth_header(&headers);
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let r = if super::telnyx::authed(&sim, &auth) {
        link(&sim, &id, 1, &json)
    } else {
        super::telnyx::error(401, "10009", None)
    };
    record(&sim, format!("PATCH /v2/phone_numbers/{id}/messaging"), auth, json, r.status().as_u16());
    r
}

pub async fn link_profile(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = auth_header(&headers);
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let r = if super::telnyx::authed(&sim, &auth) {
        link(&sim, &id, 2, &json)
    } else {
        super::telnyx::error(401, "10009", None)
    };
    record(&sim, format!("PATCH /v2/messaging_phone_numbers/{id}"), auth, json, r.status().as_u16());
    r
}

pub async fn order(State(sim): State<Simulator>, headers: HeaderMap, body: String) -> Response {
    let auth = auth_header(&headers);
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if !super::telnyx::authed(&sim, &auth) {
        record(&sim, "POST /v2/number_orders".into(), auth, json, 401);
        return super::telnyx::error(401, "10009", None);
    }
    let phones: Vec<String> = json
        .pointer("/phone_numbers")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("phone_number")?.as_str().map(str::to_string))
        .collect();
    {
        let mut st = sim.state.lock().unwrap();
        for p in &phones {
            // A freshly bought number takes two searches to be indexed.
            st.numbers
                .entry(p.clone())
                .or_insert_with(|| SimNumber { searches_before_indexed: 2, ..SimNumber::new(p) });
        }
    }
    record(&sim, "POST /v2/number_orders".into(), auth, json, 200);
    let items: Vec<Value> = phones.iter().map(|p| json!({"phone_number": p, "status": "success"})).collect();
    (StatusCode::OK, Json(json!({"data": {"id": uuid::Uuid::new_v4().to_string(), "record_type": "number_order", "status": "success", "phone_numbers": items}}))).into_response()
}
