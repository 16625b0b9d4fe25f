//! Voice (CONTRACT §14): the tenant's call settings and its calls.
use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use herald_core::voice::{Call, VoiceSettings};
use herald_http::Query;
use serde::Deserialize;
use serde_json::{json, Value};

fn view(c: Call) -> Value {
    let mut v = json!(c);
    if let Some(o) = v.as_object_mut() {
        o.remove("version");
    }
    v
}

#[utoipa::path(get, path = "/v1/voice", tag = "voice", responses((status = 200, description = "The tenant's call settings", body = VoiceSettings), crate::openapi::Errors))]
pub async fn settings(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(app.services.voice.settings(&caller).await?)))
}

#[utoipa::path(put, path = "/v1/voice", tag = "voice", request_body = VoiceSettings, responses((status = 200, description = "The settings as stored (forward_to in E.164)", body = VoiceSettings), crate::openapi::Errors))]
pub async fn put_settings(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let s: VoiceSettings = parse_json(&body)?;
    Ok(Json(json!(app.services.voice.put_settings(&caller, s).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/calls", tag = "voice", params(CallsQuery), responses((status = 200, description = "The tenant's calls, newest first", body = Object), crate::openapi::Errors))]
pub async fn calls(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<CallsQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = app.services.voice.calls(&caller, q.since, q.limit.unwrap_or(50), q.cursor.as_deref()).await?;
    let calls: Vec<Value> = page.items.into_iter().map(view).collect();
    Ok(Json(json!({"calls": calls, "next_cursor": page.next_cursor})))
}

#[utoipa::path(get, path = "/v1/calls/{call_sid}", tag = "voice", params(("call_sid" = String, Path)), responses((status = 200, description = "One call: outcome, text-back, recording, transcription", body = Object), crate::openapi::Errors))]
pub async fn call(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(view(app.services.voice.call(&caller, &sid).await?)))
}
