use crate::error::ApiError;
use crate::responses::{AuditPage, Health};
use crate::{AppState, Auth};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use herald_core::ports::AuditFilter;
use herald_core::service::stats::QueueView;
use herald_core::service::{HeraldError, JobReport, ProviderHealth};
use herald_core::stats::StatsView;
use herald_core::TenantId;
use herald_http::Query;
use serde::Deserialize;
use serde_json::json;

#[utoipa::path(get, path = "/health", tag = "system", security(()), responses((status = 200, description = "Alive, with the version", body = Health)))]
#[tracing::instrument(skip_all)]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok".into(), version: app.services.version.clone() })
}

pub async fn not_found() -> ApiError {
    ApiError::Coded { status: StatusCode::NOT_FOUND, code: "NOT_FOUND", message: "no such route".into() }
}

/// A time query parameter: RFC 3339 or a duration ago (`10m`, `24h`).
pub fn time_param(app: &AppState, field: &str, v: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    herald_core::retry::parse_time_or_ago(v, app.services.clock.now()).ok_or_else(|| {
        HeraldError::validation(field, "INVALID_TIME", "an RFC 3339 time or a duration such as 10m, 24h").into()
    })
}

#[utoipa::path(get, path = "/v1/system/health/providers", tag = "operations", responses((status = 200, description = "Each provider account's circuit and recent outcomes", body = Vec<herald_core::service::ProviderHealth>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn provider_health(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<ProviderHealth>>, ApiError> {
    Ok(Json(app.services.breakers.provider_health(&caller).await?))
}

/// Each channel queue's depth, in-flight and dead-letter counts, and the messages held out
/// of it per hold reason.
#[utoipa::path(get, path = "/v1/system/queues", tag = "operations", responses((status = 200, description = "Per channel queue: depth, in flight, dead letters, held per reason", body = Vec<herald_core::service::stats::QueueView>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn queues(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Vec<QueueView>>, ApiError> {
    Ok(Json(app.services.stats.queues(&caller).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    window: Option<String>,
    tenant_id: Option<String>,
    channel: Option<String>,
}

/// `GET /v1/admin/stats?window=1h&tenant_id=&channel=`.
#[utoipa::path(get, path = "/v1/admin/stats", tag = "operations", params(StatsQuery), responses((status = 200, description = "Outcomes over the window", body = herald_core::stats::StatsView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn stats(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<StatsQuery>,
) -> Result<Json<StatsView>, ApiError> {
    let raw = q.window.as_deref().unwrap_or("1h");
    let window = herald_core::retry::parse_duration(raw)
        .ok_or_else(|| HeraldError::validation("window", "INVALID_WINDOW", "a duration such as 15m, 1h, 24h"))?;
    let tenant = match q.tenant_id.as_deref() {
        Some(t) => {
            Some(TenantId::parse(t).ok_or_else(|| HeraldError::validation("tenant_id", "INVALID", "not a tenant id"))?)
        }
        None => None,
    };
    let channel = super::messages::parse_channel(q.channel.as_deref())?;
    Ok(Json(app.services.stats.view(&caller, window, tenant.as_ref(), channel).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    tenant_id: Option<String>,
    action: Option<String>,
    since: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "operations", params(AuditQuery), responses((status = 200, description = "A page of audit entries, newest first", body = AuditPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn audit(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let tenant = match q.tenant_id.as_deref() {
        Some(t) => Some(TenantId::parse(t).ok_or(HeraldError::NotFound)?),
        None => None,
    };
    let since = q.since.as_deref().map(|v| time_param(&app, "since", v)).transpose()?;
    let filter = AuditFilter { tenant, action: q.action, since };
    let page = app.services.audit.entries(&caller, &filter, q.limit.unwrap_or(100), q.cursor.as_deref()).await?;
    Ok(Json(AuditPage { entries: page.items, next_cursor: page.next_cursor }))
}

#[utoipa::path(post, path = "/v1/admin/jobs/{job}/run", tag = "operations", params(("job" = String, Path, description = "dispatch, quota-reset, budget-reset, stale-recovery, linking-recovery")), responses((status = 200, description = "The job's report", body = herald_core::service::JobReport), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn run_job(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(job): Path<String>,
) -> Result<Json<JobReport>, ApiError> {
    caller.require_admin()?;
    let report = match app.services.jobs.run(&job).await {
        Err(HeraldError::NotFound) => {
            return Err(ApiError::Coded {
                status: StatusCode::NOT_FOUND,
                code: "NOT_FOUND",
                message: format!("no job named {job}"),
            })
        }
        other => other?,
    };
    app.services.audit.record(&caller, None, "job.run", json!({"job": job})).await;
    Ok(Json(report))
}
