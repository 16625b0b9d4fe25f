//! Twilio Voice's REST side: updating an IncomingPhoneNumber's webhook URLs
//! (`POST …/IncomingPhoneNumbers/{PN…}.json`, form `VoiceUrl`, `SmsUrl`, `StatusCallback`, …)
//! and voicemail recordings (`GET …/Recordings/{RE…}.mp3` with Basic auth, `DELETE
//! …/Recordings/{RE…}.json` → 204). Errors in Twilio's body shape, 20404 for a missing resource.
use super::*;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// The IncomingPhoneNumber sid the simulator gives a number (as its list answers it).
pub fn pn_sid(e164: &str) -> String {
    format!("PN{:032x}", e164.bytes().fold(0u128, |a, b| a.wrapping_mul(31).wrapping_add(b as u128)))
}

fn not_found(uri: &str) -> Response {
    let body = json!({"code": 20404, "message": format!("The requested resource {uri} was not found"), "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

fn unauthorized() -> Response {
    let body = json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn authed(sim: &Simulator, sid: &str, headers: &HeaderMap) -> (bool, Option<String>) {
    let expected = sim.state.lock().unwrap().twilio_accounts.get(sid).cloned();
    let auth = auth_header(headers);
    (matches!((&auth, &expected), (Some(a), Some(t)) if *a == format!("basic:{sid}:{t}")), auth)
}

fn recorded(path: String, auth: Option<String>, form: BTreeMap<String, String>, status: u16) -> Recorded {
    Recorded {
        provider: SimProvider::TwilioVoice,
        path,
        auth,
        form,
        json: Value::Null,
        status,
        provider_message_id: None,
        at: None,
    }
}

pub async fn update_number(
    State(sim): State<Simulator>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = form_of(&body);
    let (ok, auth) = authed(&sim, &sid, &headers);
    let pn = file.trim_end_matches(".json").to_string();
    let path = format!("POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{file}");
    sim.record(recorded(path, auth, form.clone(), if ok { 200 } else { 401 }));
    if !ok {
        return unauthorized();
    }
    let mut st = sim.state.lock().unwrap();
    let urls = st.twilio_number_urls.entry(pn.clone()).or_default();
    for k in ["VoiceUrl", "VoiceMethod", "SmsUrl", "SmsMethod", "StatusCallback", "StatusCallbackMethod"] {
        if let Some(v) = form.get(k) {
            urls.insert(k.to_string(), v.clone());
        }
    }
    let get = |k: &str| urls.get(k).cloned();
    let number = json!({"account_sid": sid, "sid": pn, "voice_url": get("VoiceUrl"), "sms_url": get("SmsUrl"), "status_callback": get("StatusCallback"), "voice_method": get("VoiceMethod").unwrap_or("POST".into()), "sms_method": get("SmsMethod").unwrap_or("POST".into())});
    (StatusCode::OK, Json(number)).into_response()
}

pub async fn get_recording(
    State(sim): State<Simulator>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (ok, auth) = authed(&sim, &sid, &headers);
    let path = format!("GET /2010-04-01/Accounts/{sid}/Recordings/{file}");
    let re = file.split('.').next().unwrap_or_default().to_string();
    let found = sim.state.lock().unwrap().twilio_recordings.get(&re).filter(|(owner, _)| *owner == sid).cloned();
    let status = match (ok, &found) {
        (false, _) => 401,
        (true, None) => 404,
        (true, Some(_)) => 200,
    };
    sim.record(recorded(path.clone(), auth, BTreeMap::new(), status));
    match (ok, found) {
        (false, _) => unauthorized(),
        (true, None) => not_found(&path),
        (true, Some((_, bytes))) => ([("content-type", "audio/mpeg")], bytes).into_response(),
    }
}

pub async fn delete_recording(
    State(sim): State<Simulator>,
    Path((sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (ok, auth) = authed(&sim, &sid, &headers);
    let path = format!("DELETE /2010-04-01/Accounts/{sid}/Recordings/{file}");
    let re = file.trim_end_matches(".json").to_string();
    let removed = ok && {
        let mut st = sim.state.lock().unwrap();
        let mine = st.twilio_recordings.get(&re).is_some_and(|(owner, _)| *owner == sid);
        mine && st.twilio_recordings.remove(&re).is_some()
    };
    sim.record(recorded(
        path.clone(),
        auth,
        BTreeMap::new(),
        if !ok {
            401
        } else if removed {
            204
        } else {
            404
        },
    ));
    match (ok, removed) {
        (false, _) => unauthorized(),
        (true, false) => not_found(&path),
        (true, true) => StatusCode::NO_CONTENT.into_response(),
    }
}
