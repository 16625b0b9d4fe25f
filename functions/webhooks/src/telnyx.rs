//! `POST /webhooks/telnyx`: Ed25519 over `"{telnyx-timestamp}|{raw body}"` with the tenant's
//! configured public key, timestamp within 300 s (Herald's clock, injectable in tests).
use crate::{header, number_secrets, unauthorized};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use herald_api::error::ApiError;
use herald_api::AppState;
use herald_core::inbound::{telnyx_status, InboundMessage, Receipt};
use herald_core::{Channel, Provider, Status};
use serde_json::Value;

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(|x| x.as_str()).unwrap_or_default()
}

pub async fn event(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<StatusCode, ApiError> {
    // The body is only read to find whose key to verify with; nothing is applied before.
    let v: Value = serde_json::from_slice(&body).map_err(|_| unauthorized("telnyx", "body is not JSON"))?;
    let event_type = s(&v, "/data/event_type").to_string();
    let payload = v.pointer("/data/payload").cloned().unwrap_or(Value::Null);
    let our_number = if event_type == "message.received" {
        s(&payload, "/to/0/phone_number")
    } else {
        s(&payload, "/from/phone_number")
    }
    .to_string();
    let signature =
        header(&headers, "telnyx-signature-ed25519").ok_or_else(|| unauthorized("telnyx", "no signature header"))?;
    let timestamp =
        header(&headers, "telnyx-timestamp").ok_or_else(|| unauthorized("telnyx", "no timestamp header"))?;
    let (tenant, secrets) =
        number_secrets(&app, &our_number).await?.ok_or_else(|| unauthorized("telnyx", "number not registered"))?;
    let key = secrets
        .telnyx
        .and_then(|t| t.webhook_public_key)
        .ok_or_else(|| unauthorized("telnyx", "no webhook public key configured"))?;
    herald_core::signatures::telnyx_verify(&key, timestamp, signature, &body, app.herald.now().timestamp())
        .map_err(|e| unauthorized("telnyx", &e.to_string()))?;

    let event_id = s(&v, "/data/id").to_string();
    let pmid = s(&payload, "/id").to_string();
    let h = &app.herald;
    match event_type.as_str() {
        "message.sent" | "message.finalized" => {
            let status = if event_type == "message.sent" {
                Some(Status::Sent)
            } else {
                telnyx_status(s(&payload, "/to/0/status"))
            };
            if let Some(status) = status {
                let cost = payload
                    .pointer("/cost/amount")
                    .and_then(|a| a.as_str().and_then(|x| x.parse::<f64>().ok()).or_else(|| a.as_f64()));
                let receipt = Receipt {
                    provider: Provider::Telnyx,
                    provider_message_id: pmid,
                    status,
                    error_code: payload
                        .pointer("/errors/0/code")
                        .map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string())),
                    error_message: payload
                        .pointer("/errors/0/detail")
                        .or_else(|| payload.pointer("/errors/0/title"))
                        .and_then(|d| d.as_str())
                        .map(str::to_string),
                    at: h.now(),
                    price_cents: cost.map(|c| (c * 100.0).ceil() as i64),
                };
                h.once(Provider::Telnyx, &event_id, || h.apply_receipt(&receipt)).await?;
            }
        }
        "message.received" => {
            let msg = InboundMessage {
                id: format!("inb_telnyx_{pmid}"),
                tenant_id: tenant,
                channel: Channel::Sms,
                provider: Provider::Telnyx,
                provider_message_id: pmid,
                from: s(&payload, "/from/phone_number").to_string(),
                to: our_number,
                body: s(&payload, "/text").to_string(),
                received_at: h.now(),
                keyword: None,
            };
            h.once(Provider::Telnyx, &event_id, || h.handle_inbound(msg)).await?;
        }
        other => tracing::info!(event_type = other, "telnyx event not used"),
    }
    Ok(StatusCode::OK)
}
