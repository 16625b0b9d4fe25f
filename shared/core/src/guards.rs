//! The send policy's data: do-not-contact entries, budgets, rate and warmup counters, the
//! WhatsApp window and quota, feature flags. All keyed lookups or single conditional
//! updates — no guard ever scans.
use crate::ids::TenantId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DncEntry {
    pub tenant_id: TenantId,
    /// Normalised: E.164 or a lower-cased email.
    pub address: String,
    pub reason: String,
    /// Who put it there: `api`, `inbound:twilio`, `bounce:ses`, …
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// Where a reservation was counted, so it can be released or settled later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPeriod {
    pub month: String,
    pub day: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub daily_spent_cents: i64,
    pub monthly_spent_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaState {
    pub tenant_id: TenantId,
    pub sent: u32,
    pub limit: u32,
    pub reset_at: DateTime<Utc>,
    #[serde(default)]
    pub throttle_until: Option<DateTime<Utc>>,
}

/// A provider's circuit breaker as stored: state plus per-minute outcome counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerRecord {
    pub state: BreakerState,
    pub since: DateTime<Utc>,
    pub version: u64,
    /// minute (`YYYYMMDDHHMM`) → (attempts, provider failures).
    #[serde(default)]
    pub buckets: std::collections::BTreeMap<String, (u64, u64)>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
    /// Opened by an operator: no probe, no automatic close; only an operator closes it.
    ForcedOpen,
}

/// One provider account: the unit a circuit breaker covers, so one tenant's broken relay
/// or throttled account never holds another tenant's traffic (`twilio:AC…`, `smtp:host`,
/// `ses:region`, `telnyx:<key digest>`, `whatsapp:<phone_number_id>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProviderAccount {
    pub provider: crate::Provider,
    pub account: String,
}

impl ProviderAccount {
    pub fn new(provider: crate::Provider, account: impl Into<String>) -> Self {
        Self { provider, account: account.into() }
    }

    /// `provider:account`, as stored and shown.
    pub fn key(&self) -> String {
        format!("{}:{}", self.provider, self.account)
    }

    pub fn parse(key: &str) -> Option<Self> {
        let (p, a) = key.split_once(':')?;
        Some(Self { provider: p.parse().ok()?, account: a.to_string() })
    }
}

impl std::fmt::Display for ProviderAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.account)
    }
}
