//! Tenants, their keys, channels, credentials and sending numbers.
use crate::channel::{Channel, Provider};
use crate::ids::{KeyId, KeyMode, TenantId};
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// "HH:MM" local time at which the quiet window starts.
    pub start: String,
    pub end: String,
}

impl QuietHours {
    pub fn bounds(&self) -> Option<(NaiveTime, NaiveTime)> {
        let p = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
        Some((p(&self.start)?, p(&self.end)?))
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pause {
    pub reason: String,
    pub at: DateTime<Utc>,
    pub by: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub timezone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    #[serde(default)]
    pub daily_budget_cents: Option<u64>,
    #[serde(default)]
    pub monthly_budget_cents: Option<u64>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// Operator ceilings (admin only): the tenant cannot set its budgets or rate limit above them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_daily_budget_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_monthly_budget_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rate_limit_per_minute: Option<u32>,
    /// Signs status callbacks (`Herald-Signature`); shown to the tenant, never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_secret: Option<String>,
    /// Signs test messages' callbacks: derived one way from `callback_secret`, so a test key
    /// that reads it learns nothing of the live secret. Filled in views only, never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_callback_secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every write; a write made from an older copy is refused (no stale copy of
    /// the tenant is ever written back over an operator's change).
    #[serde(default)]
    pub version: u64,
}

impl Tenant {
    /// The secret that signs callbacks of `mode`'s messages.
    pub fn callback_secret_for(&self, mode: KeyMode) -> Option<String> {
        let live = self.callback_secret.as_deref()?;
        match mode {
            KeyMode::Live => Some(live.to_string()),
            KeyMode::Test => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(format!("herald-test-callbacks:{live}").as_bytes());
                Some(format!("whsec_test_{}", &hex::encode(digest)[..48]))
            }
        }
    }

    /// The tenant as a key of `mode` sees it: a test key never sees the live secret.
    pub fn seen_by(mut self, mode: KeyMode) -> Tenant {
        self.test_callback_secret = self.callback_secret_for(KeyMode::Test);
        if mode == KeyMode::Test {
            self.callback_secret = None;
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub tenant_id: TenantId,
    /// SHA-256 of the key; the key itself is never stored.
    pub hash: String,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
    /// When a request last authenticated with it (kept to the hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The non-secret part of a channel's configuration (DynamoDB). Credentials live in
/// Secrets Manager under `secret_name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub provider: Provider,
    #[serde(default)]
    pub backup_provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_quota: Option<u32>,
    /// Which providers have credentials stored (never the credentials themselves).
    #[serde(default)]
    pub configured_providers: Vec<Provider>,
    pub secret_name: String,
    pub updated_at: DateTime<Utc>,
}

/// Everything secret about one tenant channel, stored as one Secrets Manager secret: each
/// provider's credentials under its name, in the shape its module in `herald-providers`
/// defines and checks. The core stores them and never reads inside.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ChannelSecrets(BTreeMap<Provider, serde_json::Value>);

impl ChannelSecrets {
    /// With `provider`'s credentials (as the provider's module reads them).
    pub fn with(mut self, provider: Provider, credentials: serde_json::Value) -> Self {
        if !credentials.is_null() {
            self.0.insert(provider, credentials);
        }
        self
    }

    /// The provider's credentials, as stored.
    pub fn get(&self, provider: Provider) -> Option<&serde_json::Value> {
        self.0.get(&provider)
    }

    /// Whether `provider` can be used: it has credentials, or needs none of the tenant's.
    pub fn has(&self, provider: Provider) -> bool {
        matches!(provider, Provider::Ses | Provider::Simulator) || self.0.contains_key(&provider)
    }
}

impl<'de> Deserialize<'de> for ChannelSecrets {
    /// Tolerant of what it does not know: a provider no longer built in is skipped, as is a
    /// provider stored without credentials (`null`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let known = raw.into_iter().filter_map(|(k, v)| Some((k.parse::<Provider>().ok()?, v)));
        Ok(ChannelSecrets(known.filter(|(_, v)| !v.is_null()).collect()))
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendingNumber {
    pub tenant_id: TenantId,
    pub phone_number: String,
    pub provider: Provider,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_profile_id: Option<String>,
    /// Warmup: at most this many sends from the number per local day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u32>,
    pub created_at: DateTime<Utc>,
}

/// What the first request with an Idempotency-Key answered, kept so a repeat gets the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub tenant_id: TenantId,
    pub key: String,
    pub request_hash: String,
    pub response: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// The message the first request created (written right after this record: a request
    /// that stopped between the two is completed by its retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<crate::ids::MessageId>,
}
