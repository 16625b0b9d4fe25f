//! The operator's console (CONTRACT §13): admin key only; each handler is one call on
//! `Operations`.
use super::messages::{parse_channel, parse_status};
use super::system::time_param;
use crate::error::ApiError;
use crate::responses::{MessagesPage, QuotaAnswer, QuotaOne};
use crate::views::MessageView;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use herald_core::service::operations::AdminMessageQuery;
use herald_core::service::HeraldError;
use herald_core::{KeyMode, TenantId};
use herald_http::Query;
use serde::Deserialize;

fn tenant_param(id: Option<&str>) -> Result<Option<TenantId>, HeraldError> {
    id.map(|t| TenantId::parse(t).ok_or_else(|| HeraldError::validation("tenant_id", "INVALID", "not a tenant id")))
        .transpose()
}

#[utoipa::path(get, path = "/v1/admin/messages/{id}", tag = "operations", params(("id" = String, Path, description = "message id")), responses((status = 200, description = "Any tenant's message", body = crate::views::MessageView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn message(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(MessageView::from(app.services.operations.message(&caller, &id).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    tenant_id: Option<String>,
    status: Option<String>,
    channel: Option<String>,
    min_attempts: Option<u32>,
    older_than: Option<String>,
    mode: Option<String>,
    /// With tenant_id: the messages of one request.
    correlation_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/messages", tag = "operations", params(MessagesQuery), responses((status = 200, description = "A page of messages", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn messages(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<MessagesQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    let mode = match q.mode.as_deref() {
        None | Some("live") => KeyMode::Live,
        Some("test") => KeyMode::Test,
        Some(_) => return Err(HeraldError::validation("mode", "INVALID", "live or test").into()),
    };
    let query = AdminMessageQuery {
        tenant: tenant_param(q.tenant_id.as_deref())?,
        status: parse_status(q.status.as_deref())?,
        channel: parse_channel(q.channel.as_deref())?,
        min_attempts: q.min_attempts,
        changed_before: q.older_than.as_deref().map(|v| time_param(&app, "older_than", v)).transpose()?,
        mode,
        correlation_id: match q.correlation_id.as_deref() {
            Some(c) => Some(
                herald_core::CorrelationId::from_caller(c)
                    .ok_or_else(|| HeraldError::validation("correlation_id", "INVALID", "a correlation id"))?,
            ),
            None => None,
        },
    };
    let page = app.services.operations.messages(&caller, &query, q.limit.unwrap_or(50), q.cursor.as_deref()).await?;
    let messages: Vec<MessageView> = page.items.into_iter().map(Into::into).collect();
    Ok(Json(MessagesPage { messages, next_cursor: page.next_cursor }))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryNow {
    tenant_id: Option<String>,
    channel: Option<String>,
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/messages/retry-now", tag = "operations", request_body = RetryNow, responses((status = 200, description = "Back-offs ended", body = herald_core::service::operations::RetryNowReport), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn retry_now(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<herald_core::service::operations::RetryNowReport>, ApiError> {
    let r: RetryNow = if body.is_empty() { RetryNow::default() } else { parse_json(&body)? };
    let tenant = tenant_param(r.tenant_id.as_deref())?;
    let channel = parse_channel(r.channel.as_deref())?;
    let report = app.services.operations.retry_now(&caller, tenant, channel, r.reason.as_deref()).await?;
    Ok(Json(report))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/circuits/{provider}/{account}/{action}", tag = "operations", params(("provider" = String, Path), ("account" = String, Path, description = "as in the health view"), ("action" = String, Path, description = "open or close")), request_body = Reason, responses((status = 200, description = "The circuit as set", body = herald_core::service::operations::CircuitChange), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn circuit(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((provider, account, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<herald_core::service::operations::CircuitChange>, ApiError> {
    let open = match action.as_str() {
        "open" => true,
        "close" => false,
        _ => return Err(super::system::not_found().await),
    };
    let r: Reason = if body.is_empty() { Reason::default() } else { parse_json(&body)? };
    let change = app.services.operations.set_circuit(&caller, &provider, &account, open, r.reason.as_deref()).await?;
    Ok(Json(change))
}

#[utoipa::path(get, path = "/v1/admin/tenants/{id}/budget", tag = "operations", params(("id" = String, Path, description = "tenant id")), responses((status = 200, description = "Spend and budgets", body = herald_core::service::controls::Budget), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn budget(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<herald_core::service::controls::Budget>, ApiError> {
    Ok(Json(app.services.operations.budget(&caller, &id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetReset {
    period: String,
    reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/budget/reset", tag = "operations", params(("id" = String, Path, description = "tenant id")), request_body = BudgetReset, responses((status = 200, description = "Spend and budgets after the reset", body = herald_core::service::controls::Budget), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn reset_budget(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<herald_core::service::controls::Budget>, ApiError> {
    let r: BudgetReset = parse_json(&body)?;
    Ok(Json(app.services.operations.reset_budget(&caller, &id, &r.period, r.reason.as_deref()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuotaQuery {
    tenant_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/whatsapp/quota", tag = "operations", params(QuotaQuery), responses((status = 200, description = "One tenant's quota, or every tenant's", body = QuotaAnswer), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn whatsapp_quota(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<QuotaQuery>,
) -> Result<Json<QuotaAnswer>, ApiError> {
    let quotas = app.services.operations.whatsapp_quota(&caller, q.tenant_id.as_deref()).await?;
    match q.tenant_id {
        Some(id) => {
            let one = quotas.into_iter().next().map(QuotaOne::from).unwrap_or_else(|| QuotaOne::unused(id));
            Ok(Json(QuotaAnswer::One(one)))
        }
        None => Ok(Json(QuotaAnswer::All { tenants: quotas })),
    }
}
