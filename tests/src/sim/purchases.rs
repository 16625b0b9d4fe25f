//! Buying numbers, as Twilio and Telnyx sell them: Twilio `AvailablePhoneNumbers/US/Local.json`
//! and `POST IncomingPhoneNumbers.json` (Basic auth, 201 with the number resource, 21422 for
//! a number not for sale), Telnyx `GET /v2/available_phone_numbers` (bearer). Numbers for sale
//! are `+1{area}555{nnnn}` that no account holds yet.
use super::*;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// The first number of the area code no account holds, now for sale (in no account).
fn for_sale(sim: &Simulator, area: &str) -> Option<String> {
    let mut st = sim.state.lock().unwrap();
    let n = (100..10_000)
        .map(|n| format!("+1{area}555{n:04}"))
        .find(|n| !st.twilio_numbers.contains_key(n) && !st.numbers.contains_key(n))?;
    st.twilio_for_sale.insert(n.clone());
    Some(n)
}

fn twilio_authed(sim: &Simulator, sid: &str, headers: &HeaderMap) -> (bool, Option<String>) {
    let auth = auth_header(headers);
    (super::twilio::account_authed(sim, sid, &auth), auth)
}

fn record(
    sim: &Simulator,
    provider: SimProvider,
    path: String,
    auth: Option<String>,
    form: BTreeMap<String, String>,
    status: u16,
) {
    sim.record(Recorded { provider, path, auth, form, json: Value::Null, status, provider_message_id: None, at: None });
}

pub async fn twilio_available(
    State(sim): State<Simulator>,
    Path((sid, country)): Path<(String, String)>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    let (ok, auth) = twilio_authed(&sim, &sid, &headers);
    let area = q.get("AreaCode").cloned().unwrap_or_default();
    let path = format!("GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{country}/Local.json?AreaCode={area}");
    record(&sim, SimProvider::TwilioNumbers, path, auth, BTreeMap::new(), if ok { 200 } else { 401 });
    if !ok {
        return super::twilio::error(401, 20003, "Authenticate", None);
    }
    let found: Vec<Value> = for_sale(&sim, &area)
        .filter(|_| area.len() == 3 && country == "US")
        .map(|n| {
            let friendly = format!("({}) {}-{}", &n[2..5], &n[5..8], &n[8..]);
            json!({"friendly_name": friendly, "phone_number": n, "lata": "722", "locality": "San Francisco", "rate_center": "SNFC",
                "latitude": "37.77", "longitude": "-122.41", "region": "CA", "postal_code": "94103", "iso_country": "US",
                "address_requirements": "none", "beta": false, "capabilities": {"voice": true, "SMS": true, "MMS": true}})
        })
        .into_iter()
        .collect();
    let uri = format!("/2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{country}/Local.json");
    (StatusCode::OK, Json(json!({"available_phone_numbers": found, "uri": uri}))).into_response()
}

pub async fn twilio_buy(
    State(sim): State<Simulator>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = form_of(&body);
    let (ok, auth) = twilio_authed(&sim, &sid, &headers);
    let number = form.get("PhoneNumber").cloned().unwrap_or_default();
    // Only a number for sale can be bought (any other is in an account already).
    let taken = !sim.state.lock().unwrap().twilio_for_sale.contains(&number);
    // A slow answer: the number is bought, but the answer comes after the client gave up.
    let slow = match ok.then(|| sim.take_fault(SimProvider::TwilioNumbers)).flatten() {
        Some(Fault::SlowAccept { delay_ms }) => Some(std::time::Duration::from_millis(delay_ms)),
        _ => None,
    };
    let status = if !ok {
        401
    } else if number.is_empty() || taken {
        400
    } else {
        201
    };
    record(
        &sim,
        SimProvider::TwilioNumbers,
        format!("POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"),
        auth,
        form,
        status,
    );
    match status {
        401 => return super::twilio::error(401, 20003, "Authenticate", None),
        400 => return super::twilio::error(400, 21422, &format!("PhoneNumber {number} is not available."), None),
        _ => {}
    }
    {
        let mut st = sim.state.lock().unwrap();
        st.twilio_for_sale.remove(&number);
        st.twilio_numbers.insert(number.clone(), sid.clone());
    }
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
    let pn = super::twilio_voice::pn_sid(&number);
    let body = json!({"account_sid": sid, "sid": pn, "phone_number": number, "friendly_name": number, "status": "in-use",
        "capabilities": {"sms": true, "mms": true, "voice": true}, "sms_url": "", "voice_url": "", "status_callback": "",
        "date_created": chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000").to_string(),
        "uri": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{pn}.json")});
    (StatusCode::CREATED, Json(body)).into_response()
}

pub async fn telnyx_available(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    let auth = auth_header(&headers);
    let ok = super::telnyx::authed(&sim, &auth);
    let area = q.get("filter[national_destination_code]").cloned().unwrap_or_default();
    let path = format!("GET /v2/available_phone_numbers?filter[national_destination_code]={area}");
    record(&sim, SimProvider::TelnyxNumbers, path, auth, BTreeMap::new(), if ok { 200 } else { 401 });
    if !ok {
        return super::telnyx::error(401, "10009", None);
    }
    let data: Vec<Value> = for_sale(&sim, &area)
        .filter(|_| area.len() == 3)
        .map(|n| json!({"record_type": "available_phone_number", "phone_number": n, "vanity_format": null, "best_effort": false,
            "quickship": true, "reservable": true, "features": [{"name": "sms"}, {"name": "voice"}],
            "cost_information": {"upfront_cost": "1.00", "monthly_cost": "1.00", "currency": "USD"},
            "region_information": [{"region_type": "country_code", "region_name": "US"}]}))
        .into_iter()
        .collect();
    let meta = json!({"total_results": data.len(), "best_effort_results": 0});
    (StatusCode::OK, Json(json!({"data": data, "meta": meta}))).into_response()
}
