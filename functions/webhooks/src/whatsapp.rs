//! `GET /webhooks/whatsapp` (subscription challenge) and `POST` (`X-Hub-Signature-256`).
use crate::{header, unauthorized};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_api::error::ApiError;
use herald_api::AppState;
use herald_core::inbound::{whatsapp_status, InboundMessage, Receipt};
use herald_core::service::HeraldError;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Channel, Provider};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub async fn verify(State(app): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").cloned().unwrap_or_default();
    let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let known =
        !token.is_empty() && app.herald.ports.events.whatsapp_tenant_by_token(&hash).await.ok().flatten().is_some();
    if mode == Some("subscribe") && known {
        (StatusCode::OK, challenge).into_response()
    } else {
        tracing::warn!("whatsapp subscription verification refused");
        StatusCode::FORBIDDEN.into_response()
    }
}

fn ts(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .unwrap_or_else(chrono::Utc::now)
}

pub async fn event(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<StatusCode, ApiError> {
    let v: Value = serde_json::from_slice(&body).map_err(|_| unauthorized("whatsapp", "body is not JSON"))?;
    let signature = header(&headers, "x-hub-signature-256")
        .ok_or_else(|| unauthorized("whatsapp", "no X-Hub-Signature-256"))?
        .to_string();
    let h = &app.herald;
    let values: Vec<Value> = v
        .pointer("/entry")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .flat_map(|e| e.get("changes").and_then(|c| c.as_array()).cloned().unwrap_or_default())
        .filter_map(|c| c.get("value").cloned())
        .collect();
    // Every tenant the body speaks for must have signed it (one app secret each).
    let mut tenants = Vec::new();
    for value in &values {
        let pnid = value.pointer("/metadata/phone_number_id").and_then(|x| x.as_str()).unwrap_or_default();
        let tenant = h
            .ports
            .events
            .whatsapp_tenant(pnid)
            .await
            .map_err(HeraldError::from)?
            .ok_or_else(|| unauthorized("whatsapp", "unknown phone_number_id"))?;
        let cfg = h
            .ports
            .tenants
            .channel(&tenant, Channel::Whatsapp)
            .await
            .map_err(HeraldError::from)?
            .ok_or_else(|| unauthorized("whatsapp", "channel not configured"))?;
        let raw = h.ports.secrets.get(&cfg.secret_name).await.map_err(HeraldError::from)?;
        let secrets: ChannelSecrets = raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        let secret = secrets.whatsapp.map(|w| w.app_secret).ok_or_else(|| unauthorized("whatsapp", "no app secret"))?;
        if !herald_core::signatures::meta_valid(&secret, &body, &signature) {
            return Err(unauthorized("whatsapp", "signature mismatch"));
        }
        tenants.push((tenant, pnid.to_string()));
    }
    if values.is_empty() {
        return Err(unauthorized("whatsapp", "no entries"));
    }
    for (value, (tenant, pnid)) in values.iter().zip(tenants) {
        for st in value.get("statuses").and_then(|x| x.as_array()).into_iter().flatten() {
            let raw = st.get("status").and_then(|x| x.as_str()).unwrap_or_default();
            let Some(status) = whatsapp_status(raw) else { continue };
            let id = st.get("id").and_then(|x| x.as_str()).unwrap_or_default().to_string();
            let receipt = Receipt {
                provider: Provider::Whatsapp,
                provider_message_id: id.clone(),
                status,
                error_code: st.pointer("/errors/0/code").map(|c| c.to_string().trim_matches('"').to_string()),
                error_message: st.pointer("/errors/0/title").and_then(|x| x.as_str()).map(str::to_string),
                at: ts(st.get("timestamp").unwrap_or(&Value::Null)),
                price_cents: None,
            };
            h.once(Provider::Whatsapp, &format!("{id}:{raw}"), || h.apply_receipt(&receipt)).await?;
        }
        for m in value.get("messages").and_then(|x| x.as_array()).into_iter().flatten() {
            let id = m.get("id").and_then(|x| x.as_str()).unwrap_or_default().to_string();
            let from = m.get("from").and_then(|x| x.as_str()).unwrap_or_default();
            let msg = InboundMessage {
                id: format!("inb_wa_{}", id.trim_start_matches("wamid.")),
                tenant_id: tenant.clone(),
                channel: Channel::Whatsapp,
                provider: Provider::Whatsapp,
                provider_message_id: id.clone(),
                from: format!("+{}", from.trim_start_matches('+')),
                to: pnid.clone(),
                body: m.pointer("/text/body").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
                received_at: ts(m.get("timestamp").unwrap_or(&Value::Null)),
                keyword: None,
            };
            h.once(Provider::Whatsapp, &format!("in:{id}"), || h.handle_inbound(msg)).await?;
        }
    }
    Ok(StatusCode::OK)
}
