use crate::error::ApiError;
use crate::{AppState, Auth};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use herald_core::service::{Caller, HeraldError};
use herald_core::TenantId;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn health(State(app): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "version": app.services.version}))
}

pub async fn not_found() -> ApiError {
    ApiError::Coded { status: StatusCode::NOT_FOUND, code: "NOT_FOUND", message: "no such route".into() }
}

fn admin(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::Admin => Ok(()),
        _ => Err(HeraldError::Forbidden.into()),
    }
}

pub async fn provider_health(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(app.services.breakers.provider_health(&caller).await?)))
}

pub async fn queues(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    admin(&caller)?;
    Ok(Json(json!(app.services.queue.depths().await.map_err(HeraldError::from)?)))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    tenant_id: Option<String>,
    limit: Option<u32>,
}

pub async fn audit(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let tenant = match q.tenant_id.as_deref() {
        Some(t) => Some(TenantId::parse(t).ok_or(HeraldError::NotFound)?),
        None => None,
    };
    let entries = app.services.audit.entries(&caller, tenant.as_ref(), q.limit.unwrap_or(100)).await?;
    Ok(Json(json!(entries)))
}

pub async fn run_job(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(job): Path<String>,
) -> Result<Json<Value>, ApiError> {
    admin(&caller)?;
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
    Ok(Json(json!(report)))
}
