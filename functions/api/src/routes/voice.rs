//! Voice (CONTRACT §14): the tenant's call settings and its calls.
use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use herald_core::voice::{Call, CallOutcome, Recording, Transcription, VoiceSettings};
use herald_core::{MessageId, TenantId};
use herald_http::Query;
use serde::{Deserialize, Serialize};

/// One call as its tenant sees it (the record without its write version).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CallView {
    call_sid: String,
    tenant_id: TenantId,
    from: String,
    to: String,
    /// The carrier's last call status (`ringing`, `in-progress`, `completed`, `no-answer`, …).
    status: String,
    outcome: Option<CallOutcome>,
    text_back_message_id: Option<MessageId>,
    /// Why no text-back went out (cool-down, flag off, refused by a guard with its code).
    #[serde(skip_serializing_if = "Option::is_none")]
    text_back_skipped: Option<String>,
    recording: Option<Recording>,
    transcription: Option<Transcription>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A page of calls, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CallsPage {
    calls: Vec<CallView>,
    next_cursor: Option<String>,
}

fn view(c: Call) -> CallView {
    CallView {
        call_sid: c.call_sid,
        tenant_id: c.tenant_id,
        from: c.from,
        to: c.to,
        status: c.status,
        outcome: c.outcome,
        text_back_message_id: c.text_back_message_id,
        text_back_skipped: c.text_back_skipped,
        recording: c.recording,
        transcription: c.transcription,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

#[utoipa::path(get, path = "/v1/voice", tag = "voice", responses((status = 200, description = "The tenant's call settings", body = VoiceSettings), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn settings(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<VoiceSettings>, ApiError> {
    Ok(Json(app.services.voice.settings(&caller).await?))
}

#[utoipa::path(put, path = "/v1/voice", tag = "voice", request_body = VoiceSettings, responses((status = 200, description = "The settings as stored (forward_to in E.164)", body = VoiceSettings), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn put_settings(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<VoiceSettings>, ApiError> {
    let s: VoiceSettings = parse_json(&body)?;
    Ok(Json(app.services.voice.put_settings(&caller, s).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/calls", tag = "voice", params(CallsQuery), responses((status = 200, description = "The tenant's calls, newest first", body = CallsPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn calls(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<CallsQuery>,
) -> Result<Json<CallsPage>, ApiError> {
    let page = app.services.voice.calls(&caller, q.since, q.limit.unwrap_or(50), q.cursor.as_deref()).await?;
    Ok(Json(CallsPage { calls: page.items.into_iter().map(view).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/v1/calls/{call_sid}", tag = "voice", params(("call_sid" = String, Path)), responses((status = 200, description = "One call: outcome, text-back, recording, transcription", body = CallView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn call(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    Ok(Json(view(app.services.voice.call(&caller, &sid).await?)))
}

#[utoipa::path(get, path = "/v1/calls/{call_sid}/recording", tag = "voice", params(("call_sid" = String, Path)), responses((status = 302, description = "To a presigned S3 URL that plays the voicemail for five minutes"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn recording(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(sid): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let url = app.services.voice.recording_url(&caller, &sid).await?;
    let location = axum::http::HeaderValue::from_str(&url).map_err(|_| ApiError::Coded {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        code: "INTERNAL",
        message: "the recording's URL is not a header value".into(),
    })?;
    let headers =
        [(axum::http::header::LOCATION, location), (axum::http::header::CACHE_CONTROL, "no-store".parse().unwrap())];
    Ok((axum::http::StatusCode::FOUND, headers).into_response())
}
