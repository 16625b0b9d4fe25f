use crate::error::ApiError;
use crate::responses::{DncPage, Feature, FeatureChange, Resumed, WindowOpened};
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use herald_core::guards::DncEntry;
use herald_core::service::controls::Budget;
use herald_core::tenant::Tenant;
use herald_http::Query;
use serde::Deserialize;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/pause", tag = "controls", params(("id" = String, Path, description = "tenant id")), request_body = Reason, responses((status = 200, description = "The paused tenant", body = herald_core::tenant::Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_pause(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Tenant>, ApiError> {
    let r: Reason = parse_json(&body)?;
    Ok(Json(app.services.controls.pause(&caller, Some(&id), r.reason.unwrap_or_default()).await?))
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/resume", tag = "controls", params(("id" = String, Path, description = "tenant id")), responses((status = 200, description = "The tenant and how many held messages were released", body = Resumed), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_resume(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Resumed>, ApiError> {
    let (tenant, released) = app.services.controls.resume(&caller, Some(&id)).await?;
    Ok(Json(Resumed { tenant, released }))
}

#[utoipa::path(post, path = "/v1/tenant/pause", tag = "controls", request_body = Reason, responses((status = 200, description = "The paused tenant", body = herald_core::tenant::Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn pause(State(app): State<AppState>, Auth(caller): Auth, body: Bytes) -> Result<Json<Tenant>, ApiError> {
    let r: Reason = parse_json(&body)?;
    Ok(Json(app.services.controls.pause(&caller, None, r.reason.unwrap_or_default()).await?))
}

#[utoipa::path(post, path = "/v1/tenant/resume", tag = "controls", responses((status = 200, description = "The tenant and released count", body = Resumed), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn resume(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Resumed>, ApiError> {
    let (tenant, released) = app.services.controls.resume(&caller, None).await?;
    Ok(Json(Resumed { tenant, released }))
}

#[utoipa::path(get, path = "/v1/tenant/budget", tag = "controls", responses((status = 200, description = "Spend and budgets", body = herald_core::service::controls::Budget), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn budget(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Budget>, ApiError> {
    Ok(Json(app.services.controls.budget(&caller).await?))
}

#[utoipa::path(put, path = "/v1/dnc/{address}", tag = "dnc", params(("address" = String, Path, description = "E.164 phone or email address")), request_body = Reason, responses((status = 200, description = "The entry", body = herald_core::guards::DncEntry), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn dnc_put(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(address): Path<String>,
    body: Bytes,
) -> Result<Json<DncEntry>, ApiError> {
    let r: Reason = parse_json(&body)?;
    Ok(Json(app.services.dnc.put(&caller, &address, r.reason).await?))
}

#[utoipa::path(get, path = "/v1/dnc/{address}", tag = "dnc", params(("address" = String, Path)), responses((status = 200, description = "The entry", body = herald_core::guards::DncEntry), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn dnc_get(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(address): Path<String>,
) -> Result<Json<DncEntry>, ApiError> {
    Ok(Json(app.services.dnc.get(&caller, &address).await?))
}

#[utoipa::path(delete, path = "/v1/dnc/{address}", tag = "dnc", params(("address" = String, Path)), responses((status = 204, description = "Removed"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn dnc_delete(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(address): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.services.dnc.delete(&caller, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/dnc", tag = "dnc", params(Paging), responses((status = 200, description = "A page of entries", body = DncPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn dnc_list(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(p): Query<Paging>,
) -> Result<Json<DncPage>, ApiError> {
    let page = app.services.dnc.list(&caller, p.limit.unwrap_or(100), p.cursor.as_deref()).await?;
    Ok(Json(DncPage { entries: page.items, next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/v1/admin/features", tag = "controls", responses((status = 200, description = "Every flag and its state", body = Vec<Feature>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn features(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Vec<Feature>>, ApiError> {
    let f = app.services.controls.features(&caller).await?;
    Ok(Json(f.into_iter().map(|(feature, enabled)| Feature { feature, enabled }).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureSet {
    feature: String,
    enabled: bool,
    /// Why (kept in the audit entry; the runbooks ask for one when calls are paused).
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(patch, path = "/v1/admin/features", tag = "controls", request_body = FeatureSet, responses((status = 200, description = "The flag and how many held messages were released", body = FeatureChange), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn set_feature(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<FeatureChange>, ApiError> {
    let f: FeatureSet = parse_json(&body)?;
    let released = app.services.controls.set_feature(&caller, &f.feature, f.enabled, f.reason.as_deref()).await?;
    Ok(Json(FeatureChange { feature: f.feature, enabled: f.enabled, released }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    phone: String,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

/// Admin/test route: records an inbound WhatsApp message time (the webhook does the same).
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/whatsapp-window", tag = "controls", params(("id" = String, Path, description = "tenant id")), request_body = Window, responses((status = 200, description = "The window opened", body = WindowOpened), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn open_window(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<WindowOpened>, ApiError> {
    let w: Window = parse_json(&body)?;
    let (tenant_id, phone, at) = app.services.controls.open_whatsapp_window(&caller, &id, &w.phone, w.at).await?;
    Ok(Json(WindowOpened { tenant_id, phone: phone.to_string(), last_inbound_at: at }))
}
