//! What every HTTP provider module shares: reading an answer, and building failures that
//! carry their classification.
use herald_core::errors::{classify, ClassificationRows};
use herald_core::{Provider, ProviderFailure};
use std::time::Duration;

/// A failure the provider answered, classified with its own rows.
pub(crate) fn failure(
    provider: Provider,
    rows: ClassificationRows,
    http_status: Option<u16>,
    code: Option<String>,
    message: String,
    retry_after: Option<Duration>,
) -> ProviderFailure {
    let class = classify(rows, http_status, code.as_deref());
    ProviderFailure { provider, http_status, code, message, retry_after, class, ambiguous: false }
}

/// Credentials or a sender are missing: the tenant's configuration, never retried.
pub(crate) fn missing(provider: Provider, what: &str) -> ProviderFailure {
    failure(provider, &[], Some(401), None, format!("missing {what}"), None)
}

/// A failed HTTP exchange. Only a failure to connect proves the provider never got the
/// request; a timeout or a broken connection after sending leaves the outcome unknown.
pub(crate) fn transport(provider: Provider, e: reqwest::Error) -> ProviderFailure {
    if e.is_connect() {
        return ProviderFailure::transport(provider, format!("{provider} connect error"));
    }
    let kind = if e.is_timeout() { "timeout" } else { "transport error" };
    ProviderFailure::ambiguous(provider, format!("{provider} {kind} after the request was sent"))
}

/// What a provider answered: status, `Retry-After`, and the body as text.
pub(crate) struct Answer {
    pub status: reqwest::StatusCode,
    pub retry_after: Option<Duration>,
    pub text: String,
}

pub(crate) async fn answer(
    provider: Provider,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer, ProviderFailure> {
    let res = sent.map_err(|e| transport(provider, e))?;
    let status = res.status();
    let retry_after = retry_after(res.headers());
    let text = res.text().await.map_err(|e| transport(provider, e))?;
    Ok(Answer { status, retry_after, text })
}

/// A 2xx whose body is not the provider's documented shape.
pub(crate) fn unreadable(provider: Provider, status: reqwest::StatusCode) -> ProviderFailure {
    failure(provider, &[], Some(status.as_u16()), None, "unreadable success body".into(), None)
}

/// `Retry-After` in seconds (the HTTP-date form is rare for these APIs and ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Constant-time comparison of two signatures.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    herald_core::service::constant_time_eq(a, b)
}

pub(crate) fn hmac_sha256_hex(secret: &[u8], data: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac accepts any key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The provider's credentials from a channel's secrets, in the shape its module defines.
pub(crate) fn credentials<T: serde::de::DeserializeOwned>(
    provider: Provider,
    secrets: &herald_core::tenant::ChannelSecrets,
) -> Result<T, ProviderFailure> {
    let raw = secrets.get(provider).ok_or_else(|| missing(provider, &format!("{provider} credentials")))?;
    serde_json::from_value(raw.clone()).map_err(|_| missing(provider, &format!("readable {provider} credentials")))
}

/// Credentials as a provider's module reads them, or what is wrong with them.
pub(crate) fn parse_credentials<T: serde::de::DeserializeOwned>(
    raw: &serde_json::Value,
    what: &str,
) -> Result<T, herald_core::ports::CredentialProblem> {
    serde_json::from_value(raw.clone()).map_err(|e| {
        let text = e.to_string();
        // serde names the field in "missing field `x`" / "unknown field `x`".
        let field = text.split('`').nth(1).unwrap_or_default().to_string();
        herald_core::ports::CredentialProblem { field, what: what.to_string() }
    })
}

/// A check on one field of a provider's credentials.
pub(crate) fn require(ok: bool, field: &str, what: &str) -> Result<(), herald_core::ports::CredentialProblem> {
    match ok {
        true => Ok(()),
        false => Err(herald_core::ports::CredentialProblem { field: field.into(), what: what.into() }),
    }
}
