//! Console users (CONTRACT §15) and a tenant's own keys (the console's keys page).
use super::tenants::{KeyList, NewKey};
use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use herald_core::ids::KeyMode;
use herald_core::service::tenancy::KeyCreated;
use herald_core::service::users::Invite;
use herald_core::users::User;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    users: Vec<User>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// A tenant's users; without it, the operators.
    tenant_id: Option<String>,
}

#[utoipa::path(post, path = "/v1/users", tag = "console", request_body = Invite, responses((status = 201, description = "Invited (Cognito mails a temporary password)", body = User), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let req: Invite = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(app.services.users.invite(&caller, req, false).await?)))
}

#[utoipa::path(post, path = "/v1/admin/users", tag = "console", request_body = Invite, responses((status = 201, description = "Invited", body = User), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_invite(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let req: Invite = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(app.services.users.invite(&caller, req, true).await?)))
}

#[utoipa::path(get, path = "/v1/users", tag = "console", responses((status = 200, description = "The tenant's users", body = UserList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList { users: app.services.users.list(&caller, None, false).await? }))
}

#[utoipa::path(get, path = "/v1/admin/users", tag = "console", params(UsersQuery), responses((status = 200, description = "A tenant's users, or the operators", body = UserList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_list(
    State(app): State<AppState>,
    Auth(caller): Auth,
    herald_http::Query(q): herald_http::Query<UsersQuery>,
) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList { users: app.services.users.list(&caller, q.tenant_id.as_deref(), true).await? }))
}

#[utoipa::path(delete, path = "/v1/users/{id}", tag = "console", params(("id" = String, Path, description = "user id")), responses((status = 200, description = "Disabled and signed out everywhere", body = User), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn disable(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(app.services.users.disable(&caller, &id).await?))
}

#[utoipa::path(get, path = "/v1/keys", tag = "console", responses((status = 200, description = "The tenant's own keys (never a secret)", body = KeyList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn own_keys(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<KeyList>, ApiError> {
    Ok(Json(KeyList { keys: app.services.tenancy.list_keys(&caller, None).await? }))
}

#[utoipa::path(post, path = "/v1/keys", tag = "console", request_body = NewKey, responses((status = 201, description = "A new key (shown once)", body = KeyCreated), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn create_own_key(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<KeyCreated>), ApiError> {
    let req: NewKey = parse_json(&body)?;
    let key = app.services.tenancy.create_key(&caller, None, req.mode.unwrap_or(KeyMode::Live)).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "console", params(("key_id" = String, Path)), responses((status = 204, description = "Revoked"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn delete_own_key(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(key_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.services.tenancy.delete_key(&caller, None, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// How many days the chart covers (1–62, default 14).
    days: Option<u32>,
}

#[utoipa::path(get, path = "/v1/tenant/stats", tag = "console", params(DaysQuery), responses((status = 200, description = "Today, this month and the last days by outcome (live traffic, UTC days)", body = herald_core::service::stats::Dashboard), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn dashboard(
    State(app): State<AppState>,
    Auth(caller): Auth,
    herald_http::Query(q): herald_http::Query<DaysQuery>,
) -> Result<Json<herald_core::service::stats::Dashboard>, ApiError> {
    Ok(Json(app.services.stats.dashboard(&caller, q.days.unwrap_or(14)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month when absent.
    month: Option<String>,
}

#[utoipa::path(get, path = "/v1/tenant/usage", tag = "console", params(MonthQuery), responses((status = 200, description = "Messages and cost per channel in the month", body = herald_core::service::stats::Usage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn usage(
    State(app): State<AppState>,
    Auth(caller): Auth,
    herald_http::Query(q): herald_http::Query<MonthQuery>,
) -> Result<Json<herald_core::service::stats::Usage>, ApiError> {
    Ok(Json(app.services.stats.usage(&caller, q.month.as_deref()).await?))
}
