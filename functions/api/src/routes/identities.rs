//! `/v1/email/identities` (CONTRACT §12).
use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use herald_core::identity::IdentityRecord;
use herald_core::identity::{DkimRecord, IdentityStatus};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdentity {
    identity: String,
}

/// The operator assigns an identity (one that exists at SES already included).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignedIdentity {
    identity: String,
    reason: String,
}

/// An email identity as its tenant sees it: its DKIM records to publish and its status.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    identity: String,
    status: IdentityStatus,
    dkim_records: Vec<DkimRecord>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IdentityList {
    identities: Vec<IdentityView>,
}

fn view(r: &IdentityRecord) -> IdentityView {
    IdentityView {
        identity: r.identity.to_string(),
        status: r.status,
        dkim_records: r.dkim_records.clone(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[utoipa::path(post, path = "/v1/email/identities", tag = "email", request_body = NewIdentity, responses((status = 201, description = "The identity and its DKIM records", body = IdentityView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<IdentityView>), ApiError> {
    let req: NewIdentity = parse_json(&body)?;
    let record = app.services.identities.create(&caller, &req.identity).await?;
    Ok((StatusCode::CREATED, Json(view(&record))))
}

#[utoipa::path(get, path = "/v1/email/identities", tag = "email", responses((status = 200, description = "The tenant's identities", body = IdentityList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<IdentityList>, ApiError> {
    let records = app.services.identities.list(&caller).await?;
    Ok(Json(IdentityList { identities: records.iter().map(view).collect() }))
}

#[utoipa::path(get, path = "/v1/email/identities/{identity}", tag = "email", params(("identity" = String, Path)), responses((status = 200, description = "The identity", body = IdentityView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(identity): Path<String>,
) -> Result<Json<IdentityView>, ApiError> {
    Ok(Json(view(&app.services.identities.get(&caller, &identity).await?)))
}

#[utoipa::path(delete, path = "/v1/email/identities/{identity}", tag = "email", params(("identity" = String, Path)), responses((status = 204, description = "Removed"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(identity): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.services.identities.delete(&caller, &identity).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/email/identities", tag = "admin", params(("id" = String, Path)), request_body = AssignedIdentity, responses((status = 201, description = "The identity, assigned to the tenant", body = IdentityView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn assign(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<IdentityView>), ApiError> {
    caller.require_admin()?;
    let req: AssignedIdentity = parse_json(&body)?;
    let tenant = app.services.tenancy.tenant_by_id(&caller, &id).await?;
    let record = app.services.identities.assign(&caller, &tenant.id, &req.identity, Some(&req.reason)).await?;
    Ok((StatusCode::CREATED, Json(view(&record))))
}
