//! Guards checked again just before a send, with the freshest data this container has.
use super::{tz, Policy};
use crate::guards::{DncEntry, QuotaState};
use crate::ids::TenantId;
use crate::message::{HoldReason, Message, Priority};
use crate::quiet;
use crate::service::HeraldError;
use crate::status::Status;
use chrono::{DateTime, Utc};

/// What the send policy decided for a message about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Hold { reason: HoldReason, until: Option<DateTime<Utc>>, status: Status },
    Suppress,
}

impl Gate {
    fn held(reason: HoldReason) -> Option<Gate> {
        Some(Gate::Hold { reason, until: None, status: Status::Queued })
    }
}

/// Marks the one message allowed past the do-not-contact list: an opt-out confirmation.
pub const NOTE_DNC_BYPASS: &str = "dnc_bypass:opt_out_confirmation";

impl Policy {
    /// Pause, channel flag, do-not-contact and quiet hours.
    /// `dnc`: the recipient's do-not-contact entry when the caller read it already.
    pub async fn send_gate(&self, msg: &Message, dnc: Option<Option<DncEntry>>) -> Result<Option<Gate>, HeraldError> {
        let Some(tenant) = self.tenant_recent(&msg.tenant_id).await? else { return Ok(Some(Gate::Suppress)) };
        if tenant.paused.is_some() {
            return Ok(Gate::held(HoldReason::TenantPaused));
        }
        if !self.channel_enabled(msg.channel).await? {
            return Ok(Gate::held(HoldReason::ChannelDisabled));
        }
        let bypass = msg.notes.iter().any(|n| n == NOTE_DNC_BYPASS);
        let entry = match dnc {
            _ if bypass => None,
            Some(known) => known,
            None => self.blocked(&msg.tenant_id, &msg.to).await?,
        };
        if entry.is_some() {
            return Ok(Some(Gate::Suppress));
        }
        if let Some(until) = self.quiet_until(&tenant, msg, self.now()) {
            return Ok(Some(Gate::Hold {
                reason: HoldReason::QuietHours,
                until: Some(until),
                status: Status::Deferred,
            }));
        }
        Ok(None)
    }

    /// Per-number daily warmup cap: over it, the message waits for the next local day.
    pub async fn warmup_gate(&self, msg: &Message, from: &str) -> Result<Option<Gate>, HeraldError> {
        let Some(number) = self.numbers.number(from).await? else { return Ok(None) };
        let Some(cap) = number.daily_cap else { return Ok(None) };
        let Some(tenant) = self.tenant_recent(&msg.tenant_id).await? else { return Ok(None) };
        let now = self.now();
        let zone = tz(&tenant);
        let day = quiet::local_date(now, zone);
        if self.counters.take_warmup(from, &day, cap, now.timestamp() + 3 * 86400).await? {
            return Ok(None);
        }
        tracing::info!(message_id = %msg.id, "warmup cap reached for the sending number; deferred to tomorrow");
        let until = Some(quiet::next_local_midnight(now, zone));
        Ok(Some(Gate::Hold { reason: HoldReason::WarmupCap, until, status: Status::Deferred }))
    }

    /// WhatsApp daily quota: above 90 % only urgent messages pass, at 100 % none do.
    pub async fn quota_gate(&self, msg: &Message, limit: u32) -> Result<Option<Gate>, HeraldError> {
        let now = self.now();
        let state = self.current_quota(&msg.tenant_id, limit, now).await?;
        let soft = (u64::from(limit) * 9).div_ceil(10) as u32;
        let below = if msg.priority == Priority::Urgent { limit } else { soft };
        match self.quotas.take_quota(&msg.tenant_id, below).await? {
            Some(sent) => {
                let before = u64::from(sent - 1) * 100 / u64::from(limit.max(1));
                let after = u64::from(sent) * 100 / u64::from(limit.max(1));
                for threshold in [70u64, 85, 90, 95] {
                    if before < threshold && after >= threshold {
                        tracing::warn!(tenant_id = %msg.tenant_id, threshold, sent, limit, "whatsapp quota threshold crossed");
                        let tenant = [("tenant_id", msg.tenant_id.as_str())];
                        crate::metrics::emit("whatsapp_quota_threshold", threshold as f64, &tenant);
                    }
                }
                Ok(None)
            }
            None => {
                tracing::info!(message_id = %msg.id, sent = state.sent, limit, "whatsapp quota reached; deferred until reset");
                let until = Some(state.reset_at);
                Ok(Some(Gate::Hold { reason: HoldReason::QuotaExceeded, until, status: Status::Deferred }))
            }
        }
    }

    async fn current_quota(
        &self,
        tenant_id: &TenantId,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QuotaState, HeraldError> {
        let existing = self.quotas.quota(tenant_id).await?;
        match existing {
            Some(s) if s.reset_at > now && s.limit == limit => Ok(s),
            other => {
                // A missed reset never blocks: the period rolls on first use after reset_at.
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

    /// The tenant's time zone (UTC for an unknown tenant).
    pub async fn zone_of(&self, tenant_id: &TenantId) -> Result<chrono_tz::Tz, HeraldError> {
        Ok(self.tenant_recent(tenant_id).await?.as_ref().map(tz).unwrap_or(chrono_tz::UTC))
    }

    /// Starts a new quota period for the tenant (the `quota-reset` job).
    pub async fn reset_quota(&self, tenant_id: &TenantId) -> Result<Option<QuotaState>, HeraldError> {
        let Some(old) = self.quotas.quota(tenant_id).await? else { return Ok(None) };
        let zone = self.zone_of(tenant_id).await?;
        let reset_at = quiet::next_local_midnight(self.now(), zone);
        let state =
            QuotaState { tenant_id: tenant_id.clone(), sent: 0, limit: old.limit, reset_at, throttle_until: None };
        self.quotas.roll_quota(&state, Some(old.reset_at)).await?;
        Ok(Some(old))
    }

    pub async fn quota_tenants(&self) -> Result<Vec<TenantId>, HeraldError> {
        Ok(self.quotas.quota_tenants().await?)
    }
}
