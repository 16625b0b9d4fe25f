use crate::error::ApiError;
use crate::responses::{Archived, MessagesPage};
use crate::views::MessageView;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use herald_core::service::{Caller, DlqFilter, DlqStat, HeraldError, RetryReport};
use herald_core::{Channel, ErrorCode};
use herald_http::Query;
use serde::Deserialize;

/// `/v1/dlq…` is the tenant's own; `/v1/admin/dlq…` spans tenants (optionally one).
fn check(caller: &Caller, admin: bool) -> Result<(), ApiError> {
    match (caller, admin) {
        (Caller::Admin { .. }, true) | (Caller::Tenant { .. }, false) => Ok(()),
        _ => Err(HeraldError::Forbidden.into()),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    channel: Option<String>,
    error_code: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    tenant_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn filter(q: &ListQuery) -> Result<DlqFilter, ApiError> {
    let channel = q
        .channel
        .as_deref()
        .map(|c| c.parse::<Channel>().map_err(|_| HeraldError::validation("channel", "INVALID", "unknown channel")))
        .transpose()?;
    let error_code = q
        .error_code
        .as_deref()
        .map(|c| {
            ErrorCode::parse(c).ok_or_else(|| HeraldError::validation("error_code", "INVALID", "unknown error code"))
        })
        .transpose()?;
    Ok(DlqFilter { ids: None, channel, error_code, since: q.since, tenant_id: q.tenant_id.clone(), limit: None })
}

async fn list(
    app: AppState,
    caller: Caller,
    q: ListQuery,
    admin: bool,
    archived: bool,
) -> Result<Json<MessagesPage>, ApiError> {
    check(&caller, admin)?;
    let (items, next) = app
        .services
        .dead_letters
        .dlq_list(&caller, &filter(&q)?, archived, q.limit.unwrap_or(100), q.cursor.as_deref())
        .await?;
    Ok(Json(MessagesPage { messages: items.into_iter().map(MessageView::from).collect(), next_cursor: next }))
}

#[utoipa::path(get, path = "/v1/dlq", tag = "dead letters", params(ListQuery), responses((status = 200, description = "A page of dead letters", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn tenant_list(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    list(app, c, q, false, false).await
}
#[utoipa::path(get, path = "/v1/admin/dlq", tag = "dead letters", params(ListQuery), responses((status = 200, description = "A page of dead letters", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_list(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    list(app, c, q, true, false).await
}
#[utoipa::path(get, path = "/v1/dlq/archive", tag = "dead letters", params(ListQuery), responses((status = 200, description = "Archived dead letters", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn tenant_archive_list(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    list(app, c, q, false, true).await
}
#[utoipa::path(get, path = "/v1/admin/dlq/archive", tag = "dead letters", params(ListQuery), responses((status = 200, description = "Archived dead letters", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_archive_list(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    list(app, c, q, true, true).await
}

async fn stats(app: AppState, caller: Caller, q: ListQuery, admin: bool) -> Result<Json<Vec<DlqStat>>, ApiError> {
    check(&caller, admin)?;
    Ok(Json(app.services.dead_letters.dlq_stats(&caller, q.tenant_id.as_deref()).await?))
}
#[utoipa::path(get, path = "/v1/dlq/stats", tag = "dead letters", params(ListQuery), responses((status = 200, description = "Counts by channel and error code", body = Vec<herald_core::service::DlqStat>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn tenant_stats(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DlqStat>>, ApiError> {
    stats(app, c, q, false).await
}
#[utoipa::path(get, path = "/v1/admin/dlq/stats", tag = "dead letters", params(ListQuery), responses((status = 200, description = "Counts by channel and error code", body = Vec<herald_core::service::DlqStat>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_stats(
    State(app): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DlqStat>>, ApiError> {
    stats(app, c, q, true).await
}

async fn retry(app: AppState, caller: Caller, body: Bytes, admin: bool) -> Result<Json<RetryReport>, ApiError> {
    check(&caller, admin)?;
    let f: DlqFilter = parse_json(&body)?;
    if !admin && f.tenant_id.is_some() {
        return Err(HeraldError::validation("tenant_id", "UNKNOWN_FIELD", "tenant_id is for the admin route").into());
    }
    Ok(Json(app.services.dead_letters.dlq_retry(&caller, &f).await?))
}
#[utoipa::path(post, path = "/v1/dlq/retry", tag = "dead letters", request_body = DlqFilter, responses((status = 200, description = "Requeued; call again while done is false", body = herald_core::service::RetryReport), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn tenant_retry(
    State(app): State<AppState>,
    Auth(c): Auth,
    body: Bytes,
) -> Result<Json<RetryReport>, ApiError> {
    retry(app, c, body, false).await
}
#[utoipa::path(post, path = "/v1/admin/dlq/retry", tag = "dead letters", request_body = DlqFilter, responses((status = 200, description = "Requeued; call again while done is false", body = herald_core::service::RetryReport), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_retry(
    State(app): State<AppState>,
    Auth(c): Auth,
    body: Bytes,
) -> Result<Json<RetryReport>, ApiError> {
    retry(app, c, body, true).await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    #[serde(default)]
    older_than_days: Option<u32>,
    #[serde(default)]
    tenant_id: Option<String>,
}

async fn archive(app: AppState, caller: Caller, body: Bytes, admin: bool) -> Result<Json<Archived>, ApiError> {
    check(&caller, admin)?;
    let a: Archive = parse_json(&body)?;
    let n = app
        .services
        .dead_letters
        .dlq_archive(&caller, a.older_than_days.unwrap_or(7), a.tenant_id.as_deref().filter(|_| admin))
        .await?;
    Ok(Json(Archived { archived: n }))
}
#[utoipa::path(post, path = "/v1/dlq/archive", tag = "dead letters", request_body = Archive, responses((status = 200, description = "How many were archived", body = Archived), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn tenant_archive(
    State(app): State<AppState>,
    Auth(c): Auth,
    body: Bytes,
) -> Result<Json<Archived>, ApiError> {
    archive(app, c, body, false).await
}
#[utoipa::path(post, path = "/v1/admin/dlq/archive", tag = "dead letters", request_body = Archive, responses((status = 200, description = "How many were archived", body = Archived), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_archive(
    State(app): State<AppState>,
    Auth(c): Auth,
    body: Bytes,
) -> Result<Json<Archived>, ApiError> {
    archive(app, c, body, true).await
}
