//! `GET /{version}/{phone_number_id}` with the tenant's token: the number is reachable with
//! it (Graph answers the phone number object) or not (an OAuth or permission error).
use crate::common::answer;
use crate::HttpProviders;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};

pub async fn accessible(
    p: &HttpProviders,
    secrets: &ChannelSecrets,
    phone_number_id: &str,
) -> Result<bool, ProviderFailure> {
    let creds = super::credentials::of(secrets)?;
    let e = p.endpoints();
    let id = url::form_urlencoded::byte_serialize(phone_number_id.as_bytes()).collect::<String>();
    let url = format!("{}/{}/{id}", e.base(herald_core::Provider::Whatsapp, super::API_BASE), e.whatsapp_version);
    let sent = p.http().get(url).bearer_auth(&creds.access_token).send().await;
    let a = answer(Provider::Whatsapp, sent).await?;
    if a.status.is_server_error() || a.status.as_u16() == 429 {
        return Err(ProviderFailure::transport(Provider::Whatsapp, format!("phone number lookup: HTTP {}", a.status)));
    }
    let body: serde_json::Value = serde_json::from_str(&a.text).unwrap_or_default();
    Ok(a.status.is_success() && body.get("id").and_then(|v| v.as_str()) == Some(phone_number_id))
}
