//! The one webhook handler: HTTP in, the provider's module reads the request, the core's
//! `Webhooks` service verifies every account and applies the events once, HTTP out.
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use herald_core::service::webhooks::WebhookError;
use herald_core::service::HeraldError;
use herald_core::Provider;
use herald_http::error::ApiError;
use herald_providers::{Received, WebhookRequest};
use herald_runtime::AppState;

/// `401`: the service logged, counted and audited the reason.
fn unauthorized() -> ApiError {
    ApiError::Coded {
        status: StatusCode::UNAUTHORIZED,
        code: "INVALID_SIGNATURE",
        message: "webhook signature missing or invalid".into(),
    }
}

/// The URL the provider signed: `HERALD_PUBLIC_URL` + path + query, or this request's own.
/// In Lambda the request's URI is absolute (lambda_http builds it from the event's host and
/// `x-forwarded-proto`, https by default: a function URL or API Gateway); a local server's
/// URI is a path, completed from the `Host` and `X-Forwarded-Proto` headers.
pub(crate) fn public_url(base: Option<&str>, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if let Some(base) = base {
        return format!("{}{}", base.trim_end_matches('/'), path);
    }
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        return format!("{scheme}://{authority}{path}");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = header("x-forwarded-proto").unwrap_or("http");
    let host = header("host").unwrap_or("localhost");
    format!("{proto}://{host}{path}")
}

/// Translates one webhook request for the `Webhooks` service: the provider's module reads
/// it, the service verifies and applies it, the answer goes back as the provider expects.
pub(crate) async fn handle(
    provider: Provider,
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let webhook = app.providers.webhook(provider).ok_or(HeraldError::NotFound)?;
    let url = public_url(app.config.public_url.as_deref(), &headers, &uri);
    let now = app.services.clock.now();
    let req = WebhookRequest { path: uri.path(), public_url: &url, headers: &headers, body: &body, now };
    let reply = match app.services.webhooks.handle(&Received::new(webhook, req)).await {
        Ok(reply) => reply,
        Err(WebhookError::Refused) => return Err(unauthorized()),
        Err(WebhookError::Failed(e)) => return Err(e.into()),
    };
    let took = started.elapsed().as_secs_f64() * 1000.0;
    herald_core::metrics::emit("webhook_processing_ms", took.round(), &[("provider", provider.as_str())]);
    Ok(match reply.content_type {
        Some(ct) => ([("content-type", ct)], reply.body).into_response(),
        None => StatusCode::OK.into_response(),
    })
}

/// A subscription handshake: the challenge is echoed only for a verify token some tenant
/// configured.
pub(crate) async fn handshake(
    provider: Provider,
    State(app): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let webhook = app.providers.webhook(provider);
    let Some((token, challenge)) = webhook.and_then(|w| w.challenge(&query)) else {
        tracing::warn!("webhook subscription verification refused");
        return StatusCode::FORBIDDEN.into_response();
    };
    use sha2::{Digest, Sha256};
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    if !token.is_empty() && app.services.accounts.knows_verify_token(&hash).await {
        (StatusCode::OK, challenge).into_response()
    } else {
        tracing::warn!("webhook subscription verification refused");
        StatusCode::FORBIDDEN.into_response()
    }
}
