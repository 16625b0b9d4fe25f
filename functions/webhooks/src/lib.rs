//! Provider webhooks (CONTRACT §9). Each handler: find the tenant from the number (or the
//! WhatsApp phone_number_id) the event is about, check the signature with that tenant's
//! credentials — a bad or missing one is `401` with nothing written — then translate the
//! provider's payload into a domain receipt or inbound message, applied once per event id.
mod telnyx;
mod twilio;
mod whatsapp;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use herald_api::error::ApiError;
use herald_api::AppState;
use herald_core::service::HeraldError;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Channel, TenantId};

pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;

pub fn router(app: AppState) -> Router {
    let routes = Router::new()
        .route("/webhooks/twilio/status", post(twilio::status))
        .route("/webhooks/twilio/inbound", post(twilio::inbound))
        .route("/webhooks/telnyx", post(telnyx::event))
        .route("/webhooks/whatsapp", get(whatsapp::verify).post(whatsapp::event))
        .route("/v1/admin/ses-events", post(ses_event));
    herald_api::with_context(routes, MAX_WEBHOOK_BODY).with_state(app)
}

pub(crate) fn unauthorized(provider: &str, reason: &str) -> ApiError {
    // The reason is logged, never a secret or the signature itself.
    tracing::warn!(provider, reason, "webhook refused");
    ApiError::Coded {
        status: StatusCode::UNAUTHORIZED,
        code: "INVALID_SIGNATURE",
        message: "webhook signature missing or invalid".into(),
    }
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The tenant owning `number`, and its channel credentials.
pub(crate) async fn number_secrets(
    app: &AppState,
    number: &str,
) -> Result<Option<(TenantId, ChannelSecrets)>, ApiError> {
    let h = &app.herald;
    let Some(n) = h.ports.tenants.number(number).await.map_err(HeraldError::from)? else { return Ok(None) };
    let Some(cfg) = h.ports.tenants.channel(&n.tenant_id, Channel::Sms).await.map_err(HeraldError::from)? else {
        return Ok(None);
    };
    let raw = h.ports.secrets.get(&cfg.secret_name).await.map_err(HeraldError::from)?;
    let secrets = raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    Ok(Some((n.tenant_id, secrets)))
}

/// The URL the provider signed: `HERALD_PUBLIC_URL` + path + query, or this request's own.
pub(crate) fn public_url(app: &AppState, headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    match &app.config.public_url {
        Some(base) => format!("{}{}", base.trim_end_matches('/'), path),
        None => {
            let proto = header(headers, "x-forwarded-proto").unwrap_or("http");
            let host = header(headers, "host").unwrap_or("localhost");
            format!("{proto}://{host}{path}")
        }
    }
}

/// Test/ops route: applies an SES event as SNS would deliver it (locally there is no SNS).
async fn ses_event(
    axum::extract::State(app): axum::extract::State<AppState>,
    herald_api::Auth(caller): herald_api::Auth,
    body: axum::body::Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if !matches!(caller, herald_core::service::Caller::Admin) {
        return Err(HeraldError::Forbidden.into());
    }
    let event: serde_json::Value = herald_api::parse_json(&body)?;
    let outcome = app.herald.apply_ses_event(&event).await?;
    Ok(axum::Json(serde_json::json!({"outcome": format!("{outcome:?}")})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_events_parse() {
        let req = lambda_http::request::from_str(include_str!("../../../events/webhook-twilio-status.json")).unwrap();
        assert_eq!(req.uri().path(), "/webhooks/twilio/status");
        let sns: aws_lambda_events::event::sns::SnsEvent =
            serde_json::from_str(include_str!("../../../events/sns-ses-bounce.json")).unwrap();
        let ses: serde_json::Value = serde_json::from_str(&sns.records[0].sns.message).unwrap();
        assert_eq!(ses["eventType"], "Bounce");
    }
}
