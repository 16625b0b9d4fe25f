//! What the tenant routes take and give back.
use crate::ids::KeyId;
use crate::ids::KeyMode;
use crate::service::HeraldError;
use crate::tenant::{QuietHours, Tenant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub default_country: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    #[serde(default)]
    pub daily_budget_cents: Option<u64>,
    #[serde(default)]
    pub monthly_budget_cents: Option<u64>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default)]
    pub help_text: Option<String>,
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub default_country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(default, deserialize_with = "double_option")]
    pub daily_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub monthly_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub rate_limit_per_minute: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    pub help_text: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantCreated {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub api_key: String,
    pub api_key_id: KeyId,
    pub test_api_key: String,
    pub test_api_key_id: KeyId,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyCreated {
    pub key_id: KeyId,
    pub api_key: String,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
}

/// A tenant's settings, whoever set them: name, zone, country, quiet hours, rate limit.
pub(crate) fn check_settings(t: &Tenant) -> Result<(), HeraldError> {
    if t.name.trim().is_empty() || t.name.len() > 200 {
        return Err(HeraldError::validation("name", "REQUIRED", "name must be 1 to 200 characters"));
    }
    if t.timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(HeraldError::validation(
            "timezone",
            "INVALID_TIMEZONE",
            "timezone must be an IANA zone such as America/Chicago",
        ));
    }
    if let Some(c) = &t.default_country {
        if c.len() != 2 || c.to_ascii_uppercase().parse::<phonenumber::country::Id>().is_err() {
            return Err(HeraldError::validation(
                "default_country",
                "INVALID_COUNTRY",
                "default_country must be an ISO 3166 alpha-2 code",
            ));
        }
    }
    if let Some(q) = &t.quiet_hours {
        if q.bounds().is_none() {
            return Err(HeraldError::validation("quiet_hours", "INVALID_TIME", "quiet_hours start and end are HH:MM"));
        }
    }
    if t.rate_limit_per_minute == Some(0) {
        return Err(HeraldError::validation(
            "rate_limit_per_minute",
            "INVALID",
            "rate_limit_per_minute must be positive",
        ));
    }
    Ok(())
}
