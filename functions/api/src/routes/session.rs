//! Console sign-in and sign-out (CONTRACT §15). Sign-in answers with the session cookie
//! (HttpOnly, SameSite=Strict, Secure over https), or asks a first sign-in for a password.
use crate::error::ApiError;
use crate::{parse_json, AppState, Auth};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_core::service::users::{SignInStep, SignedIn};
use herald_core::users::User;
use herald_http::session;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasswordRequest {
    email: String,
    /// The `session` of the `NEW_PASSWORD_REQUIRED` answer.
    session: String,
    new_password: String,
}

/// Either the signed-in user (and the cookie is set), or a challenge to answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User>,
    /// `NEW_PASSWORD_REQUIRED`: a first sign-in chooses its own password.
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

/// Who is signed in, and in which tenant.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_name: Option<String>,
    /// Seconds of inactivity after which the session ends.
    idle_timeout_s: u64,
}

/// A sign-in from another site's page is refused like any other change (login CSRF).
fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.contains_key(header::ORIGIN) && !session::same_origin(headers) {
        return Err(ApiError::cross_origin());
    }
    Ok(())
}

fn signed_in(headers: &HeaderMap, s: SignedIn) -> Response {
    let mut r = Json(SignInAnswer { user: Some(s.user), challenge: None, session: None }).into_response();
    r.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&s.token, session::over_https(headers)));
    r.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
    r
}

#[utoipa::path(post, path = "/v1/session", tag = "console", request_body = SignInRequest, security(()), responses((status = 200, description = "Signed in (cookie set), or NEW_PASSWORD_REQUIRED", body = SignInAnswer), (status = 401, description = "INVALID_CREDENTIALS", body = crate::openapi::ErrorBody), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn sign_in(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    check_origin(&headers)?;
    let req: SignInRequest = parse_json(&body)?;
    match app.services.sessions.sign_in(&req.email, &req.password).await? {
        SignInStep::Done(s) => Ok(signed_in(&headers, s)),
        SignInStep::NewPasswordRequired { challenge } => Ok(Json(SignInAnswer {
            user: None,
            challenge: Some("NEW_PASSWORD_REQUIRED".into()),
            session: Some(challenge),
        })
        .into_response()),
    }
}

#[utoipa::path(post, path = "/v1/session/password", tag = "console", request_body = NewPasswordRequest, security(()), responses((status = 200, description = "Password set and signed in (cookie set)", body = SignInAnswer), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn new_password(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    check_origin(&headers)?;
    let req: NewPasswordRequest = parse_json(&body)?;
    let s = app.services.sessions.set_password(&req.email, &req.session, &req.new_password).await?;
    Ok(signed_in(&headers, s))
}

#[utoipa::path(get, path = "/v1/session", tag = "console", responses((status = 200, description = "The signed-in user", body = Me), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn me(State(app): State<AppState>, Auth(caller): Auth) -> Result<Json<Me>, ApiError> {
    let user = caller.user().cloned().ok_or(herald_core::service::HeraldError::SessionExpired)?;
    let tenant_name = caller.tenant().ok().map(|t| t.name.clone());
    Ok(Json(Me { user, tenant_name, idle_timeout_s: app.services.sessions.idle().as_secs() }))
}

#[utoipa::path(delete, path = "/v1/session", tag = "console", security(()), responses((status = 204, description = "Signed out: the session's tokens are revoked and the cookie cleared"), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn sign_out(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session::cookie_token(&headers) {
        if !session::same_origin(&headers) {
            return Err(ApiError::cross_origin());
        }
        app.services.sessions.sign_out(token).await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(session::over_https(&headers)));
    Ok(r)
}
