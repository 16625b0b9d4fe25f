//! Wiring: builds the SDK clients, adapters and the domain service once per container.
pub mod config;

pub use config::Config;

use herald_aws::s3::S3Recordings;
use herald_aws::SetupError;
use herald_aws::{DynamoStore, SecretsManager, SqsQueues};
use herald_core::cache::CachedConfig;
use herald_core::ports::{Clock, SecretStore, SystemClock};
use herald_core::secrets::CachedSecrets;
use herald_core::service::{Adapters, Services, Settings};
use herald_providers::ses::SesIdentities;
use herald_providers::{Endpoints, HttpCallbacks, HttpProviders, Registry};
use std::sync::Arc;

/// Everything a function needs, built once. Entrypoints go through `services`; the
/// webhooks function also reads `providers` (its routes) and `config` (its public URL).
#[derive(Clone)]
pub struct App {
    pub services: Services,
    /// Every provider, for the webhooks' routes.
    pub providers: Registry,
    pub config: Config,
    /// The raw AWS handles, for herald-local (the event sources it emulates), the bench and
    /// tests. No function reads them.
    pub infra: Infra,
}

#[derive(Clone)]
pub struct Infra {
    pub store: DynamoStore,
    pub queues: SqsQueues,
    pub sdk: aws_config::SdkConfig,
}

/// What the HTTP functions hold: the built `App`, shared. Extractors take the parts they
/// need through `FromRef` (the tenancy service for bearer authentication), so the HTTP layer
/// depends on the core's services, not on this wiring.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl AppState {
    pub fn new(app: App) -> Self {
        AppState(Arc::new(app))
    }
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl axum::extract::FromRef<AppState> for Arc<herald_core::service::tenancy::Tenancy> {
    fn from_ref(state: &AppState) -> Self {
        state.services.tenancy.clone()
    }
}

impl axum::extract::FromRef<AppState> for Arc<herald_core::service::users::Sessions> {
    fn from_ref(state: &AppState) -> Self {
        state.services.sessions.clone()
    }
}

/// Amazon Trust Services' roots (Amazon Root CA 1–4, cross-signed by Starfield Services Root
/// G2), as Mozilla's set (`webpki-root-certs`) has them; a test keeps the file equal to it.
/// Compiled in: a cold start reads no certificate file and searches no list of 150 roots.
const AMAZON_ROOTS_PEM: &str = include_str!("amazon-roots.pem");

/// The SDK's HTTPS client. AWS endpoints chain to Amazon Trust Services: those five roots are
/// all it trusts.
fn sdk_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_ROOTS_PEM.as_bytes());
    let ctx = TlsContext::builder().with_trust_store(trust).build().expect("a valid TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(ctx)
        .build_https()
}

pub async fn sdk_config(cfg: &Config) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sdk_http_client())
        .region(aws_config::Region::new(cfg.aws_region.clone()));
    if let Some(creds) = &cfg.credentials {
        loader = loader.credentials_provider(creds.clone());
    } else if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some() {
        // Lambda gives the role's credentials in the environment: read them there instead of
        // building the default chain (profile files, web identity through STS, IMDS) at init.
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(url) = &cfg.aws_endpoint_url {
        loader = loader.endpoint_url(url);
        // An emulator accepts any credentials; use fixed ones when none are configured.
        if std::env::var("AWS_ACCESS_KEY_ID").is_err() && cfg.credentials.is_none() {
            loader = loader.test_credentials();
        }
    }
    loader.load().await
}

/// Local provisioning (herald-local): creates the table and queues when they are missing.
/// Fills in the user pool it creates when none is configured.
pub async fn provision(cfg: &mut Config) -> Result<(), SetupError> {
    let sdk = sdk_config(cfg).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &cfg.table);
    if store.ensure_table().await? {
        tracing::info!(table = %cfg.table, "created table");
    }
    let visibility = std::time::Duration::from_secs(60);
    // Redrive only catches poison: followers behind a failing head are received again and
    // again (as in AWS, where the template sets the same limit).
    let max_receive = 1000;
    SqsQueues::ensure(aws_sdk_sqs::Client::new(&sdk), &cfg.queue_prefix, visibility, max_receive).await?;
    if let Some(set) = &cfg.ses_configuration_set {
        // The emulator keeps configuration sets (not their event destinations).
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        let _ = ses.create_configuration_set().configuration_set_name(set).send().await;
    }
    recordings(cfg, &sdk).ensure_bucket().await?;
    if cfg.user_pool.is_none() {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        cfg.user_pool = Some(herald_aws::cognito::ensure_pool(&cognito, &format!("{}-users", cfg.queue_prefix)).await?);
    }
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

/// The recordings bucket (path-style addressing against an emulator's endpoint).
fn recordings(cfg: &Config, sdk: &aws_config::SdkConfig) -> herald_aws::s3::S3Recordings {
    herald_aws::s3::S3Recordings::new(sdk, cfg.aws_endpoint_url.is_some(), &cfg.recordings_bucket)
}

pub async fn build(cfg: Config) -> Result<App, SetupError> {
    build_with_clock(cfg, Arc::new(SystemClock)).await
}

pub async fn build_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<App, SetupError> {
    let sdk = sdk_config(&cfg).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &cfg.table);
    let queues = queues(&cfg, aws_sdk_sqs::Client::new(&sdk)).await?;
    let raw_secrets: Arc<dyn SecretStore> = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)));
    let admin_key = admin_key(&cfg, raw_secrets.as_ref()).await?;
    let secrets: Arc<dyn SecretStore> = Arc::new(CachedSecrets::new(raw_secrets, cfg.secret_ttl));
    let endpoints = Endpoints {
        bases: cfg.provider_bases.clone(),
        whatsapp_version: cfg.whatsapp_api_version.clone(),
        public_url: cfg.public_url.clone(),
    };
    let http = HttpProviders::new(endpoints, cfg.provider_timeout);
    let alert_topic = match (&cfg.alert_topic_arn, cfg.local) {
        (Some(arn), _) => Some(arn.clone()),
        (None, true) => {
            let sns = aws_sdk_sns::Client::new(&sdk);
            herald_aws::sns::SnsAlerts::ensure_topic(&sns, &format!("{}-alerts", cfg.queue_prefix)).await.ok()
        }
        (None, false) => None,
    };
    // SNS and SES clients are built on first use: most containers never alert, and only
    // the API and email sends call SES.
    let ses_sdk = match &cfg.ses_endpoint {
        Some(url) => sdk.to_builder().endpoint_url(url).build(),
        None => sdk.clone(),
    };
    let ses_send = herald_providers::ses::SesEmail::on_first_use(
        &ses_sdk,
        cfg.provider_timeout,
        cfg.ses_configuration_set.clone(),
    )
    .paced(cfg.ses_pace_share);
    let registry = herald_providers::registry(http.clone(), ses_send);
    let alerts = Arc::new(herald_aws::sns::SnsAlerts::on_first_use(&sdk, alert_topic));
    let identities = herald_providers::ses::SesIdentities::on_first_use(&ses_sdk);
    let clients = (http, identities, cfg.allow_http_callbacks, recordings(&cfg, &sdk));
    let mut adapters = adapters(&store, &queues, secrets, clients, &registry, (alerts, clock, cfg.pause_recheck));
    if let Some((pool, client)) = &cfg.user_pool {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        adapters.user_pool = Arc::new(herald_aws::cognito::CognitoPool::new(cognito, pool, client));
    }
    let settings = settings(&cfg, admin_key);
    let infra = Infra { store, queues, sdk };
    Ok(App { services: Services::wire(adapters, settings), providers: registry, config: cfg, infra })
}

/// In Lambda the template passes the queue URLs; herald-local looks them up by name.
async fn queues(cfg: &Config, sqs: aws_sdk_sqs::Client) -> Result<SqsQueues, SetupError> {
    if cfg.queue_urls.len() != 3 {
        return SqsQueues::lookup(sqs, &cfg.queue_prefix).await;
    }
    // ARNs are only needed by herald-local.
    let pair =
        |u: &String, d: &String| herald_aws::QueuePair { url: u.clone(), arn: String::new(), dlq_url: d.clone() };
    let pairs = cfg.queue_urls.iter().map(|(ch, (u, d))| (*ch, pair(u, d))).collect();
    let callbacks = cfg.callback_queue.as_ref().map(|(u, d)| pair(u, d));
    Ok(SqsQueues::new(sqs, pairs, callbacks))
}

async fn admin_key(cfg: &Config, secrets: &dyn SecretStore) -> Result<String, SetupError> {
    Ok(match (&cfg.admin_key, &cfg.admin_key_secret) {
        (Some(k), _) => k.clone(),
        (None, Some(name)) => secrets
            .get(name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("admin key secret {name} is missing"))?,
        (None, None) => {
            tracing::info!("no admin key (HERALD_ADMIN_KEY / HERALD_ADMIN_KEY_SECRET): no admin route is open here");
            String::new()
        }
    })
}

fn settings(cfg: &Config, admin_key: String) -> Settings {
    Settings {
        retry: cfg.retry.clone(),
        pricing: cfg.pricing.clone(),
        enqueue_grace: cfg.enqueue_grace,
        job_run_budget: cfg.job_run_budget,
        stale_after: cfg.stale_after,
        ambiguous_wait: cfg.ambiguous_wait,
        ses_region: cfg.aws_region.clone(),
        secret_prefix: cfg.secret_prefix.clone(),
        admin_key,
        // Only when the key comes from the secret (a configured key is the local one).
        admin_key_secret: cfg.admin_key.is_none().then(|| cfg.admin_key_secret.clone()).flatten(),
        version: env!("CARGO_PKG_VERSION").into(),
        pause_recheck: cfg.pause_recheck,
        breaker: cfg.breaker.clone(),
        linking_retry_delays: cfg.linking_retry_delays.clone(),
        linking_search_delays: cfg.linking_search_delays.clone(),
        ses_assume_verified: cfg.ses_assume_verified,
        public_url: cfg.public_url.clone(),
        sessions: cfg.sessions.clone(),
    }
}

/// The AWS and provider adapters behind every port: one DynamoDB table, the SQS queues,
/// Secrets Manager (cached), the provider registry, SNS alerts; tenants, keys, channels and
/// numbers read through a per-container cache (`HERALD_PAUSE_RECHECK`).
fn adapters(
    store: &DynamoStore,
    queues: &SqsQueues,
    secrets: Arc<dyn SecretStore>,
    (http, identities, allow_http_callbacks, recordings): (HttpProviders, SesIdentities, bool, S3Recordings),
    registry: &Registry,
    (alerts, clock, config_ttl): (Arc<herald_aws::sns::SnsAlerts>, Arc<dyn Clock>, std::time::Duration),
) -> Adapters {
    let db = Arc::new(store.clone());
    Adapters {
        config: Arc::new(CachedConfig::new(db.clone(), config_ttl)),
        db,
        queues: Arc::new(queues.clone()),
        callbacks: Arc::new(HttpCallbacks::new(allow_http_callbacks)),
        secrets,
        providers: Arc::new(registry.clone()),
        telnyx_numbers: Arc::new(http.clone()),
        voice_carrier: Arc::new(http),
        recordings: Arc::new(recordings),
        email_identities: Arc::new(identities),
        alerts,
        clock,
        users: Arc::new(store.clone()),
        // Only the API has a pool (`HERALD_USER_POOL_ID`); elsewhere console sign-in is off.
        user_pool: Arc::new(herald_aws::cognito::NoPool),
    }
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

#[cfg(test)]
mod tests {
    /// Amazon Trust Services' roots among Mozilla's, matched on the issuer name (a root's
    /// issuer is its subject, within the first 256 bytes of the certificate), as PEM.
    fn amazon_roots_pem() -> String {
        use base64::Engine;
        let amazon = |der: &[u8]| {
            let head = &der[..der.len().min(256)];
            [&b"Amazon Root CA"[..], b"Starfield Services Root"].iter().any(|n| head.windows(n.len()).any(|w| w == *n))
        };
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|c| c.as_ref()).filter(|c| amazon(c));
        let mut pem = String::new();
        for cert in roots {
            let b64 = base64::engine::general_purpose::STANDARD.encode(cert);
            pem.push_str("-----BEGIN CERTIFICATE-----\n");
            for line in b64.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(line).unwrap());
                pem.push('\n');
            }
            pem.push_str("-----END CERTIFICATE-----\n");
        }
        pem
    }

    /// `HERALD_WRITE_ROOTS=1 cargo test -p herald-runtime` rewrites the file after a
    /// `webpki-root-certs` update.
    #[test]
    fn the_sdk_trusts_amazon_trust_services_roots_only() {
        let expected = amazon_roots_pem();
        if std::env::var("HERALD_WRITE_ROOTS").is_ok() {
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/src/amazon-roots.pem"), &expected).unwrap();
        }
        // Amazon Root CA 1–4 and Starfield Services Root G2.
        assert_eq!(expected.matches("BEGIN CERTIFICATE").count(), 5);
        assert_eq!(super::AMAZON_ROOTS_PEM, expected, "amazon-roots.pem differs from Mozilla's set");
        let _ = super::sdk_http_client();
    }
}
