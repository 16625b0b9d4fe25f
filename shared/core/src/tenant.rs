//! Tenants, their keys, channels, credentials and sending numbers.
use crate::channel::{Channel, Provider};
use crate::ids::{KeyId, KeyMode, TenantId};
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub tenant_id: TenantId,
    /// SHA-256 of the key; the key itself is never stored.
    pub hash: String,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_auth_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelnyxCredentials {
    pub api_key: String,
    #[serde(default)]
    pub messaging_profile_id: Option<String>,
    #[serde(default)]
    pub webhook_public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpCredentials {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappCredentials {
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

/// Everything secret about one tenant channel, stored as one Secrets Manager secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSecrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twilio: Option<TwilioCredentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telnyx: Option<TelnyxCredentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpCredentials>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsappCredentials>,
}

impl ChannelSecrets {
    pub fn has(&self, provider: Provider) -> bool {
        match provider {
            Provider::Twilio => self.twilio.is_some(),
            Provider::Telnyx => self.telnyx.is_some(),
            Provider::Smtp => self.smtp.is_some(),
            Provider::Whatsapp => self.whatsapp.is_some(),
            Provider::Ses | Provider::Simulator => true,
        }
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
