use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use herald_core::linking::LinkingView;
use herald_core::service::{ChannelUpdate, ChannelView, HeraldError, NumberAdded, NumberRequest};
use herald_core::tenant::SendingNumber;
use herald_core::{Channel, Provider};
use serde::Deserialize;

fn channel(name: &str) -> Result<Channel, ApiError> {
    name.parse().map_err(|_| HeraldError::NotFound.into())
}

/// The body of `PUT …/channels/{channel}` (a tenant's or the platform's), read as that channel's.
fn update(name: &str, body: &Bytes) -> Result<ChannelUpdate, ApiError> {
    Ok(match channel(name)? {
        Channel::Sms => ChannelUpdate::Sms(parse_json(body)?),
        Channel::Email => ChannelUpdate::Email(parse_json(body)?),
        Channel::Whatsapp => ChannelUpdate::Whatsapp(parse_json(body)?),
    })
}

#[utoipa::path(get, path = "/v1/channels", tag = "channels", responses((status = 200, description = "The tenant's channels (no secrets)", body = Vec<ChannelView>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(app.services.channels.channels(&caller).await?))
}

#[utoipa::path(put, path = "/v1/channels/{channel}", tag = "channels", params(("channel" = String, Path, description = "sms, email or whatsapp")), request_body = Object, responses((status = 200, description = "The channel (no secrets)", body = ChannelView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn put_channel(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(app.services.channels.put_channel(&caller, update(&name, &body)?).await?))
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Provider>>, D::Error> {
    Option::<Provider>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    provider: Provider,
    #[serde(default, deserialize_with = "double_option")]
    backup_provider: Option<Option<Provider>>,
}

#[utoipa::path(patch, path = "/v1/channels/{channel}", tag = "channels", params(("channel" = String, Path)), request_body = Switch, responses((status = 200, description = "The channel", body = ChannelView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn patch_channel(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<ChannelView>, ApiError> {
    let ch = channel(&name)?;
    let req: Switch = parse_json(&body)?;
    Ok(Json(app.services.channels.switch_provider(&caller, ch, req.provider, req.backup_provider).await?))
}

#[utoipa::path(post, path = "/v1/numbers", tag = "numbers", request_body = herald_core::service::NumberRequest, responses((status = 201, description = "The number and its linking state", body = NumberAdded), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn add_number(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<(StatusCode, Json<NumberAdded>), ApiError> {
    let req: NumberRequest = parse_json(&body)?;
    Ok((StatusCode::CREATED, Json(app.services.numbers.add_number(&caller, req).await?)))
}

#[utoipa::path(get, path = "/v1/numbers", tag = "numbers", responses((status = 200, description = "The tenant's numbers", body = Vec<SendingNumber>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list_numbers(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<SendingNumber>>, ApiError> {
    Ok(Json(app.services.numbers.numbers(&caller).await?))
}

#[utoipa::path(delete, path = "/v1/numbers/{e164}", tag = "numbers", params(("e164" = String, Path)), responses((status = 204, description = "Removed"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn delete_number(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(e164): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.services.numbers.delete_number(&caller, &e164).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/numbers/{e164}/linking", tag = "numbers", params(("e164" = String, Path)), responses((status = 200, description = "Linking state", body = LinkingView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn linking(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(e164): Path<String>,
) -> Result<Json<LinkingView>, ApiError> {
    Ok(Json(app.services.linking.linking_status(&caller, &e164).await?.view()))
}

#[utoipa::path(post, path = "/v1/numbers/{e164}/linking/retry", tag = "numbers", params(("e164" = String, Path)), responses((status = 200, description = "Linking state", body = LinkingView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn retry_linking(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(e164): Path<String>,
) -> Result<Json<LinkingView>, ApiError> {
    Ok(Json(app.services.linking.retry_linking(&caller, &e164).await?.view()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkingQuery {
    status: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/linking", tag = "numbers", params(LinkingQuery), responses((status = 200, description = "Numbers by linking status", body = Vec<LinkingView>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn admin_linking(
    State(app): State<AppState>,
    Auth(caller): Auth,
    herald_http::Query(q): herald_http::Query<LinkingQuery>,
) -> Result<Json<Vec<LinkingView>>, ApiError> {
    let status = match q.status.as_deref().unwrap_or("failed") {
        "pending" => herald_core::linking::LinkStatus::Pending,
        "linked" => herald_core::linking::LinkStatus::Linked,
        "failed" => herald_core::linking::LinkStatus::Failed,
        other => return Err(HeraldError::validation("status", "INVALID", format!("unknown status {other}")).into()),
    };
    let states = app.services.linking.linkings(&caller, status).await?;
    Ok(Json(states.into_iter().map(|s| LinkingView { tenant_id: Some(s.tenant_id.clone()), ..s.view() }).collect()))
}

#[utoipa::path(put, path = "/v1/admin/platform/channels/{channel}", tag = "channels", params(("channel" = String, Path, description = "sms, email or whatsapp")), request_body = Object, responses((status = 200, description = "The platform's channel (no secrets): tenants without credentials of their own send through it", body = ChannelView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn put_platform_channel(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<ChannelView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(app.services.channels.put_platform_channel(&caller, update(&name, &body)?).await?))
}

#[utoipa::path(get, path = "/v1/admin/platform/channels", tag = "channels", responses((status = 200, description = "The platform's channels (no secrets)", body = Vec<ChannelView>), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn platform_channels(
    State(app): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(app.services.channels.platform_channels(&caller).await?))
}
