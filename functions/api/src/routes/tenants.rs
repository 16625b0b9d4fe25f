use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use herald_core::service::tenancy::{KeyCreated, KeyView, TenantPage};
use herald_core::service::{NewTenant, TenantCreated, TenantPatch};
use herald_core::tenant::Tenant;
use herald_core::KeyMode;
use serde::{Deserialize, Serialize};

#[utoipa::path(post, path = "/v1/admin/tenants", tag = "tenants", request_body = NewTenant, responses((status = 201, description = "The tenant with its live and test keys", body = TenantCreated), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<TenantCreated>), ApiError> {
    let req: NewTenant = parse_json(&body)?;
    let created = app.services.tenancy.create_tenant(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/v1/admin/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "tenant id")), responses((status = 200, description = "The tenant", body = Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn get_by_id(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(app.services.tenancy.tenant_by_id(&caller, &id).await?))
}

#[utoipa::path(patch, path = "/v1/admin/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "tenant id")), request_body = TenantPatch, responses((status = 200, description = "The tenant", body = Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn patch_by_id(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Tenant>, ApiError> {
    let patch: TenantPatch = parse_json(&body)?;
    Ok(Json(app.services.tenancy.patch_tenant(&caller, Some(&id), patch).await?))
}

#[utoipa::path(get, path = "/v1/tenant", tag = "tenants", responses((status = 200, description = "The calling tenant", body = Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn own(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(app.services.tenancy.own_tenant(&caller).await?))
}

#[utoipa::path(patch, path = "/v1/tenant", tag = "tenants", request_body = TenantPatch, responses((status = 200, description = "The calling tenant", body = Tenant), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn patch_own(State(app): State<AppState>, Auth(caller): Auth, body: Bytes) -> Result<Json<Tenant>, ApiError> {
    let patch: TenantPatch = parse_json(&body)?;
    Ok(Json(app.services.tenancy.patch_tenant(&caller, None, patch).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    pub(crate) mode: Option<KeyMode>,
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/keys", tag = "tenants", params(("id" = String, Path, description = "tenant id")), request_body = NewKey, responses((status = 201, description = "A new key (shown once)", body = KeyCreated), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn create_key(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<KeyCreated>), ApiError> {
    let req: NewKey = parse_json(&body)?;
    let key = app.services.tenancy.create_key(&caller, Some(&id), req.mode.unwrap_or(KeyMode::Live)).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(delete, path = "/v1/admin/tenants/{id}/keys/{key_id}", tag = "tenants", params(("id" = String, Path, description = "tenant id"), ("key_id" = String, Path)), responses((status = 204, description = "Revoked"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn delete_key(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.services.tenancy.delete_key(&caller, Some(&id), &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Part of a name or an id, any case.
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/admin/tenants", tag = "tenants", params(TenantQuery), responses((status = 200, description = "Tenants by id, searchable and paged", body = TenantPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<AppState>,
    Auth(caller): Auth,
    herald_http::Query(q): herald_http::Query<TenantQuery>,
) -> Result<Json<TenantPage>, ApiError> {
    let page = app.services.tenancy.list_tenants(&caller, q.q.as_deref(), q.cursor.as_deref(), q.limit.unwrap_or(50));
    Ok(Json(page.await?))
}

/// A tenant's keys: ids, mode, when created and last used; never a secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub(crate) keys: Vec<KeyView>,
}

#[utoipa::path(get, path = "/v1/admin/tenants/{id}/keys", tag = "tenants", params(("id" = String, Path, description = "tenant id")), responses((status = 200, description = "The tenant's keys", body = KeyList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list_keys(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<KeyList>, ApiError> {
    Ok(Json(KeyList { keys: app.services.tenancy.list_keys(&caller, Some(&id)).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeAll {
    reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Revoked {
    revoked: u32,
}

#[utoipa::path(post, path = "/v1/admin/tenants/{id}/keys/revoke-all", tag = "tenants", params(("id" = String, Path, description = "tenant id")), request_body = RevokeAll, responses((status = 200, description = "How many keys stopped working", body = Revoked), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn revoke_all_keys(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Revoked>, ApiError> {
    caller.require_admin()?;
    let req: RevokeAll = parse_json(&body)?;
    let revoked = app.services.tenancy.revoke_all_keys(&caller, &id, Some(&req.reason)).await?;
    Ok(Json(Revoked { revoked }))
}
