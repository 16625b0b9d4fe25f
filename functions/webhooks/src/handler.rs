//! The one webhook handler: accounts → credentials → signature → events, applied once.
use axum::body::Bytes;
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use herald_core::service::HeraldError;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, TenantId};
use herald_http::error::ApiError;
use herald_http::AppState;
use herald_providers::{Account, ProviderEvent, Webhook, WebhookRequest};

/// `401`, logged, counted and audited: the reason, never a secret or the signature itself.
pub(crate) async fn unauthorized(
    app: &AppState,
    provider: Provider,
    tenant: Option<&TenantId>,
    reason: &str,
) -> ApiError {
    tracing::warn!(provider = %provider, reason, "webhook refused");
    app.services.audit.webhook_refused(provider, tenant, reason).await;
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

fn webhook(app: &AppState, provider: Provider) -> Result<&dyn Webhook, ApiError> {
    let w = app.providers.carrier(provider).and_then(|c| c.webhook());
    w.ok_or_else(|| HeraldError::NotFound.into())
}

async fn credentials(app: &AppState, account: &Account) -> Result<Option<(TenantId, ChannelSecrets)>, ApiError> {
    let accounts = &app.services.accounts;
    Ok(match account {
        Account::Number(n) => accounts.by_number(n).await?,
        Account::WhatsappPhoneNumberId(id) => accounts.by_whatsapp_id(id).await?,
    })
}

pub(crate) async fn handle(
    provider: Provider,
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let webhook = webhook(&app, provider)?;
    let url = public_url(app.config.public_url.as_deref(), &headers, &uri);
    let now = app.services.clock.now();
    let req = WebhookRequest { path: uri.path(), public_url: &url, headers: &headers, body: &body, now };
    let accounts = match webhook.accounts(&req) {
        Ok(a) => a,
        Err(r) => return Err(unauthorized(&app, provider, None, &r.0).await),
    };
    // Every account the request speaks for must have signed it; nothing is applied before.
    let mut verified = Vec::with_capacity(accounts.len());
    for account in accounts {
        let Some((tenant, secrets)) = credentials(&app, &account).await? else {
            return Err(unauthorized(&app, provider, None, "account not registered").await);
        };
        if let Err(r) = webhook.verify(&req, &secrets) {
            return Err(unauthorized(&app, provider, Some(&tenant), &r.0).await);
        }
        verified.push((account, tenant));
    }
    let mut call_answer = None;
    for (account, tenant) in &verified {
        for event in webhook.events(&req, account, tenant) {
            if let ProviderEvent::Call { event } = event {
                call_answer = Some(app.services.voice.handle(tenant, event).await?);
                continue;
            }
            apply(&app, provider, event).await?;
        }
    }
    let reply = match &call_answer {
        Some(answer) => webhook.answer_call(&req, answer),
        None => webhook.reply(&req),
    };
    let took = started.elapsed().as_secs_f64() * 1000.0;
    herald_core::metrics::emit("webhook_processing_ms", took.round(), &[("provider", provider.as_str())]);
    Ok(match reply.content_type {
        Some(ct) => ([("content-type", ct)], reply.body).into_response(),
        None => StatusCode::OK.into_response(),
    })
}

async fn apply(app: &AppState, provider: Provider, event: ProviderEvent) -> Result<(), HeraldError> {
    let receipts = &app.services.receipts;
    match event {
        // A receipt needs no event log: the message's state machine applies each status once
        // (a duplicate finds it already there), so it costs one read and one conditional write.
        ProviderEvent::Receipt { event_id: _, receipt } => {
            receipts.apply_receipt(&receipt).await?;
        }
        ProviderEvent::Inbound { event_id, message } => {
            receipts.once(provider, &event_id, || receipts.handle_inbound(message)).await?;
        }
        ProviderEvent::Call { .. } => {}
    }
    Ok(())
}

/// A subscription handshake: the challenge is echoed only for a verify token some tenant
/// configured.
pub(crate) async fn handshake(
    provider: Provider,
    State(app): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let webhook = app.providers.carrier(provider).and_then(|c| c.webhook());
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
