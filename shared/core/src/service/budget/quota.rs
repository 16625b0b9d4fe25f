//! The WhatsApp daily quota ledger: sends counted per tenant-local day, rolled over on first
//! use after its reset (a missed `quota-reset` never blocks) or by the job.
use super::Budgets;
use crate::guards::QuotaState;
use crate::ids::TenantId;
use crate::quiet;
use crate::service::HeraldError;
use chrono::{DateTime, Utc};

impl Budgets {
    /// The tenant's time zone (UTC for an unknown tenant).
    async fn zone_of(&self, tenant_id: &TenantId) -> Result<chrono_tz::Tz, HeraldError> {
        let tenant = self.tenants.tenant(tenant_id).await?;
        Ok(tenant.as_ref().map(crate::service::policy::tz).unwrap_or(chrono_tz::UTC))
    }

    /// The current quota period, started now if the last one ended or its limit changed.
    pub async fn current_quota(
        &self,
        tenant_id: &TenantId,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QuotaState, HeraldError> {
        let existing = self.quotas.quota(tenant_id).await?;
        match existing {
            Some(s) if s.reset_at > now && s.limit == limit => Ok(s),
            other => {
                let zone = self.zone_of(tenant_id).await?;
                let live = other.as_ref().filter(|s| s.reset_at > now);
                let keep_sent = live.map(|s| s.sent).unwrap_or(0);
                let reset_at = live.map(|s| s.reset_at).unwrap_or_else(|| quiet::next_local_midnight(now, zone));
                let state =
                    QuotaState { tenant_id: tenant_id.clone(), sent: keep_sent, limit, reset_at, throttle_until: None };
                self.quotas.roll_quota(&state, other.map(|s| s.reset_at)).await?;
                Ok(self.quotas.quota(tenant_id).await?.unwrap_or(state))
            }
        }
    }

    /// Counts one send if the period's count stays below `below`: the count after it, or
    /// None when it would not.
    pub async fn take_quota(&self, tenant_id: &TenantId, below: u32) -> Result<Option<u32>, HeraldError> {
        Ok(self.quotas.take_quota(tenant_id, below).await?)
    }

    /// Starts a new quota period for the tenant (the `quota-reset` job); the period it ended.
    pub async fn reset_quota(&self, tenant_id: &TenantId) -> Result<Option<QuotaState>, HeraldError> {
        let Some(old) = self.quotas.quota(tenant_id).await? else { return Ok(None) };
        let zone = self.zone_of(tenant_id).await?;
        let reset_at = quiet::next_local_midnight(self.clock.now(), zone);
        let state =
            QuotaState { tenant_id: tenant_id.clone(), sent: 0, limit: old.limit, reset_at, throttle_until: None };
        self.quotas.roll_quota(&state, Some(old.reset_at)).await?;
        Ok(Some(old))
    }

    pub async fn quota_tenants(&self) -> Result<Vec<TenantId>, HeraldError> {
        Ok(self.quotas.quota_tenants().await?)
    }
}
