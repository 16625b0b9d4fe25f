//! Where an open-ended hold waits for its release: one key per thing that releases it (the
//! tenant's resume or quota reset, a channel's flag or breaker, a number's linking). Holds
//! with a known end (quiet hours, warmup) are found by their due time instead. The text
//! form is stored (the hold index, pending releases): `Display` and `parse` are its only
//! spelling.
use super::HoldReason;
use crate::channel::Channel;
use crate::ids::TenantId;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldKey {
    /// Released for one tenant (resume, quota reset).
    Tenant(TenantId, HoldReason),
    /// Released for a whole channel (its flag turned on, its circuit closed).
    Channel(HoldReason, Channel),
    /// Released when the sending number is linked.
    Number(String),
}

impl fmt::Display for HoldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldKey::Tenant(tenant, reason) => write!(f, "HOLD#{tenant}#{}", reason.as_str()),
            HoldKey::Channel(reason, channel) => write!(f, "HOLD#*#{}#{channel}", reason.as_str()),
            HoldKey::Number(number) => write!(f, "HOLD#NUMBER#{number}"),
        }
    }
}

impl HoldKey {
    /// The key a stored text names, if it names one.
    pub fn parse(s: &str) -> Option<HoldKey> {
        let reason = |r: &str| HoldReason::ALL.into_iter().find(|h| h.as_str() == r);
        let rest = s.strip_prefix("HOLD#")?;
        if let Some(number) = rest.strip_prefix("NUMBER#") {
            return Some(HoldKey::Number(number.to_string()));
        }
        if let Some(rest) = rest.strip_prefix("*#") {
            let (r, channel) = rest.split_once('#')?;
            return Some(HoldKey::Channel(reason(r)?, channel.parse().ok()?));
        }
        let (tenant, r) = rest.split_once('#')?;
        Some(HoldKey::Tenant(TenantId::parse(tenant)?, reason(r)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_as_itself_in_its_stored_spelling() {
        let tenant = TenantId::generate();
        let keys = [
            (HoldKey::Tenant(tenant.clone(), HoldReason::TenantPaused), format!("HOLD#{tenant}#TENANT_PAUSED")),
            (HoldKey::Tenant(tenant.clone(), HoldReason::QuotaExceeded), format!("HOLD#{tenant}#QUOTA_EXCEEDED")),
            (HoldKey::Channel(HoldReason::ChannelDisabled, Channel::Sms), "HOLD#*#CHANNEL_DISABLED#sms".into()),
            (
                HoldKey::Channel(HoldReason::ProviderCircuitOpen, Channel::Email),
                "HOLD#*#PROVIDER_CIRCUIT_OPEN#email".into(),
            ),
            (HoldKey::Number("+14155550100".into()), "HOLD#NUMBER#+14155550100".into()),
        ];
        for (key, stored) in keys {
            assert_eq!(key.to_string(), stored);
            assert_eq!(HoldKey::parse(&stored), Some(key));
        }
        assert_eq!(HoldKey::parse("PMID#twilio#SM1"), None);
        assert_eq!(HoldKey::parse("HOLD#*#NOPE#sms"), None);
    }
}
