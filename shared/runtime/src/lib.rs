//! Wiring: builds the SDK clients, adapters and the domain service once per container.
pub mod config;

pub use config::Config;

use herald_aws::{DynamoStore, SecretsManager, SqsQueues};
use herald_core::ports::{Clock, SecretStore, SystemClock};
use herald_core::secrets::CachedSecrets;
use herald_core::service::{Adapters, Services, Settings};
use herald_providers::{Endpoints, HttpCallbacks, HttpProviders, Registry};
use std::sync::Arc;

/// Everything a function needs, built once.
#[derive(Clone)]
pub struct App {
    pub services: Services,
    /// Every provider, for the webhooks' routes.
    pub providers: Registry,
    pub store: DynamoStore,
    pub queues: SqsQueues,
    pub config: Config,
    pub sdk: aws_config::SdkConfig,
}

pub async fn sdk_config(cfg: &Config) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(cfg.aws_region.clone()));
    if let Some(url) = &cfg.aws_endpoint_url {
        loader = loader.endpoint_url(url);
        // An emulator accepts any credentials; use fixed ones when none are configured.
        if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
            loader = loader.test_credentials();
        }
    }
    loader.load().await
}

/// Local provisioning (herald-local): creates the table and queues when they are missing.
pub async fn provision(cfg: &Config) -> Result<(), String> {
    let sdk = sdk_config(cfg).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &cfg.table);
    if store.ensure_table().await? {
        tracing::info!(table = %cfg.table, "created table");
    }
    let visibility = std::time::Duration::from_secs(60);
    let max_receive = cfg.retry.max_attempts + 5;
    SqsQueues::ensure(aws_sdk_sqs::Client::new(&sdk), &cfg.queue_prefix, visibility, max_receive).await?;
    if let Some(name) = &cfg.admin_key_secret {
        let sm = SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk));
        if sm.get(name).await.map_err(|e| e.to_string())?.is_none() {
            if let Some(k) = &cfg.admin_key {
                sm.put(name, k).await.map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

pub async fn build(cfg: Config) -> Result<App, String> {
    build_with_clock(cfg, Arc::new(SystemClock)).await
}

pub async fn build_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<App, String> {
    let sdk = sdk_config(&cfg).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &cfg.table);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queues = if cfg.queue_urls.len() == 3 {
        // In Lambda the template passes URLs; ARNs are only needed by herald-local.
        let pairs = cfg
            .queue_urls
            .iter()
            .map(|(ch, (u, d))| (*ch, herald_aws::QueuePair { url: u.clone(), arn: String::new(), dlq_url: d.clone() }))
            .collect();
        let callbacks = cfg.callback_queue.as_ref().map(|(u, d)| herald_aws::QueuePair {
            url: u.clone(),
            arn: String::new(),
            dlq_url: d.clone(),
        });
        SqsQueues::new(sqs, pairs, callbacks)
    } else {
        SqsQueues::lookup(sqs, &cfg.queue_prefix).await?
    };
    let raw_secrets: Arc<dyn SecretStore> = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)));
    let admin_key = match (&cfg.admin_key, &cfg.admin_key_secret) {
        (Some(k), _) => k.clone(),
        (None, Some(name)) => raw_secrets
            .get(name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("admin key secret {name} is missing"))?,
        (None, None) => {
            tracing::warn!(
                "no admin key configured (HERALD_ADMIN_KEY / HERALD_ADMIN_KEY_SECRET): admin routes are closed"
            );
            String::new()
        }
    };
    let secrets: Arc<dyn SecretStore> = Arc::new(CachedSecrets::new(raw_secrets, cfg.secret_ttl));
    let endpoints = Endpoints {
        twilio_base: cfg.twilio_api_base.clone(),
        telnyx_base: cfg.telnyx_api_base.clone(),
        whatsapp_base: cfg.whatsapp_api_base.clone(),
        whatsapp_version: cfg.whatsapp_api_version.clone(),
        public_url: cfg.public_url.clone(),
    };
    let http = HttpProviders::new(endpoints, cfg.provider_timeout);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let alert_topic = match (&cfg.alert_topic_arn, cfg.local) {
        (Some(arn), _) => Some(arn.clone()),
        (None, true) => {
            herald_aws::sns::SnsAlerts::ensure_topic(&sns, &format!("{}-alerts", cfg.queue_prefix)).await.ok()
        }
        (None, false) => None,
    };
    let registry = herald_providers::registry(http.clone(), aws_sdk_sesv2::Client::new(&sdk), cfg.local);
    let store_arc = Arc::new(store.clone());
    let queues_arc = Arc::new(queues.clone());
    let adapters = Adapters {
        tenants: store_arc.clone(),
        keys: store_arc.clone(),
        channels: store_arc.clone(),
        numbers: store_arc.clone(),
        messages: store_arc.clone(),
        idempotency: store_arc.clone(),
        work: store_arc.clone(),
        dead_letters: store_arc.clone(),
        queue: queues_arc.clone(),
        callback_queue: queues_arc,
        callback_sender: Arc::new(HttpCallbacks(http.clone())),
        secrets,
        providers: Arc::new(registry.clone()),
        audit: store_arc.clone(),
        dnc: store_arc.clone(),
        budgets: store_arc.clone(),
        counters: store_arc.clone(),
        windows: store_arc.clone(),
        quotas: store_arc.clone(),
        features: store_arc.clone(),
        releases: store_arc.clone(),
        events: store_arc.clone(),
        inbound: store_arc.clone(),
        orphans: store_arc.clone(),
        wa_index: store_arc.clone(),
        breakers: store_arc.clone(),
        linking: store_arc,
        telnyx_numbers: Arc::new(http),
        alerts: Arc::new(herald_aws::sns::SnsAlerts::new(sns.clone(), alert_topic)),
        clock,
    };
    let settings = Settings {
        retry: cfg.retry.clone(),
        pricing: cfg.pricing.clone(),
        enqueue_grace: cfg.enqueue_grace,
        stale_after: cfg.stale_after,
        secret_prefix: cfg.secret_prefix.clone(),
        admin_key,
        version: env!("CARGO_PKG_VERSION").into(),
        pause_recheck: cfg.pause_recheck,
        breaker: cfg.breaker.clone(),
        linking_retry_delays: cfg.linking_retry_delays.clone(),
        linking_search_delays: cfg.linking_search_delays.clone(),
    };
    Ok(App { services: Services::wire(adapters, settings), providers: registry, store, queues, config: cfg, sdk })
}

/// JSON logs (one object per line) in Lambda; `HERALD_LOG_FORMAT=text` for humans.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,hyper=warn"));
    let text = std::env::var("HERALD_LOG_FORMAT").is_ok_and(|v| v == "text");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ =
        if text { builder.compact().try_init() } else { builder.json().flatten_event(true).without_time().try_init() };
}
