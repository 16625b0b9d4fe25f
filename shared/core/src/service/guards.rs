//! The send policy: guards that refuse at the API with a clear code, or hold a message
//! visibly and release it later. Never a silent drop.
use super::{Caller, Herald, HeraldError, JobReport};
use crate::address::Address;
use crate::channel::Channel;
use crate::guards::{BudgetPeriod, DncEntry, QuotaState};
use crate::ids::{MessageId, TenantId};
use crate::message::{hold_key_channel, hold_key_tenant, HoldReason, Message, Priority};
use crate::ports::Page;
use crate::quiet;
use crate::status::Status;
use crate::tenant::{Pause, Tenant};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use std::time::Instant;

/// What the send policy decided for a message about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Gate {
    Hold { reason: HoldReason, until: Option<DateTime<Utc>>, status: Status },
    Suppress,
}

#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub daily_spent_cents: i64,
    pub daily_budget_cents: Option<u64>,
    pub monthly_spent_cents: i64,
    pub monthly_budget_cents: Option<u64>,
    pub day: String,
    pub month: String,
}

const RELEASE_PAGE: u32 = 200;

pub fn feature_for(channel: Channel) -> String {
    format!("{channel}_sending")
}

fn tz(t: &Tenant) -> chrono_tz::Tz {
    t.timezone.parse().unwrap_or(chrono_tz::UTC)
}

impl Herald {
    /// The tenant as this container last saw it, at most `pause_recheck` old.
    pub(crate) async fn tenant_recent(&self, id: &TenantId) -> Result<Option<Tenant>, HeraldError> {
        if let Some((t, at)) = self.tenant_cache.lock().unwrap().get(id) {
            if at.elapsed() < self.settings.pause_recheck {
                return Ok(Some(t.clone()));
            }
        }
        let t = self.ports.tenants.tenant(id).await?;
        if let Some(t) = &t {
            self.tenant_cache.lock().unwrap().insert(id.clone(), (t.clone(), Instant::now()));
        }
        Ok(t)
    }

    pub(crate) fn forget_tenant(&self, id: &TenantId) {
        self.tenant_cache.lock().unwrap().remove(id);
    }

    pub async fn channel_enabled(&self, channel: Channel) -> Result<bool, HeraldError> {
        let cached = self
            .feature_cache
            .lock()
            .unwrap()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.settings.pause_recheck)
            .map(|(f, _)| f.clone());
        let features = match cached {
            Some(f) => f,
            None => {
                let f = self.ports.guards.features().await?;
                *self.feature_cache.lock().unwrap() = Some((f.clone(), Instant::now()));
                f
            }
        };
        Ok(features.get(&feature_for(channel)).copied().unwrap_or(true))
    }

    pub(crate) fn budget_period(&self, tenant: &Tenant) -> BudgetPeriod {
        let local = self.now().with_timezone(&tz(tenant));
        BudgetPeriod { month: local.format("%Y-%m").to_string(), day: local.format("%Y-%m-%d").to_string() }
    }

    /// Fixed one-minute windows: `429` with the seconds left in the window.
    pub(crate) async fn check_rate(&self, tenant: &Tenant) -> Result<(), HeraldError> {
        let Some(limit) = tenant.rate_limit_per_minute else { return Ok(()) };
        let now = self.now();
        let window = now.format("%Y-%m-%dT%H:%M").to_string();
        if self.ports.guards.take_rate(&tenant.id, &window, limit, now.timestamp() + 120).await? {
            return Ok(());
        }
        let retry_after_secs = 60 - u64::from(chrono::Timelike::second(&now)).min(59);
        Err(HeraldError::RateLimited { limit, retry_after_secs })
    }

    /// The do-not-contact entry that blocks `to` on `channel`, if any (a phone entry blocks
    /// SMS and WhatsApp alike).
    pub(crate) async fn blocked(&self, tenant: &TenantId, to: &str) -> Result<Option<DncEntry>, HeraldError> {
        Ok(self.ports.guards.dnc(tenant, to).await?)
    }

    /// Reserves the estimated cost in one conditional update; `402` when it does not fit.
    pub(crate) async fn reserve(&self, tenant: &Tenant, cost: u64) -> Result<Option<BudgetPeriod>, HeraldError> {
        if cost == 0 {
            return Ok(None);
        }
        let period = self.budget_period(tenant);
        if self
            .ports
            .guards
            .reserve_budget(&tenant.id, &period, cost, tenant.daily_budget_cents, tenant.monthly_budget_cents)
            .await?
        {
            Ok(Some(period))
        } else {
            Err(HeraldError::BudgetExceeded(format!(
                "an estimated {cost} cents does not fit the remaining daily or monthly budget"
            )))
        }
    }

    /// Gives back what a message reserved (permanent failure, suppression, cancel).
    pub(crate) async fn release_reservation(&self, msg: &Message, reserved: u64) {
        let Some(period) = &msg.budget_period else { return };
        if reserved == 0 {
            return;
        }
        if let Err(e) = self.ports.guards.adjust_budget(&msg.tenant_id, period, -(reserved as i64)).await {
            tracing::error!(message_id = %msg.id, error = %e, "budget release failed");
        }
    }

    pub(crate) fn quiet_until(&self, tenant: &Tenant, msg: &Message, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if msg.channel == Channel::Email || msg.priority == Priority::Urgent {
            return None;
        }
        let q = tenant.quiet_hours.as_ref()?;
        let region = crate::address::E164::from_stored(msg.to.clone()).region();
        let zone = quiet::recipient_zone(msg.recipient_timezone.as_deref(), region.as_deref(), &tenant.timezone);
        quiet::quiet_until(now, zone, q)
    }

    /// Guards checked again just before a send, with the freshest data this container has.
    pub(crate) async fn send_gate(&self, msg: &Message) -> Result<Option<Gate>, HeraldError> {
        let Some(tenant) = self.tenant_recent(&msg.tenant_id).await? else { return Ok(Some(Gate::Suppress)) };
        if tenant.paused.is_some() {
            return Ok(Some(Gate::Hold { reason: HoldReason::TenantPaused, until: None, status: Status::Queued }));
        }
        if !self.channel_enabled(msg.channel).await? {
            return Ok(Some(Gate::Hold { reason: HoldReason::ChannelDisabled, until: None, status: Status::Queued }));
        }
        if !msg.notes.iter().any(|n| n == NOTE_DNC_BYPASS) && self.blocked(&msg.tenant_id, &msg.to).await?.is_some() {
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
    pub(crate) async fn warmup_gate(&self, msg: &Message, from: &str) -> Result<Option<Gate>, HeraldError> {
        let Some(number) = self.ports.tenants.number(from).await? else { return Ok(None) };
        let Some(cap) = number.daily_cap else { return Ok(None) };
        let Some(tenant) = self.tenant_recent(&msg.tenant_id).await? else { return Ok(None) };
        let now = self.now();
        let zone = tz(&tenant);
        if self.ports.guards.take_warmup(from, &quiet::local_date(now, zone), cap, now.timestamp() + 3 * 86400).await? {
            return Ok(None);
        }
        tracing::info!(message_id = %msg.id, "warmup cap reached for the sending number; deferred to tomorrow");
        Ok(Some(Gate::Hold {
            reason: HoldReason::WarmupCap,
            until: Some(quiet::next_local_midnight(now, zone)),
            status: Status::Deferred,
        }))
    }

    /// WhatsApp daily quota: above 90 % only urgent messages pass, at 100 % none do.
    pub(crate) async fn quota_gate(&self, msg: &Message, limit: u32) -> Result<Option<Gate>, HeraldError> {
        let now = self.now();
        let state = self.current_quota(&msg.tenant_id, limit, now).await?;
        let soft = ((u64::from(limit) * 9).div_ceil(10)) as u32;
        let below = if msg.priority == Priority::Urgent { limit } else { soft };
        match self.ports.guards.take_quota(&msg.tenant_id, below).await? {
            Some(sent) => {
                let before = u64::from(sent - 1) * 100 / u64::from(limit.max(1));
                let after = u64::from(sent) * 100 / u64::from(limit.max(1));
                for threshold in [70u64, 85, 95] {
                    if before < threshold && after >= threshold {
                        tracing::warn!(tenant_id = %msg.tenant_id, threshold, sent, limit, "whatsapp quota threshold crossed");
                        crate::metrics::emit(
                            "whatsapp_quota_threshold",
                            threshold as f64,
                            &[("tenant_id", msg.tenant_id.as_str())],
                        );
                    }
                }
                Ok(None)
            }
            None => {
                tracing::info!(message_id = %msg.id, sent = state.sent, limit, "whatsapp quota reached; deferred until reset");
                Ok(Some(Gate::Hold {
                    reason: HoldReason::QuotaExceeded,
                    until: Some(state.reset_at),
                    status: Status::Deferred,
                }))
            }
        }
    }

    async fn current_quota(
        &self,
        tenant_id: &TenantId,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<QuotaState, HeraldError> {
        let existing = self.ports.guards.quota(tenant_id).await?;
        match existing {
            Some(s) if s.reset_at > now && s.limit == limit => Ok(s),
            other => {
                // A missed reset never blocks: the period rolls on first use after reset_at.
                let tenant = self.tenant_recent(tenant_id).await?;
                let zone = tenant.as_ref().map(tz).unwrap_or(chrono_tz::UTC);
                let keep_sent = other.as_ref().filter(|s| s.reset_at > now).map(|s| s.sent).unwrap_or(0);
                let reset_at = other
                    .as_ref()
                    .filter(|s| s.reset_at > now)
                    .map(|s| s.reset_at)
                    .unwrap_or_else(|| quiet::next_local_midnight(now, zone));
                let state =
                    QuotaState { tenant_id: tenant_id.clone(), sent: keep_sent, limit, reset_at, throttle_until: None };
                self.ports.guards.roll_quota(&state, other.map(|s| s.reset_at)).await?;
                Ok(self.ports.guards.quota(tenant_id).await?.unwrap_or(state))
            }
        }
    }

    /// Applies a gate's decision to the message; it leaves the queue and waits in DynamoDB.
    pub(crate) async fn apply_gate(&self, msg: &Message, gate: Gate) -> Result<(), HeraldError> {
        let now = self.now();
        let generation = msg.generation;
        let mut released = 0u64;
        let updated = self
            .update_message(&msg.id, |m| {
                if m.generation != generation || !m.status.is_pending() {
                    return false;
                }
                match &gate {
                    Gate::Hold { reason, until, status } => m.hold(*reason, *until, *status, now),
                    Gate::Suppress => {
                        m.hold_reason = None;
                        m.due_at = None;
                        m.error_code = Some(crate::ErrorCode::RecipientOptedOut);
                        m.error_message =
                            Some("the recipient was added to the do-not-contact list after acceptance".into());
                        released = m.reserved_cents;
                        m.reserved_cents = 0;
                        m.set_status(Status::Suppressed, now);
                    }
                }
                true
            })
            .await?;
        if let Some(m) = updated {
            tracing::info!(message_id = %m.id, status = %m.status, hold_reason = ?m.hold_reason, deferred_until = ?m.deferred_until, "message held by the send policy");
            self.release_reservation(&m, released).await;
            self.notify(&m).await;
        }
        Ok(())
    }

    /// Re-queues, oldest first, the messages waiting under `hold_key`. Returns how many.
    pub async fn release_holds(&self, hold_key: &str, max: u32) -> Result<u32, HeraldError> {
        let mut released = 0;
        while released < max {
            let ids = self.ports.messages.held(hold_key, RELEASE_PAGE.min(max - released)).await?;
            if ids.is_empty() {
                break;
            }
            let mut progressed = false;
            for id in ids {
                if self.release_one(&id, hold_key).await? {
                    released += 1;
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(released)
    }

    async fn release_one(&self, id: &MessageId, hold_key: &str) -> Result<bool, HeraldError> {
        let now = self.now();
        let grace = Duration::from_std(self.settings.enqueue_grace).unwrap_or_default();
        let m = self
            .update_message(id, |m| {
                if m.hold_key().as_deref() != Some(hold_key) {
                    return false;
                }
                m.requeue(now);
                m.due_at = Some(now + grace);
                true
            })
            .await?;
        match m {
            Some(m) if m.status == Status::Queued && m.updated_at == now => {
                self.enqueue(&m).await;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Releases now what fits in one call and leaves the rest to the dispatch job.
    async fn release_or_defer(&self, hold_key: &str) -> Result<u32, HeraldError> {
        let n = self.release_holds(hold_key, RELEASE_PAGE).await?;
        if n >= RELEASE_PAGE {
            self.ports.guards.set_pending_release(hold_key, true).await?;
        }
        Ok(n)
    }

    pub(crate) async fn continue_releases(&self, report: &mut JobReport) -> Result<(), HeraldError> {
        for key in self.ports.guards.pending_releases().await? {
            let n = self.release_holds(&key, 2000).await?;
            report.released += n;
            if n < 2000 {
                self.ports.guards.set_pending_release(&key, false).await?;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ kill switch

    async fn target_tenant(&self, caller: &Caller, id: Option<&str>) -> Result<Tenant, HeraldError> {
        match (caller, id) {
            (Caller::Admin, Some(id)) => self.tenant_by_id(caller, id).await,
            (Caller::Tenant { tenant, .. }, None) => {
                self.ports.tenants.tenant(&tenant.id).await?.ok_or(HeraldError::NotFound)
            }
            _ => Err(HeraldError::Forbidden),
        }
    }

    /// Kill switch: nothing of the tenant reaches a provider within `pause_recheck`.
    pub async fn pause(&self, caller: &Caller, id: Option<&str>, reason: String) -> Result<Tenant, HeraldError> {
        let mut t = self.target_tenant(caller, id).await?;
        if reason.trim().is_empty() || reason.len() > 500 {
            return Err(HeraldError::validation("reason", "REQUIRED", "a reason (up to 500 characters) is required"));
        }
        t.paused = Some(Pause { reason: reason.clone(), at: self.now(), by: caller.actor() });
        t.updated_at = self.now();
        self.ports.tenants.save_tenant(&t).await?;
        self.forget_tenant(&t.id);
        tracing::warn!(tenant_id = %t.id, by = %caller.actor(), "tenant paused");
        self.audit(caller, Some(&t.id), "tenant.pause", json!({"reason": reason})).await;
        Ok(t)
    }

    pub async fn resume(&self, caller: &Caller, id: Option<&str>) -> Result<(Tenant, u32), HeraldError> {
        let mut t = self.target_tenant(caller, id).await?;
        t.paused = None;
        t.updated_at = self.now();
        self.ports.tenants.save_tenant(&t).await?;
        self.forget_tenant(&t.id);
        let released = self.release_or_defer(&hold_key_tenant(HoldReason::TenantPaused, &t.id)).await?;
        tracing::warn!(tenant_id = %t.id, by = %caller.actor(), released, "tenant resumed");
        self.audit(caller, Some(&t.id), "tenant.resume", json!({"released": released})).await;
        Ok((t, released))
    }

    // ------------------------------------------------------------------ do-not-contact

    fn dnc_address(tenant: &Tenant, raw: &str) -> Result<String, HeraldError> {
        Address::parse(raw, tenant.default_country.as_deref()).map(|a| a.as_str().to_string()).map_err(|_| {
            HeraldError::validation(
                "address",
                "INVALID_PHONE_NUMBER_FORMAT",
                "not a valid phone number or email address",
            )
        })
    }

    pub async fn dnc_put(&self, caller: &Caller, raw: &str, reason: Option<String>) -> Result<DncEntry, HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        let address = Self::dnc_address(tenant, raw)?;
        self.add_dnc(&tenant.id, &address, reason.unwrap_or_else(|| "MANUAL".into()), "api").await
    }

    pub async fn add_dnc(
        &self,
        tenant: &TenantId,
        address: &str,
        reason: String,
        source: &str,
    ) -> Result<DncEntry, HeraldError> {
        let entry = DncEntry {
            tenant_id: tenant.clone(),
            address: address.to_string(),
            reason,
            source: source.into(),
            created_at: self.now(),
        };
        self.ports.guards.put_dnc(&entry).await?;
        tracing::info!(tenant_id = %tenant, source, "address added to do-not-contact");
        Ok(entry)
    }

    pub async fn dnc_get(&self, caller: &Caller, raw: &str) -> Result<DncEntry, HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        let address = Self::dnc_address(tenant, raw).map_err(|_| HeraldError::NotFound)?;
        self.ports.guards.dnc(&tenant.id, &address).await?.ok_or(HeraldError::NotFound)
    }

    pub async fn dnc_delete(&self, caller: &Caller, raw: &str) -> Result<(), HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        let address = Self::dnc_address(tenant, raw).map_err(|_| HeraldError::NotFound)?;
        if !self.ports.guards.delete_dnc(&tenant.id, &address).await? {
            return Err(HeraldError::NotFound);
        }
        Ok(())
    }

    pub async fn dnc_list(
        &self,
        caller: &Caller,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<DncEntry>, HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        Ok(self.ports.guards.list_dnc(&tenant.id, limit, cursor).await?)
    }

    // ------------------------------------------------------------------ budgets, features, windows

    pub async fn budget(&self, caller: &Caller) -> Result<Budget, HeraldError> {
        let tenant = self.own_tenant(caller).await?;
        let period = self.budget_period(&tenant);
        let spend = self.ports.guards.spend(&tenant.id, &period).await?;
        Ok(Budget {
            daily_spent_cents: spend.daily_spent_cents,
            daily_budget_cents: tenant.daily_budget_cents,
            monthly_spent_cents: spend.monthly_spent_cents,
            monthly_budget_cents: tenant.monthly_budget_cents,
            day: period.day,
            month: period.month,
        })
    }

    pub async fn features(&self, caller: &Caller) -> Result<std::collections::BTreeMap<String, bool>, HeraldError> {
        if !matches!(caller, Caller::Admin) {
            return Err(HeraldError::Forbidden);
        }
        let mut all: std::collections::BTreeMap<String, bool> =
            Channel::ALL.iter().map(|c| (feature_for(*c), true)).collect();
        all.extend(self.ports.guards.features().await?);
        Ok(all)
    }

    /// Channel kill flags. Re-enabling releases what the flag held.
    pub async fn set_feature(&self, caller: &Caller, name: &str, enabled: bool) -> Result<u32, HeraldError> {
        if !matches!(caller, Caller::Admin) {
            return Err(HeraldError::Forbidden);
        }
        let channel = Channel::ALL.into_iter().find(|c| feature_for(*c) == name);
        if channel.is_none() {
            return Err(HeraldError::validation(
                "feature",
                "UNKNOWN_FEATURE",
                format!("known features: {}", Channel::ALL.map(feature_for).join(", ")),
            ));
        }
        self.ports.guards.set_feature(name, enabled).await?;
        *self.feature_cache.lock().unwrap() = None;
        self.audit(caller, None, "feature.set", json!({"feature": name, "enabled": enabled})).await;
        tracing::warn!(feature = name, enabled, "feature flag changed");
        match (enabled, channel) {
            (true, Some(ch)) => self.release_or_defer(&hold_key_channel(HoldReason::ChannelDisabled, ch)).await,
            _ => Ok(0),
        }
    }

    /// Records an inbound WhatsApp message from `phone`, opening the 24 h window.
    pub async fn open_whatsapp_window(
        &self,
        tenant: &TenantId,
        phone: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HeraldError> {
        Ok(self.ports.guards.open_whatsapp_window(tenant, phone, at).await?)
    }

    pub(crate) async fn whatsapp_window_open(&self, tenant: &TenantId, phone: &str) -> Result<bool, HeraldError> {
        let last = self.ports.guards.whatsapp_window(tenant, phone).await?;
        Ok(last.is_some_and(|at| self.now() - at < Duration::hours(24)))
    }

    // ------------------------------------------------------------------ cancel and jobs

    pub async fn cancel(&self, caller: &Caller, id: &str) -> Result<Message, HeraldError> {
        let msg = self.message(caller, id).await?;
        let now = self.now();
        let mut released = 0;
        let updated = self
            .update_message(&msg.id, |m| {
                if !m.status.is_pending() {
                    return false;
                }
                released = m.reserved_cents;
                m.reserved_cents = 0;
                m.hold_reason = None;
                m.due_at = None;
                m.set_status(Status::Canceled, now);
                true
            })
            .await?
            .ok_or(HeraldError::NotFound)?;
        if updated.status != Status::Canceled {
            return Err(HeraldError::Conflict(format!(
                "the message is {} and can no longer be canceled",
                updated.status
            )));
        }
        self.release_reservation(&updated, released).await;
        self.audit(caller, Some(&updated.tenant_id), "message.cancel", json!({"message_id": updated.id})).await;
        Ok(updated)
    }

    /// `quota-reset`: starts a new WhatsApp quota period for every tenant and releases what
    /// the quota held.
    pub async fn run_quota_reset(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "quota-reset".into(), ..Default::default() };
        let now = self.now();
        for tenant_id in self.ports.guards.quota_tenants().await? {
            report.examined += 1;
            let Some(old) = self.ports.guards.quota(&tenant_id).await? else { continue };
            let zone = self.tenant_recent(&tenant_id).await?.map(|t| tz(&t)).unwrap_or(chrono_tz::UTC);
            let state = QuotaState {
                tenant_id: tenant_id.clone(),
                sent: 0,
                limit: old.limit,
                reset_at: quiet::next_local_midnight(now, zone),
                throttle_until: None,
            };
            self.ports.guards.roll_quota(&state, Some(old.reset_at)).await?;
            let n = self.release_or_defer(&hold_key_tenant(HoldReason::QuotaExceeded, &tenant_id)).await?;
            report.released += n;
            report
                .details
                .push(json!({"tenant_id": tenant_id, "previous_sent": old.sent, "limit": old.limit, "released": n}));
        }
        Ok(report)
    }

    /// `budget-reset`: opens each tenant's new day and month at zero in its own timezone.
    /// Spend is keyed by local date, so a missed run never carries old spend over; the job
    /// makes the new periods visible and reports the closing ones.
    pub async fn run_budget_reset(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "budget-reset".into(), ..Default::default() };
        for tenant in self.ports.tenants.all_tenants().await? {
            report.examined += 1;
            let period = self.budget_period(&tenant);
            self.ports.guards.adjust_budget(&tenant.id, &period, 0).await?;
            let spend = self.ports.guards.spend(&tenant.id, &period).await?;
            report.details.push(json!({"tenant_id": tenant.id, "day": period.day, "month": period.month, "daily_spent_cents": spend.daily_spent_cents, "monthly_spent_cents": spend.monthly_spent_cents}));
        }
        Ok(report)
    }
}

/// Marks the one message allowed past the do-not-contact list: an opt-out confirmation.
pub const NOTE_DNC_BYPASS: &str = "dnc_bypass:opt_out_confirmation";
