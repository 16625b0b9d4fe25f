//! Operator and tenant controls: the kill switch (pause / resume), channel kill flags, the
//! budget view and the WhatsApp window override. Every change is audited.
pub use super::budget::Budget;
use super::budget::Budgets;
use super::policy::{feature_for, Holds, Policy};
use super::support::{update_tenant, Audit};
use super::{Caller, HeraldError};
use crate::address::E164;
use crate::channel::Channel;
use crate::ids::TenantId;
use crate::message::{HoldKey, HoldReason};
use crate::ports::{Clock, FeatureStore, TenantStore, WindowStore};
use crate::tenant::{Pause, Tenant};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Controls {
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) features: Arc<dyn FeatureStore>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) windows: Arc<dyn WindowStore>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Controls {
    /// The admin names a tenant; a tenant acts on itself.
    async fn target_tenant(&self, caller: &Caller, id: Option<&str>) -> Result<Tenant, HeraldError> {
        let id = match (caller, id) {
            (Caller::Admin { .. }, Some(id)) => TenantId::parse(id).ok_or(HeraldError::NotFound)?,
            (Caller::Tenant { .. }, None) => caller.live_tenant()?.id.clone(),
            _ => return Err(HeraldError::Forbidden),
        };
        self.tenants.tenant(&id).await?.ok_or(HeraldError::NotFound)
    }

    /// Kill switch: nothing of the tenant reaches a provider within `pause_recheck`.
    /// A tenant's own pause never replaces an operator's (`409 PAUSED_BY_OPERATOR`).
    pub async fn pause(&self, caller: &Caller, id: Option<&str>, reason: String) -> Result<Tenant, HeraldError> {
        caller.require_live()?;
        let target = self.target_tenant(caller, id).await?;
        super::support::require_reason(Some(&reason))?;
        let now = self.clock.now();
        let pause = Pause { reason: reason.clone(), at: now, by: caller.actor() };
        let (t, ()) = update_tenant(self.tenants.as_ref(), &target.id, now, |t| {
            if matches!(caller, Caller::Tenant { .. }) && by_operator(t) {
                return Err(HeraldError::PausedByOperator);
            }
            t.paused = Some(pause.clone());
            Ok(())
        })
        .await?;
        tracing::warn!(tenant_id = %t.id, by = %caller.actor(), "tenant paused");
        self.audit.record(caller, Some(&t.id), "tenant.pause", json!({"reason": reason})).await;
        Ok(t)
    }

    pub async fn resume(&self, caller: &Caller, id: Option<&str>) -> Result<(Tenant, u32), HeraldError> {
        caller.require_live()?;
        let target = self.target_tenant(caller, id).await?;
        // An operator's pause (compliance, abuse) is lifted by an operator only.
        let (t, ()) = update_tenant(self.tenants.as_ref(), &target.id, self.clock.now(), |t| {
            if matches!(caller, Caller::Tenant { .. }) && by_operator(t) {
                return Err(HeraldError::PausedByOperator);
            }
            t.paused = None;
            Ok(())
        })
        .await?;
        let released = self.holds.release_or_defer(&HoldKey::Tenant(t.id.clone(), HoldReason::TenantPaused)).await?;
        tracing::warn!(tenant_id = %t.id, by = %caller.actor(), released, "tenant resumed");
        self.audit.record(caller, Some(&t.id), "tenant.resume", json!({"released": released})).await;
        Ok((t, released))
    }

    /// `GET /v1/tenant/budget`.
    pub async fn budget(&self, caller: &Caller) -> Result<Budget, HeraldError> {
        let tenant = self.target_tenant(caller, None).await?;
        self.budgets.view(&tenant).await
    }

    pub async fn features(&self, caller: &Caller) -> Result<BTreeMap<String, bool>, HeraldError> {
        caller.require_admin()?;
        let mut all: BTreeMap<String, bool> = Channel::ALL.iter().map(|c| (feature_for(*c), true)).collect();
        all.extend(super::voice::VOICE_FEATURES.iter().map(|f| (f.to_string(), true)));
        all.extend(self.features.features().await?);
        Ok(all)
    }

    /// Channel kill flags. Re-enabling releases what the flag held.
    pub async fn set_feature(
        &self,
        caller: &Caller,
        name: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<u32, HeraldError> {
        caller.require_admin()?;
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(HeraldError::validation("reason", "TOO_LONG", "a reason of up to 500 characters"));
        }
        let channel = Channel::ALL.into_iter().find(|c| feature_for(*c) == name);
        if channel.is_none() && !super::voice::VOICE_FEATURES.contains(&name) {
            let mut known: Vec<String> = Channel::ALL.map(feature_for).to_vec();
            known.extend(super::voice::VOICE_FEATURES.iter().map(|f| f.to_string()));
            let known = known.join(", ");
            return Err(HeraldError::validation("feature", "UNKNOWN_FEATURE", format!("known features: {known}")));
        }
        self.features.set_feature(name, enabled).await?;
        self.policy.forget_features();
        let detail = json!({"feature": name, "enabled": enabled, "reason": reason});
        self.audit.record(caller, None, "feature.set", detail).await;
        tracing::warn!(feature = name, enabled, "feature flag changed");
        let Some(channel) = channel.filter(|_| enabled) else { return Ok(0) };
        self.holds.release_or_defer(&HoldKey::Channel(HoldReason::ChannelDisabled, channel)).await
    }

    /// Admin override: opens the 24 h window as if `phone` had just written in.
    pub async fn open_whatsapp_window(
        &self,
        caller: &Caller,
        tenant_id: &str,
        phone: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<(TenantId, E164, DateTime<Utc>), HeraldError> {
        caller.require_admin()?;
        let tenant = self.target_tenant(caller, Some(tenant_id)).await?;
        let phone = E164::parse(phone, tenant.default_country.as_deref())
            .map_err(|_| HeraldError::validation("phone", "INVALID_PHONE_NUMBER_FORMAT", "not a valid phone number"))?;
        let at = at.unwrap_or_else(|| self.clock.now());
        self.windows.open_whatsapp_window(&tenant.id, phone.as_str(), at).await?;
        let detail = json!({"phone": phone.masked(), "at": at});
        self.audit.record(caller, Some(&tenant.id), "whatsapp.window_open", detail).await;
        Ok((tenant.id, phone, at))
    }
}

fn by_operator(t: &Tenant) -> bool {
    t.paused.as_ref().is_some_and(|p| p.by == "admin")
}

impl Controls {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(sh: &crate::service::wiring::Shared, a: &crate::service::Adapters) -> Self {
        Controls {
            tenants: a.config.clone(),
            features: a.db.clone(),
            budgets: sh.budgets.clone(),
            windows: a.db.clone(),
            policy: sh.policy.clone(),
            holds: sh.holds.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
        }
    }
}
