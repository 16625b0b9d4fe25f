//! One module per provider, holding everything that is that provider: its `Carrier` (the
//! core's one provider trait: send, lookup for stale recovery, number ownership, its
//! credentials' shape and checks, the account that names its breaker, its capabilities),
//! webhook signature verification and parsing into domain events, status mapping and the
//! error-classification rows. The core finds a carrier through [`Registry`], keyed by
//! `Provider`.
//!
//! Adding a provider: its folder here, one `register` line in [`registry`] (and one
//! `with_webhook` line if it sends webhooks), one `Provider` variant in the core.
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
pub use webhook::{Account, Body, Encoding, ProviderEvent, Received, Rejected, Reply, Webhook, WebhookRequest};

pub use herald_core::ports::Carrier;
use herald_core::ports::ProviderGateway;
use herald_core::Provider;
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
/// Every provider, keyed by `Provider`: its carrier (what the core asks of it) and its
/// webhooks, if it sends any.
#[derive(Clone, Default)]
pub struct Registry {
    carriers: BTreeMap<Provider, Arc<dyn Carrier>>,
    webhooks: BTreeMap<Provider, Arc<dyn Webhook>>,
}

impl Registry {
    pub fn register(mut self, provider: Provider, carrier: impl Carrier + 'static) -> Self {
        self.carriers.insert(provider, Arc::new(carrier));
        self
    }

    /// The provider's webhooks (its paths, signature check and events).
    pub fn with_webhook(mut self, provider: Provider, webhook: impl Webhook + 'static) -> Self {
        self.webhooks.insert(provider, Arc::new(webhook));
        self
    }

    pub fn webhook(&self, provider: Provider) -> Option<&dyn Webhook> {
        self.webhooks.get(&provider).map(|w| w.as_ref())
    }

    /// The webhooks of every registered provider.
    pub fn webhooks(&self) -> Vec<(Provider, &dyn Webhook)> {
        self.webhooks.iter().map(|(p, w)| (*p, w.as_ref())).collect()
    }
}

impl ProviderGateway for Registry {
    fn carrier(&self, provider: Provider) -> Option<&dyn Carrier> {
        self.carriers.get(&provider).map(|c| c.as_ref())
    }
}

/// The registry of every provider Herald speaks to: one `register` line each (and one
/// `with_webhook` line for a provider that sends webhooks).
pub fn registry(http: HttpProviders, ses: ses::SesEmail) -> Registry {
    Registry::default()
        .register(Provider::Twilio, twilio::Twilio::new(http.clone()))
        .with_webhook(Provider::Twilio, twilio::TwilioWebhook)
        .register(Provider::Telnyx, telnyx::Telnyx::new(http.clone()))
        .with_webhook(Provider::Telnyx, telnyx::TelnyxWebhook)
        .register(Provider::Whatsapp, whatsapp::Whatsapp::new(http))
        .with_webhook(Provider::Whatsapp, whatsapp::WhatsappWebhook)
        .register(Provider::Ses, ses::Ses::new(ses))
        .register(Provider::Smtp, smtp::Smtp)
        .register(Provider::Simulator, simulator::Simulator)
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
