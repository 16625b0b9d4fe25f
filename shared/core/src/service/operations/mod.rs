//! The operator's console (CONTRACT §13): manual circuit overrides, budget resets, the
//! WhatsApp quota view, any message by id, in-flight lists and retry-now. Every change needs
//! a reason and is audited; reads are by key or index, never by scan.
mod messages;

pub use messages::{AdminMessageQuery, RetryNowReport};

use super::breakers::Breakers;
use super::budget::{Budget, Budgets};
use super::policy::Holds;
use super::support::require_reason;
use super::support::Audit;
use super::{Caller, HeraldError};
use crate::guards::{BreakerState, ProviderAccount};
use crate::ids::TenantId;
use crate::message::{HoldKey, HoldReason};
use crate::ports::{Clock, MessageStore, QuotaStore, SendQueue, TenantStore, WorkIndex};
use crate::tenant::Tenant;
use crate::{Channel, Provider};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

pub struct Operations {
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) quotas: Arc<dyn QuotaStore>,
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) work: Arc<dyn WorkIndex>,
    pub(crate) queue: Arc<dyn SendQueue>,
    pub(crate) breakers: Arc<Breakers>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    /// How long after it was due a queued message is looked at again (see `Settings`).
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
}

/// What a manual circuit override did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct CircuitChange {
    pub provider: Provider,
    pub account: String,
    pub state: BreakerState,
    pub previous_state: BreakerState,
    /// Messages held for an open circuit released by a close.
    pub released: u32,
}

/// `GET /v1/admin/whatsapp/quota`: one tenant's daily WhatsApp quota.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct QuotaView {
    pub tenant_id: TenantId,
    pub used: u32,
    pub limit: u32,
    pub percent: f64,
    pub throttled: bool,
    pub reset_at: DateTime<Utc>,
    pub throttle_until: Option<DateTime<Utc>>,
}

/// Where the contract leaves the reason out, one is still recorded when given.
pub(crate) fn optional_reason(reason: Option<&str>) -> Result<Option<String>, HeraldError> {
    reason.filter(|r| !r.trim().is_empty()).map(|r| require_reason(Some(r))).transpose()
}

impl Operations {
    async fn tenant(&self, id: &str) -> Result<Tenant, HeraldError> {
        let id = TenantId::parse(id).ok_or(HeraldError::NotFound)?;
        self.tenants.tenant(&id).await?.ok_or(HeraldError::NotFound)
    }

    /// `POST /v1/admin/circuits/{provider}/{account}/open|close`. An operator's open holds
    /// until an operator closes it (no probe); a close clears the counts and releases what
    /// the open circuit held.
    pub async fn set_circuit(
        &self,
        caller: &Caller,
        provider: &str,
        account: &str,
        open: bool,
        reason: Option<&str>,
    ) -> Result<CircuitChange, HeraldError> {
        caller.require_admin()?;
        let reason = optional_reason(reason)?;
        let provider = Provider::ALL.iter().copied().find(|p| p.as_str() == provider).ok_or_else(|| {
            let known: Vec<&str> =
                Provider::ALL.iter().filter(|p| **p != Provider::Simulator).map(|p| p.as_str()).collect();
            HeraldError::validation("provider", "UNKNOWN_PROVIDER", format!("one of {}", known.join(", ")))
        })?;
        if account.is_empty() || account.len() > 200 {
            return Err(HeraldError::validation("account", "INVALID", "the provider account (as in the health view)"));
        }
        let target = ProviderAccount { provider, account: account.to_string() };
        let state = if open { BreakerState::ForcedOpen } else { BreakerState::Closed };
        let previous_state = self.breakers.force(&target, state).await?;
        let mut released = 0;
        if !open {
            for ch in Channel::ALL.into_iter().filter(|c| provider.serves(*c)) {
                released += self.holds.release_or_defer(&HoldKey::Channel(HoldReason::ProviderCircuitOpen, ch)).await?;
            }
        }
        tracing::warn!(account = %target, state = ?state, by = %caller.actor(), "circuit set by an operator");
        let action = if open { "circuit.open" } else { "circuit.close" };
        let detail = json!({"provider": provider, "account": account, "previous_state": previous_state, "reason": reason, "released": released});
        self.audit.record(caller, None, action, detail).await;
        Ok(CircuitChange { provider, account: target.account, state, previous_state, released })
    }

    /// `GET /v1/admin/tenants/{id}/budget`.
    pub async fn budget(&self, caller: &Caller, id: &str) -> Result<Budget, HeraldError> {
        caller.require_admin()?;
        let tenant = self.tenant(id).await?;
        self.budgets.view(&tenant).await
    }

    /// `POST /v1/admin/tenants/{id}/budget/reset`: the day's or the month's spend back to
    /// zero (in the tenant's zone); sends refused for the budget are accepted again.
    pub async fn reset_budget(
        &self,
        caller: &Caller,
        id: &str,
        period: &str,
        reason: Option<&str>,
    ) -> Result<Budget, HeraldError> {
        caller.require_admin()?;
        let reason = require_reason(reason)?;
        let month = match period {
            "day" => false,
            "month" => true,
            _ => return Err(HeraldError::validation("period", "INVALID_PERIOD", "day or month")),
        };
        let tenant = self.tenant(id).await?;
        let before = self.budgets.view(&tenant).await?;
        let current = self.budgets.period(&tenant);
        self.budgets.reset(&tenant, month).await?;
        let spent = if month { before.monthly_spent_cents } else { before.daily_spent_cents };
        let detail = json!({"period": period, "day": current.day, "month": current.month, "spent_cents_before": spent, "reason": reason});
        self.audit.record(caller, Some(&tenant.id), "budget.reset", detail).await;
        tracing::warn!(tenant_id = %tenant.id, period, by = %caller.actor(), "budget reset by an operator");
        self.budgets.view(&tenant).await
    }

    /// `GET /v1/admin/whatsapp/quota?tenant_id=`: one tenant, or every tenant with a quota.
    pub async fn whatsapp_quota(&self, caller: &Caller, tenant: Option<&str>) -> Result<Vec<QuotaView>, HeraldError> {
        caller.require_admin()?;
        let ids = match tenant {
            Some(id) => vec![self.tenant(id).await?.id],
            None => self.quotas.quota_tenants().await?,
        };
        let now = self.clock.now();
        let mut out = Vec::new();
        for id in ids {
            let Some(q) = self.quotas.quota(&id).await? else { continue };
            let percent =
                if q.limit == 0 { 100.0 } else { (f64::from(q.sent) * 1000.0 / f64::from(q.limit)).round() / 10.0 };
            out.push(QuotaView {
                tenant_id: q.tenant_id,
                used: q.sent,
                limit: q.limit,
                percent,
                throttled: q.sent >= q.limit || q.throttle_until.is_some_and(|t| t > now),
                reset_at: q.reset_at,
                throttle_until: q.throttle_until,
            });
        }
        Ok(out)
    }
}

impl Operations {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
        breakers: Arc<Breakers>,
    ) -> Self {
        Operations {
            tenants: a.config.clone(),
            budgets: sh.budgets.clone(),
            quotas: a.db.clone(),
            messages: a.db.clone(),
            work: a.db.clone(),
            queue: a.queues.clone(),
            breakers,
            holds: sh.holds.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
        }
    }
}
