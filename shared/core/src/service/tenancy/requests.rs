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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[serde(default)]
    pub max_daily_budget_cents: Option<u64>,
    #[serde(default)]
    pub max_monthly_budget_cents: Option<u64>,
    #[serde(default)]
    pub max_rate_limit_per_minute: Option<u32>,
}

fn utc() -> String {
    "UTC".into()
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Operator ceilings: the admin route only.
    #[serde(default, deserialize_with = "double_option")]
    pub max_daily_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub max_monthly_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub max_rate_limit_per_minute: Option<Option<u32>>,
}

fn set<T>(field: &mut T, value: Option<T>, name: &'static str, changed: &mut Vec<&'static str>) {
    if let Some(v) = value {
        *field = v;
        changed.push(name);
    }
}

impl TenantPatch {
    pub fn sets_ceilings(&self) -> bool {
        self.max_daily_budget_cents.is_some()
            || self.max_monthly_budget_cents.is_some()
            || self.max_rate_limit_per_minute.is_some()
    }

    /// Applies the patch; the names of the fields it set.
    pub fn apply(self, t: &mut Tenant) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let c = &mut changed;
        set(&mut t.name, self.name, "name", c);
        set(&mut t.timezone, self.timezone, "timezone", c);
        set(
            &mut t.default_country,
            self.default_country.map(|v| v.map(|c| c.to_ascii_uppercase())),
            "default_country",
            c,
        );
        set(&mut t.quiet_hours, self.quiet_hours, "quiet_hours", c);
        set(&mut t.daily_budget_cents, self.daily_budget_cents, "daily_budget_cents", c);
        set(&mut t.monthly_budget_cents, self.monthly_budget_cents, "monthly_budget_cents", c);
        set(&mut t.rate_limit_per_minute, self.rate_limit_per_minute, "rate_limit_per_minute", c);
        set(&mut t.help_text, self.help_text, "help_text", c);
        set(&mut t.max_daily_budget_cents, self.max_daily_budget_cents, "max_daily_budget_cents", c);
        set(&mut t.max_monthly_budget_cents, self.max_monthly_budget_cents, "max_monthly_budget_cents", c);
        set(&mut t.max_rate_limit_per_minute, self.max_rate_limit_per_minute, "max_rate_limit_per_minute", c);
        changed
    }
}

/// A setting over its ceiling (none set counts as unlimited, so over any ceiling).
fn over<T: PartialOrd + Copy>(value: Option<T>, ceiling: Option<T>) -> bool {
    ceiling.is_some_and(|max| value.is_none_or(|v| v > max))
}

/// The tenant's own change: refused when it goes above an operator ceiling.
pub(crate) fn check_ceilings(t: &Tenant) -> Result<(), HeraldError> {
    let fields = [
        ("daily_budget_cents", over(t.daily_budget_cents, t.max_daily_budget_cents)),
        ("monthly_budget_cents", over(t.monthly_budget_cents, t.max_monthly_budget_cents)),
        ("rate_limit_per_minute", over(t.rate_limit_per_minute, t.max_rate_limit_per_minute)),
    ];
    match fields.iter().find(|(_, over)| *over) {
        Some((field, _)) => Err(HeraldError::AboveOperatorLimit(format!("{field} is above the limit an operator set"))),
        None => Ok(()),
    }
}

/// The operator's change: the tenant's settings are brought down to the new ceilings.
pub(crate) fn clamp_to_ceilings(t: &mut Tenant) {
    if over(t.daily_budget_cents, t.max_daily_budget_cents) {
        t.daily_budget_cents = t.max_daily_budget_cents;
    }
    if over(t.monthly_budget_cents, t.max_monthly_budget_cents) {
        t.monthly_budget_cents = t.max_monthly_budget_cents;
    }
    if over(t.rate_limit_per_minute, t.max_rate_limit_per_minute) {
        t.rate_limit_per_minute = t.max_rate_limit_per_minute;
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TenantCreated {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub api_key: String,
    pub api_key_id: KeyId,
    pub test_api_key: String,
    pub test_api_key_id: KeyId,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    if t.help_text.as_ref().is_some_and(|h| h.chars().count() > 1600) {
        return Err(HeraldError::validation("help_text", "TOO_LONG", "help_text is at most 1600 characters"));
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
