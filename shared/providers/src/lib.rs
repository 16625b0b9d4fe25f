//! Provider clients over reqwest (rustls), speaking each provider's wire format.
//! Adding a provider: one module here, one arm in `HttpProviders::send`.
mod smtp;
mod telnyx;
mod twilio;
mod whatsapp;

use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Endpoints {
    pub twilio_base: String,
    pub telnyx_base: String,
    pub whatsapp_base: String,
    pub whatsapp_version: String,
    /// Where providers reach Herald's webhooks (`HERALD_PUBLIC_URL`).
    pub public_url: Option<String>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            twilio_base: "https://api.twilio.com".into(),
            telnyx_base: "https://api.telnyx.com".into(),
            whatsapp_base: "https://graph.facebook.com".into(),
            whatsapp_version: "v23.0".into(),
            public_url: None,
        }
    }
}

#[derive(Clone)]
pub struct HttpProviders {
    http: reqwest::Client,
    endpoints: Endpoints,
}

impl HttpProviders {
    pub fn new(endpoints: Endpoints, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("http client");
        Self { http, endpoints }
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        match out.provider {
            Provider::Twilio => twilio::send(self, out).await,
            Provider::Telnyx => telnyx::send(self, out).await,
            Provider::Whatsapp => whatsapp::send(self, out).await,
            Provider::Smtp => smtp::send(out).await,
            other => Err(ProviderFailure::transport(other, format!("{other} is not an HTTP provider"))),
        }
    }
}

pub(crate) fn missing(provider: Provider, what: &str) -> ProviderFailure {
    ProviderFailure {
        provider,
        http_status: Some(401),
        code: None,
        message: format!("missing {what}"),
        retry_after: None,
    }
}

pub(crate) fn transport(provider: Provider, e: reqwest::Error) -> ProviderFailure {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect error"
    } else {
        "transport error"
    };
    ProviderFailure::transport(provider, format!("{provider} {kind}"))
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
    ProviderFailure {
        provider,
        http_status: Some(status.as_u16()),
        code: None,
        message: "unreadable success body".into(),
        retry_after: None,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare for these APIs and ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[async_trait::async_trait]
impl herald_core::inbound::CallbackSender for HttpProviders {
    async fn post(&self, url: &str, body: &[u8], signature: &str) -> Result<u16, String> {
        let res = self
            .http
            .post(url)
            .timeout(Duration::from_secs(5))
            .header("content-type", "application/json")
            .header("herald-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| if e.is_timeout() { "timeout".to_string() } else { "transport error".to_string() })?;
        Ok(res.status().as_u16())
    }
}

impl HttpProviders {
    pub async fn twilio_lookup(
        &self,
        out: &Outbound<'_>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<herald_core::ports::Lookup, ProviderFailure> {
        twilio::lookup(self, out, since).await
    }
}
