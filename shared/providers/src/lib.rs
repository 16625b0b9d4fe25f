//! One module per provider, holding everything that is that provider: send, lookup for
//! stale recovery, webhook signature verification, webhook parsing into domain events,
//! status mapping and the error-classification rows. Dispatch goes through [`Registry`],
//! keyed by `Provider`.
//!
//! Adding a provider: its folder here, one `register` line in [`registry`], one
//! `Provider` variant in the core.
mod callbacks;
mod common;
#[cfg(test)]
mod registered;
pub mod ses;
mod simulator;
pub mod smtp;
pub mod telnyx;
pub mod tls;
pub mod twilio;
pub mod webhook;
pub mod whatsapp;

pub use callbacks::{herald_signature, HttpCallbacks};
pub use webhook::{Account, ProviderEvent, Received, Rejected, Reply, Webhook, WebhookRequest};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ports::{Accepted, CredentialProblem, Lookup, Outbound, ProviderGateway};
use herald_core::tenant::{ChannelConfig, ChannelSecrets};
use herald_core::{Provider, ProviderFailure};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where a provider's API is reached instead of its module's default (`{PROVIDER}_API_BASE`).
    pub bases: BTreeMap<Provider, String>,
    pub whatsapp_version: String,
    /// Where providers reach Herald's webhooks (`HERALD_PUBLIC_URL`).
    pub public_url: Option<String>,
}

impl Endpoints {
    /// The provider's API base, without a trailing slash: the configured one, or `default`
    /// (its module's own).
    pub fn base<'a>(&'a self, provider: Provider, default: &'a str) -> &'a str {
        self.bases.get(&provider).map(String::as_str).unwrap_or(default).trim_end_matches('/')
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self { bases: BTreeMap::new(), whatsapp_version: "v23.0".into(), public_url: None }
    }
}

/// The HTTP client every HTTP provider shares (one connection pool, one TLS root store).
#[derive(Clone)]
pub struct HttpProviders {
    http: reqwest::Client,
    endpoints: Endpoints,
}

impl HttpProviders {
    pub fn new(endpoints: Endpoints, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config())
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
}

/// One provider's outbound side.
#[async_trait]
pub trait Carrier: Send + Sync {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure>;
    /// Finds a message sent at or after `since` matching `out`, where the provider can.
    async fn lookup(&self, _out: &Outbound<'_>, _since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        Ok(Lookup::Unsupported)
    }
    /// Whether `number` is in the account `secrets` open. Only providers that register
    /// numbers answer; the others refuse.
    async fn owns_number(&self, _secrets: &ChannelSecrets, _number: &str) -> Result<bool, ProviderFailure> {
        Ok(false)
    }
    /// The provider's webhooks, if it sends any.
    fn webhook(&self) -> Option<&dyn Webhook> {
        None
    }
    /// Checks a tenant's credentials for this provider (its module's shape) before they are
    /// stored. A provider that takes none refuses any.
    fn check_credentials(&self, _raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        Err(CredentialProblem { field: String::new(), what: "absent: this provider takes no credentials".into() })
    }
    /// The provider account a send goes through (its circuit breaker's key).
    fn account(&self, _secrets: &ChannelSecrets, _config: Option<&ChannelConfig>) -> Option<String> {
        None
    }
    /// Tenants register numbers of this provider (their ownership proven by `owns_number`).
    fn registers_numbers(&self) -> bool {
        false
    }
}

/// Every provider, keyed by `Provider`.
#[derive(Clone, Default)]
pub struct Registry {
    carriers: BTreeMap<Provider, Arc<dyn Carrier>>,
}

impl Registry {
    pub fn register(mut self, provider: Provider, carrier: impl Carrier + 'static) -> Self {
        self.carriers.insert(provider, Arc::new(carrier));
        self
    }

    pub fn carrier(&self, provider: Provider) -> Option<&dyn Carrier> {
        self.carriers.get(&provider).map(|c| c.as_ref())
    }

    /// The webhooks of every registered provider.
    pub fn webhooks(&self) -> Vec<(Provider, &dyn Webhook)> {
        self.carriers.iter().filter_map(|(p, c)| c.webhook().map(|w| (*p, w))).collect()
    }

    fn get(&self, provider: Provider) -> Result<&dyn Carrier, ProviderFailure> {
        self.carrier(provider)
            .ok_or_else(|| ProviderFailure::transport(provider, format!("{provider} is not registered")))
    }
}

/// The registry of every provider Herald speaks to.
pub fn registry(http: HttpProviders, ses: ses::SesEmail) -> Registry {
    Registry::default()
        .register(Provider::Twilio, twilio::Twilio::new(http.clone()))
        .register(Provider::Telnyx, telnyx::Telnyx::new(http.clone()))
        .register(Provider::Whatsapp, whatsapp::Whatsapp::new(http))
        .register(Provider::Ses, ses::Ses::new(ses))
        .register(Provider::Smtp, smtp::Smtp)
        .register(Provider::Simulator, simulator::Simulator)
}

#[async_trait]
impl ProviderGateway for Registry {
    fn check_credentials(&self, provider: Provider, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        match self.carrier(provider) {
            Some(c) => c.check_credentials(raw),
            None => {
                Err(CredentialProblem { field: String::new(), what: format!("absent: {provider} is not built in") })
            }
        }
    }

    fn account(&self, provider: Provider, secrets: &ChannelSecrets, config: Option<&ChannelConfig>) -> Option<String> {
        self.carrier(provider)?.account(secrets, config)
    }

    fn registers_numbers(&self, provider: Provider) -> bool {
        self.carrier(provider).is_some_and(|c| c.registers_numbers())
    }

    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        self.get(out.provider)?.send(out).await
    }

    async fn lookup(&self, out: &Outbound<'_>, since: DateTime<Utc>) -> Result<Lookup, ProviderFailure> {
        self.get(out.provider)?.lookup(out, since).await
    }

    async fn owns_number(
        &self,
        provider: Provider,
        secrets: &ChannelSecrets,
        number: &str,
    ) -> Result<bool, ProviderFailure> {
        self.get(provider)?.owns_number(secrets, number).await
    }

    async fn whatsapp_accessible(
        &self,
        secrets: &ChannelSecrets,
        phone_number_id: &str,
    ) -> Result<bool, ProviderFailure> {
        self.get(Provider::Whatsapp)?.owns_number(secrets, phone_number_id).await
    }
}

#[cfg(test)]
mod tests {
    use herald_core::errors::{classify, ClassificationRows};

    const TABLES: [(&str, ClassificationRows); 5] = [
        ("twilio", crate::twilio::ROWS),
        ("telnyx", crate::telnyx::ROWS),
        ("whatsapp", crate::whatsapp::ROWS),
        ("ses", crate::ses::ROWS),
        ("smtp", crate::smtp::ROWS),
    ];

    /// One assertion per row: each provider's table is its classification, nothing else decides.
    #[test]
    fn every_row_classifies_as_written() {
        for (provider, rows) in TABLES {
            for &(code, expected, retryable, blame) in rows {
                let c = classify(rows, Some(400), Some(code));
                assert_eq!((c.code, c.retryable, c.blame), (expected, retryable, blame), "{provider} {code}");
                assert_eq!(herald_core::ErrorCode::parse(expected.as_str()), Some(expected));
            }
        }
    }

    #[test]
    fn rows_are_unique() {
        for (provider, rows) in TABLES {
            let mut seen = std::collections::HashSet::new();
            for row in rows {
                assert!(seen.insert(row.0), "duplicate row {provider} {}", row.0);
            }
        }
    }
}
