//! WhatsApp Cloud API: `POST /{version}/{phone_number_id}/messages`, Bearer access token.
use super::errors::ROWS;
use crate::common::{answer, failure, missing, unreadable};
use crate::HttpProviders;
use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

#[derive(Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// The request body: a template message when the message has one, else text.
pub fn payload(out: &Outbound<'_>) -> Value {
    let m = out.message;
    let to = m.to.trim_start_matches('+');
    let mut body = match &m.template {
        Some(t) => {
            let params: Vec<Value> = t.parameters.iter().map(|p| json!({"type": "text", "text": p})).collect();
            let mut template = json!({"name": t.name, "language": {"code": t.language}});
            if !params.is_empty() {
                template["components"] = json!([{"type": "body", "parameters": params}]);
            }
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template", "template": template})
        }
        None => json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": m.body.clone().unwrap_or_default(), "preview_url": false}
        }),
    };
    // Echoed in every status webhook of the message: the receipt links it to Herald's id
    // even when the send's answer was lost.
    body["biz_opaque_callback_data"] = json!(m.id);
    body
}

pub async fn send(p: &HttpProviders, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
    let creds = super::credentials::of(out.secrets)?;
    let phone_number_id = out.from.ok_or_else(|| missing(Provider::Whatsapp, "phone_number_id"))?;
    let e = p.endpoints();
    let url = format!(
        "{}/{}/{}/messages",
        e.base(herald_core::Provider::Whatsapp, super::API_BASE),
        e.whatsapp_version,
        phone_number_id
    );
    let sent = p
        .http()
        .post(url)
        .bearer_auth(&creds.access_token)
        .header("x-correlation-id", out.message.correlation_id.as_str())
        .json(&payload(out))
        .send()
        .await;
    let a = answer(Provider::Whatsapp, sent).await?;
    let (status, ra) = (a.status, a.retry_after);
    if status.is_success() {
        let sent: Sent = serde_json::from_str(&a.text).map_err(|_| unreadable(Provider::Whatsapp, status))?;
        let id = sent.messages.into_iter().next().map(|m| m.id).unwrap_or_default();
        // Meta echoes biz_opaque_callback_data, but not in every status it sends (its own
        // failure fixtures lack it): the provider-id index stays the way back.
        return Ok(Accepted { provider_message_id: id, delivered: false, linked: false });
    }
    let err = serde_json::from_str::<GraphError>(&a.text).ok().map(|g| g.error);
    let code = err.as_ref().and_then(|e| e.code).map(|c| c.to_string());
    let message = err.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}"));
    Err(failure(Provider::Whatsapp, ROWS, Some(status.as_u16()), code, message, ra))
}
