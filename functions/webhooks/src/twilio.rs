//! `POST /webhooks/twilio/status` and `/webhooks/twilio/inbound` (form-encoded, signed with
//! the account's auth token; during a rotation the previous token is accepted too).
use crate::{header, number_secrets, public_url, unauthorized};
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_api::error::ApiError;
use herald_api::AppState;
use herald_core::inbound::{twilio_status, InboundMessage, Receipt};
use herald_core::{Channel, Provider, TenantId};
use std::collections::HashMap;

const TWIML_EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// Parses and authenticates; `number_param` names the field holding the tenant's number.
async fn verified(
    app: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    body: &Bytes,
    number_param: &str,
) -> Result<(TenantId, HashMap<String, String>), ApiError> {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| unauthorized("twilio", "body is not form-encoded"))?;
    let signature =
        header(headers, "x-twilio-signature").ok_or_else(|| unauthorized("twilio", "no X-Twilio-Signature"))?;
    let map: HashMap<String, String> = params.iter().cloned().collect();
    let number = map.get(number_param).cloned().unwrap_or_default();
    let (tenant, secrets) =
        number_secrets(app, &number).await?.ok_or_else(|| unauthorized("twilio", "number not registered"))?;
    let creds = secrets.twilio.ok_or_else(|| unauthorized("twilio", "tenant has no twilio credentials"))?;
    if map.get("AccountSid").is_some_and(|sid| *sid != creds.account_sid) {
        return Err(unauthorized("twilio", "AccountSid does not match the tenant's account"));
    }
    let mut tokens = vec![creds.auth_token.as_str()];
    if let Some(prev) = &creds.previous_auth_token {
        tokens.push(prev);
    }
    let url = public_url(app, headers, uri);
    if !herald_core::signatures::twilio_valid(&url, &params, signature, &tokens) {
        return Err(unauthorized("twilio", "signature mismatch"));
    }
    Ok((tenant, map))
}

pub async fn status(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_tenant, p) = verified(&app, &headers, &uri, &body, "From").await?;
    let sid = p.get("MessageSid").or_else(|| p.get("SmsSid")).cloned().unwrap_or_default();
    let raw_status = p.get("MessageStatus").or_else(|| p.get("SmsStatus")).cloned().unwrap_or_default();
    if let Some(status) = twilio_status(&raw_status) {
        let receipt = Receipt {
            provider: Provider::Twilio,
            provider_message_id: sid.clone(),
            status,
            error_code: p.get("ErrorCode").filter(|c| !c.is_empty()).cloned(),
            error_message: p.get("ErrorMessage").cloned(),
            at: app.herald.now(),
            price_cents: None,
        };
        app.herald
            .once(Provider::Twilio, &format!("{sid}:{raw_status}"), || app.herald.apply_receipt(&receipt))
            .await?;
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn inbound(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (tenant, p) = verified(&app, &headers, &uri, &body, "To").await?;
    let sid = p.get("MessageSid").or_else(|| p.get("SmsMessageSid")).cloned().unwrap_or_default();
    let msg = InboundMessage {
        id: format!("inb_twilio_{sid}"),
        tenant_id: tenant,
        channel: Channel::Sms,
        provider: Provider::Twilio,
        provider_message_id: sid.clone(),
        from: p.get("From").cloned().unwrap_or_default(),
        to: p.get("To").cloned().unwrap_or_default(),
        body: p.get("Body").cloned().unwrap_or_default(),
        received_at: app.herald.now(),
        keyword: None,
    };
    app.herald.once(Provider::Twilio, &format!("in:{sid}"), || app.herald.handle_inbound(msg)).await?;
    Ok(([("content-type", "text/xml")], TWIML_EMPTY).into_response())
}
