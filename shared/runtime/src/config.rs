//! Typed configuration, read once per container. Every duration users tune is here, and
//! tests shorten them the same way (CONTRACT §11).
use herald_core::pricing::Pricing;
use herald_core::retry::{parse_duration, parse_durations, RetryPolicy};
use herald_core::Channel;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub aws_endpoint_url: Option<String>,
    pub aws_region: String,
    pub table: String,
    /// Queue names are `{prefix}-{channel}.fifo` and `{prefix}-{channel}-dlq.fifo`.
    pub queue_prefix: String,
    pub queue_urls: HashMap<Channel, (String, String)>,
    pub callback_queue: Option<(String, String)>,
    pub admin_key: Option<String>,
    pub admin_key_secret: Option<String>,
    pub secret_prefix: String,
    pub secret_ttl: Duration,
    pub retry: RetryPolicy,
    pub stale_after: Duration,
    pub ambiguous_wait: Duration,
    pub enqueue_grace: Duration,
    pub job_run_budget: Duration,
    pub pause_recheck: Duration,
    pub linking_retry_delays: Vec<Duration>,
    pub linking_search_delays: Vec<Duration>,
    pub alert_topic_arn: Option<String>,
    pub breaker: herald_core::service::BreakerSettings,
    pub pricing: Pricing,
    /// `{PROVIDER}_API_BASE` for any provider (`TWILIO_API_BASE`, …): where its API is
    /// reached instead of its own default (the simulator, in tests).
    pub provider_bases: std::collections::BTreeMap<herald_core::Provider, String>,
    pub whatsapp_api_version: String,
    pub public_url: Option<String>,
    /// The S3 bucket voicemail recordings are kept in (`HERALD_RECORDINGS_BUCKET`).
    pub recordings_bucket: String,
    pub provider_timeout: Duration,
    /// herald-local: provision the emulator's resources, emulator-only conveniences.
    pub local: bool,
    /// Emulator only (`HERALD_SES_ASSUME_VERIFIED`): an identity created at SES counts as verified.
    pub ses_assume_verified: bool,
    /// The SES configuration set every SendEmail names (its event destination publishes
    /// bounces, complaints and deliveries to the SES-events topic).
    pub ses_configuration_set: Option<String>,
    /// SES's own endpoint, when it is not the AWS one (`AWS_ENDPOINT_URL_SESV2`).
    pub ses_endpoint: Option<String>,
    /// How many email senders may run at once: each paces itself to its share of the
    /// account's SES rate (`HERALD_SES_PACE_SHARE`, the template's `EmailMaxConcurrency`).
    pub ses_pace_share: u32,
    /// Local only (`HERALD_ALLOW_HTTP_CALLBACKS`): plain-http and private-address callbacks allowed.
    pub allow_http_callbacks: bool,
    /// Fixed AWS credentials instead of the default chain (never from the environment: the
    /// IAM tests give each function's wiring its own IAM user). Debug redacts the secret.
    pub credentials: Option<aws_sdk_sqs::config::Credentials>,
    /// The console's Cognito user pool and app client (`HERALD_USER_POOL_ID`,
    /// `HERALD_USER_POOL_CLIENT_ID`); only the API has them.
    pub user_pool: Option<(String, String)>,
    pub sessions: herald_core::service::users::SessionSettings,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// herald-local's settings: the emulator's conveniences on (CONTRACT §11, §12).
    pub fn for_local(mut self) -> Self {
        self.local = true;
        self.ses_assume_verified = true;
        self.allow_http_callbacks = true;
        self
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|k| map.get(k).cloned())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(Box::new(move |k: &str| get(k).filter(|v| !v.trim().is_empty())));
        let get = |k: &str| env.get(k);
        let mut queue_urls = HashMap::new();
        for ch in Channel::ALL {
            let up = ch.as_str().to_ascii_uppercase();
            if let (Some(u), Some(d)) = (get(&format!("HERALD_QUEUE_URL_{up}")), get(&format!("HERALD_DLQ_URL_{up}"))) {
                queue_urls.insert(ch, (u, d));
            }
        }
        let or = |k: &str, default: &str| get(k).unwrap_or_else(|| default.into());
        Ok(Self {
            aws_endpoint_url: get("AWS_ENDPOINT_URL"),
            aws_region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".into()),
            table: or("HERALD_TABLE", "herald"),
            queue_prefix: or("HERALD_QUEUE_PREFIX", "herald"),
            queue_urls,
            callback_queue: get("HERALD_CALLBACK_QUEUE_URL").zip(get("HERALD_CALLBACK_DLQ_URL")),
            admin_key: get("HERALD_ADMIN_KEY"),
            admin_key_secret: get("HERALD_ADMIN_KEY_SECRET"),
            secret_prefix: or("HERALD_SECRET_PREFIX", "herald"),
            secret_ttl: env.dur("HERALD_SECRET_TTL", "5m")?,
            retry: env.retry()?,
            stale_after: env.dur("HERALD_STALE_AFTER", "10m")?,
            ambiguous_wait: env.dur("HERALD_AMBIGUOUS_WAIT", "2m")?,
            enqueue_grace: env.dur("HERALD_ENQUEUE_GRACE", "15m")?,
            job_run_budget: env.dur("HERALD_JOB_RUN_BUDGET", "60s")?,
            pause_recheck: env.dur("HERALD_PAUSE_RECHECK", "60s")?,
            linking_retry_delays: env.durs("HERALD_LINKING_RETRY_DELAYS", "5m,15m,60m")?,
            linking_search_delays: env.durs("HERALD_LINKING_SEARCH_DELAYS", "1s,2s,4s")?,
            alert_topic_arn: get("HERALD_ALERT_TOPIC_ARN"),
            breaker: env.breaker()?,
            pricing: env.pricing()?,
            provider_bases: herald_core::Provider::ALL
                .iter()
                .filter_map(|p| Some((*p, get(&format!("{}_API_BASE", p.as_str().to_uppercase()))?)))
                .collect(),
            whatsapp_api_version: or("WHATSAPP_API_VERSION", "v23.0"),
            public_url: get("HERALD_PUBLIC_URL"),
            recordings_bucket: or("HERALD_RECORDINGS_BUCKET", "herald-recordings"),
            provider_timeout: env.dur("HERALD_PROVIDER_TIMEOUT", "10s")?,
            local: env.flag("HERALD_LOCAL"),
            ses_assume_verified: env.flag("HERALD_SES_ASSUME_VERIFIED"),
            ses_configuration_set: get("HERALD_SES_CONFIGURATION_SET"),
            // The SDK's own service-specific endpoint variable, read from the same map.
            ses_endpoint: get("AWS_ENDPOINT_URL_SESV2"),
            ses_pace_share: env.num("HERALD_SES_PACE_SHARE", 1u32, |n| *n >= 1, "a positive integer")?,
            allow_http_callbacks: env.flag("HERALD_ALLOW_HTTP_CALLBACKS"),
            credentials: None,
            user_pool: get("HERALD_USER_POOL_ID").zip(get("HERALD_USER_POOL_CLIENT_ID")),
            sessions: herald_core::service::users::SessionSettings {
                idle: env.dur("HERALD_SESSION_IDLE", "30m")?,
                recheck: env.dur("HERALD_SESSION_RECHECK", "60s")?,
            },
        })
    }
}

/// Typed reads of the configuration variables, each with its default and its error.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;
struct Env<'a>(Lookup<'a>);

impl Env<'_> {
    /// A blank variable is an unset one (the template blanks what a function must not use).
    fn get(&self, k: &str) -> Option<String> {
        (self.0)(k).filter(|v| !v.trim().is_empty())
    }

    fn flag(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
    }

    fn dur(&self, k: &str, default: &str) -> Result<Duration, ConfigError> {
        let raw = self.get(k).unwrap_or_else(|| default.to_string());
        parse_duration(&raw).ok_or_else(|| ConfigError(format!("{k}={raw} is not a duration like 30s, 2m, 1h")))
    }

    fn durs(&self, k: &str, default: &str) -> Result<Vec<Duration>, ConfigError> {
        let raw = self.get(k).unwrap_or_else(|| default.to_string());
        parse_durations(&raw).ok_or_else(|| ConfigError(format!("{k}={raw} is not a list like 30s,2m,10m")))
    }

    /// A number that must pass `ok`, else `must` is the error's explanation.
    fn num<T: std::str::FromStr>(
        &self,
        k: &str,
        default: T,
        ok: impl Fn(&T) -> bool,
        must: &str,
    ) -> Result<T, ConfigError> {
        match self.get(k) {
            Some(v) => v.parse().ok().filter(|n| ok(n)).ok_or_else(|| ConfigError(format!("{k}={v} must be {must}"))),
            None => Ok(default),
        }
    }

    fn retry(&self) -> Result<RetryPolicy, ConfigError> {
        Ok(RetryPolicy {
            backoff: self.durs("HERALD_RETRY_BACKOFF", "30s,2m,10m,1h")?,
            max_attempts: self.num("HERALD_MAX_ATTEMPTS", 5u32, |n| *n >= 1, "a positive integer")?,
            jitter: self.num("HERALD_RETRY_JITTER", 0.2f64, |j| (0.0..=1.0).contains(j), "within 0..1")?,
        })
    }

    fn breaker(&self) -> Result<herald_core::service::BreakerSettings, ConfigError> {
        Ok(herald_core::service::BreakerSettings {
            failure_rate: self.num(
                "HERALD_BREAKER_FAILURE_RATE",
                0.5f64,
                |r| *r > 0.0 && *r <= 1.0,
                "within (0, 1]",
            )?,
            min_attempts: self.num("HERALD_BREAKER_MIN_ATTEMPTS", 20u64, |n| *n >= 1, "a positive integer")?,
            window: self.dur("HERALD_BREAKER_WINDOW", "10m")?,
            cooldown: self.dur("HERALD_BREAKER_COOLDOWN", "60s")?,
        })
    }

    fn pricing(&self) -> Result<Pricing, ConfigError> {
        match self.get("HERALD_SMS_PRICES") {
            Some(spec) => Pricing::default()
                .with_sms_prices(&spec)
                .ok_or_else(|| ConfigError(format!("HERALD_SMS_PRICES={spec} must look like US=1,GB=4,default=5"))),
            None => Ok(Pricing::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::from_map(&HashMap::new()).unwrap();
        assert_eq!(c.retry.backoff.len(), 4);
        assert_eq!(c.stale_after, Duration::from_secs(600));
        assert_eq!(c.pause_recheck, Duration::from_secs(60));
        assert_eq!(
            c.linking_retry_delays,
            vec![Duration::from_secs(300), Duration::from_secs(900), Duration::from_secs(3600)]
        );
        assert!(c.provider_bases.is_empty(), "each provider's own API by default");
        let m = HashMap::from([("TWILIO_API_BASE".to_string(), "http://127.0.0.1:4010".to_string())]);
        let c = Config::from_map(&m).unwrap();
        assert_eq!(
            c.provider_bases.get(&herald_core::Provider::Twilio).map(String::as_str),
            Some("http://127.0.0.1:4010")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let m = HashMap::from([("HERALD_RETRY_BACKOFF".to_string(), "soon".to_string())]);
        let e = Config::from_map(&m).unwrap_err();
        assert!(e.0.contains("HERALD_RETRY_BACKOFF"));
        let m = HashMap::from([("HERALD_MAX_ATTEMPTS".to_string(), "0".to_string())]);
        assert!(Config::from_map(&m).is_err());
    }
}
