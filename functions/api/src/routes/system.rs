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
    Json(json!({"status": "ok", "version": app.herald.settings.version}))
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
    Ok(Json(json!(app.herald.provider_health(&caller).await?)))
}

pub async fn queues(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Value>, ApiError> {
    admin(&caller)?;
    Ok(Json(json!(app.herald.queue_depths().await?)))
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
    admin(&caller)?;
    let tenant = match q.tenant_id.as_deref() {
        Some(t) => Some(TenantId::parse(t).ok_or(HeraldError::NotFound)?),
        None => None,
    };
    let entries =
        app.herald.ports.audit.entries(tenant.as_ref(), q.limit.unwrap_or(100)).await.map_err(HeraldError::from)?;
    Ok(Json(json!(entries)))
}

pub async fn run_job(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(job): Path<String>,
) -> Result<Json<Value>, ApiError> {
    admin(&caller)?;
    let report = match app.herald.run_job(&job).await {
        Err(HeraldError::NotFound) => {
            return Err(ApiError::Coded {
                status: StatusCode::NOT_FOUND,
                code: "NOT_FOUND",
                message: format!("no job named {job}"),
            })
        }
        other => other?,
    };
    app.herald.audit(&caller, None, "job.run", json!({"job": job})).await;
    Ok(Json(json!(report)))
}
