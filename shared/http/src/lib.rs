//! The HTTP layer the API and the webhooks share: per-request ids (request and
//! correlation), the body limit, `request_id` in error bodies, bearer authentication,
//! strict JSON parsing and the error type every handler returns.
pub mod error;
pub mod session;

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use error::ApiError;
use herald_core::ids::CorrelationId;
use herald_core::service::tenancy::Tenancy;
use herald_core::service::users::Sessions;
use herald_core::service::Caller;
use http_body_util::BodyExt;
use std::sync::Arc;
use tracing::Instrument;

pub const MAX_BODY: usize = 256 * 1024;

/// Per-request context set by the middleware: ids that travel with everything.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub correlation_id: CorrelationId,
}

/// Adds request ids, correlation ids, a body limit and `request_id` in error bodies.
pub fn with_context<S: Clone + Send + Sync + 'static>(router: axum::Router<S>, limit: usize) -> axum::Router<S> {
    router.layer(axum::middleware::from_fn(move |req: Request, next: Next| request_context(req, next, limit)))
}

async fn request_context(mut req: Request, next: Next, limit: usize) -> Response {
    let request_id = format!("req_{}", ulid::Ulid::new().to_string().to_lowercase());
    let correlation_id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .and_then(CorrelationId::from_caller)
        .unwrap_or_else(CorrelationId::generate);
    let ctx = RequestContext { request_id: request_id.clone(), correlation_id: correlation_id.clone() };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let response = if declared.is_some_and(|n| n > DRAIN_CAP) {
        axum::response::IntoResponse::into_response(ApiError::PayloadTooLarge)
    } else {
        let (parts, body) = req.into_parts();
        match read_body(body, limit).await {
            Some(bytes) => {
                req = Request::from_parts(parts, Body::from(bytes));
                req.extensions_mut().insert(ctx.clone());
                // The whole request runs inside its span (instrumented, not entered: a guard
                // held across an await would leak into whatever the thread polls next).
                let span = tracing::info_span!(
                    "request", request_id = %request_id, correlation_id = %correlation_id,
                    method = %req.method()
                );
                next.run(req).instrument(span).await
            }
            None => axum::response::IntoResponse::into_response(ApiError::PayloadTooLarge),
        }
    };
    finish(response, &ctx).await
}

/// An oversized body is still read (and dropped) up to this much before the 413, so the
/// client has finished sending and reliably reads the answer; beyond it we stop reading.
const DRAIN_CAP: usize = 4 * 1024 * 1024;

/// The body if it fits in `limit`; None when it does not.
async fn read_body(mut body: Body, limit: usize) -> Option<Bytes> {
    let mut buf = bytes::BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= limit {
                buf.extend_from_slice(&data);
            } else if total > DRAIN_CAP {
                return None;
            }
        }
    }
    (total <= limit).then(|| buf.freeze())
}

async fn finish(response: Response, ctx: &RequestContext) -> Response {
    let (mut parts, body) = response.into_parts();
    let body = if parts.status.is_client_error() || parts.status.is_server_error() {
        let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(mut v) if v.get("error").is_some_and(|e| e.is_object()) => {
                v["error"]["request_id"] = serde_json::json!(ctx.request_id);
                let out = serde_json::to_vec(&v).unwrap_or_default();
                parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                Body::from(out)
            }
            _ => Body::from(bytes),
        }
    } else {
        body
    };
    parts.headers.insert("x-request-id", HeaderValue::from_str(&ctx.request_id).unwrap());
    if let Ok(v) = HeaderValue::from_str(ctx.correlation_id.as_str()) {
        parts.headers.insert("x-correlation-id", v);
    }
    Response::from_parts(parts, body)
}

/// The authenticated caller, from `Authorization: Bearer …` or, without that header, a
/// console session's cookie (whose state-changing requests must come from this origin).
pub struct Auth(pub Caller);

/// Any application state the tenancy and session services can be had from (axum's `FromRef`).
impl<S> FromRequestParts<S> for Auth
where
    S: Send + Sync,
    Arc<Tenancy>: FromRef<S>,
    Arc<Sessions>: FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
        if token.is_none() {
            if let Some(cookie) = session::cookie_token(&parts.headers) {
                if session::changes_something(&parts.method) && !session::same_origin(&parts.headers) {
                    return Err(ApiError::cross_origin());
                }
                return Ok(Auth(Arc::<Sessions>::from_ref(state).authenticate(cookie).await?));
            }
        }
        Ok(Auth(Arc::<Tenancy>::from_ref(state).authenticate(token).await?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<RequestContext>().cloned().ok_or(ApiError::Coded {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL",
            message: "request context missing".into(),
        })
    }
}

/// Query parameters, parsed like bodies are: a bad value is `400 VALIDATION_ERROR` naming the
/// parameter (axum's own extractor answers in plain text).
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).map(Query).map_err(|e| {
            let text = e.to_string();
            let field = text.split_once(':').map(|(f, _)| f.trim()).filter(|f| !f.contains(' ')).unwrap_or("query");
            herald_core::service::HeraldError::validation(field, "INVALID", format!("query parameter: {text}")).into()
        })
    }
}

/// Parses a JSON body strictly: unknown fields and wrong types are `400 VALIDATION_ERROR`.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| error::json_error(&e))
}
