//! Telnyx Messaging: `POST /v2/messages`, JSON, Bearer API key.
use super::errors::ROWS;
use crate::common::{answer, failure, missing, unreadable};
use crate::HttpProviders;
use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Envelope {
    data: Payload,
}

#[derive(Deserialize)]
struct Payload {
    id: String,
}

#[derive(Deserialize)]
struct Errors {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    code: Option<serde_json::Value>,
    title: Option<String>,
    detail: Option<String>,
}

pub async fn send(p: &HttpProviders, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
    let creds = super::credentials::of(out.secrets)?;
    let from = out.from.ok_or_else(|| missing(Provider::Telnyx, "a from number"))?;
    let mut body = json!({
        "from": from,
        "to": out.message.to,
        "text": out.message.body.clone().unwrap_or_default(),
        "type": "SMS",
    });
    if let Some(profile) = &creds.messaging_profile_id {
        body["messaging_profile_id"] = json!(profile);
    }
    if let Some(public) = &p.endpoints().public_url {
        let url = format!("{}/webhooks/telnyx?herald_message_id={}", public.trim_end_matches('/'), out.message.id);
        body["webhook_url"] = json!(url);
    }
    let sent = p
        .http()
        .post(format!("{}/v2/messages", p.endpoints().base(herald_core::Provider::Telnyx, super::API_BASE)))
        .bearer_auth(&creds.api_key)
        .header("x-correlation-id", out.message.correlation_id.as_str())
        .json(&body)
        .send()
        .await;
    let a = answer(Provider::Telnyx, sent).await?;
    let (status, ra) = (a.status, a.retry_after);
    if status.is_success() {
        let env: Envelope = serde_json::from_str(&a.text).map_err(|_| unreadable(Provider::Telnyx, status))?;
        let linked = p.endpoints().public_url.is_some();
        return Ok(Accepted { provider_message_id: env.data.id, delivered: false, linked });
    }
    let first = serde_json::from_str::<Errors>(&a.text).ok().and_then(|e| e.errors.into_iter().next());
    let code = first.as_ref().and_then(|e| e.code.as_ref()).map(|c| match c {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let message = first.map(|e| e.detail.or(e.title).unwrap_or_default()).unwrap_or_else(|| format!("HTTP {status}"));
    Err(failure(Provider::Telnyx, ROWS, Some(status.as_u16()), code, message, ra))
}
