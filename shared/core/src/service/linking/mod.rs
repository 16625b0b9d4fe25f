//! Telnyx number linking with self-healing recovery (the linking runbook as a system).
mod attempt;

use super::policy::Holds;
use super::support::{channel_secrets, Audit, JobReport};
use super::{Caller, HeraldError};
use crate::address::mask_phone;
use crate::linking::*;
use crate::ports::{Alerts, ChannelStore, Clock, LinkingStore, NumberStore, SecretStore, TelnyxNumbers};
use crate::tenant::{SendingNumber, Tenant};
use crate::{Channel, Provider};
use chrono::Duration;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const CLAIM_SECS: i64 = 120;
const JOB_BATCH_SIZE: u32 = 10;

/// One structured log line per step, with the runbook's fields.
pub(crate) fn step(
    state: &LinkingState,
    step: &str,
    result: &str,
    started: Instant,
    method: Option<LinkMethod>,
    detail: Option<&str>,
) {
    tracing::info!(
        tag = "TELNYX_LINKING",
        step,
        result,
        duration_ms = started.elapsed().as_millis() as u64,
        tenant_id = %state.tenant_id,
        phone_number = %mask_phone(&state.phone_number),
        messaging_profile_id = %state.messaging_profile_id,
        method = ?method,
        detail = detail.unwrap_or(""),
        "linking step"
    );
}

pub struct LinkingSettings {
    pub retry_delays: Vec<std::time::Duration>,
    pub search_delays: Vec<std::time::Duration>,
}

pub struct Linking {
    pub(crate) linking: Arc<dyn LinkingStore>,
    pub(crate) telnyx: Arc<dyn TelnyxNumbers>,
    pub(crate) alerts: Arc<dyn Alerts>,
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: LinkingSettings,
    /// Purchases in flight, claimed per tenant (`buy#+1…`).
    pub(crate) claims: Arc<dyn crate::ports::WhatsappIndex>,
}

impl Linking {
    /// `POST /v1/numbers` for Telnyx: validate, order when asked, register, link now.
    pub async fn add_telnyx_number(
        &self,
        tenant: &Tenant,
        (phone, area_code): (Option<&serde_json::Value>, Option<&str>),
        profile: Option<&serde_json::Value>,
        purchase: bool,
        daily_cap: Option<u32>,
    ) -> Result<(SendingNumber, LinkingState), HeraldError> {
        let cfg = self.channels.effective_channel(&tenant.id, Channel::Sms).await?;
        if !purchase && cfg.as_ref().is_some_and(|c| c.tenant_id.is_platform()) {
            let message =
                "numbers of the platform's account are bought through Herald: POST /v1/numbers with purchase: true";
            return Err(HeraldError::NumberNotInAccount(message.into()));
        }
        let secrets = match cfg {
            Some(cfg) => channel_secrets(self.secrets.as_ref(), &cfg).await?,
            None => Default::default(),
        };
        let creds = self.telnyx.access(&secrets);
        let fallback_profile =
            creds.as_ref().and_then(|c| c.messaging_profile_id.clone()).map(serde_json::Value::String);
        let profile = profile.filter(|p| !p.is_null()).or(fallback_profile.as_ref());
        let found = match (phone.filter(|p| !p.is_null()), area_code, &creds) {
            (None, Some(area), Some(c)) if purchase => Some(self.available(&c.api_key, area).await?),
            _ => None,
        };
        let phone = found.as_ref().or(phone);
        let (e164, profile) =
            validate(phone, profile).map_err(|(field, code, message)| HeraldError::validation(field, code, message))?;
        let creds = creds.ok_or(HeraldError::ChannelNotConfigured(Channel::Sms))?;
        // Ownership: a number ordered now with the tenant's key is theirs; any other must be
        // found in their Telnyx account by the search (retried while a new number is indexed).
        // Proved before the claim is looked at: another tenant's number answers exactly as
        // any number outside the account does, so registration reveals no one's numbers.
        let number_id = match purchase {
            true => self.buy(tenant, &creds.api_key, &e164, &profile).await?,
            false => Some(self.find_in_account(tenant, &e164, &profile, &creds.api_key).await?),
        };
        if self.numbers.number(&e164).await?.is_some_and(|n| n.tenant_id != tenant.id) {
            return Err(crate::service::tenancy::claimed());
        }
        let now = self.clock.now();
        let number = SendingNumber {
            tenant_id: tenant.id.clone(),
            phone_number: e164.clone(),
            provider: Provider::Telnyx,
            messaging_profile_id: Some(profile.clone()),
            daily_cap,
            created_at: now,
        };
        self.numbers.save_number(&number).await.map_err(|e| match e {
            crate::ports::StoreError::Conflict => crate::service::tenancy::claimed(),
            other => other.into(),
        })?;
        let state = match self.linking.linking(&e164).await? {
            Some(s) if s.status == LinkStatus::Linked && s.messaging_profile_id == profile => s,
            existing => {
                let s = self.start_linking(tenant, &e164, profile, existing.map(|e| e.version), number_id).await?;
                self.attempt_link(s, &creds.api_key, false).await?
            }
        };
        Ok((number, state))
    }

    /// A number for sale in the area code (`purchase: true` with `area_code`).
    async fn available(&self, api_key: &str, area: &str) -> Result<serde_json::Value, HeraldError> {
        match self.telnyx.available(api_key, area).await {
            Ok(Some(n)) => Ok(serde_json::Value::String(n)),
            Ok(None) => Err(HeraldError::validation(
                "area_code",
                "NO_NUMBER_AVAILABLE",
                format!("no number is available in area code {area}; try a neighbouring one"),
            )),
            Err(e) => Err(HeraldError::Unavailable(format!("telnyx: number search failed: {}", e.detail))),
        }
    }

    /// `purchase: true`: the number is claimed for the tenant, then ordered. A retry after an
    /// order whose answer was lost does not order again: it finds the number in the account
    /// (its id, for linking). A sure refusal gives the claim up.
    async fn buy(
        &self,
        tenant: &Tenant,
        api_key: &str,
        e164: &str,
        profile: &str,
    ) -> Result<Option<String>, HeraldError> {
        if self.numbers.number(e164).await?.is_some_and(|n| n.tenant_id != tenant.id) {
            return Err(crate::service::tenancy::claimed());
        }
        let key = format!("buy#{e164}");
        match self.claims.claim(&tenant.id, &key).await {
            Ok(true) => {}
            Ok(false) => return self.find_in_account(tenant, e164, profile, api_key).await.map(Some),
            Err(crate::ports::StoreError::Conflict) => return Err(crate::service::tenancy::claimed()),
            Err(e) => return Err(e.into()),
        }
        match self.order(api_key, e164, profile).await {
            Ok(()) => Ok(None),
            Err((e, true)) => Err(e),
            Err((e, false)) => {
                self.claims.release(&tenant.id, &key).await?;
                Err(e)
            }
        }
    }

    /// Orders the number from Telnyx; an error says whether its outcome is unknown.
    async fn order(&self, api_key: &str, e164: &str, profile: &str) -> Result<(), (HeraldError, bool)> {
        let started = Instant::now();
        let Err(e) = self.telnyx.order(api_key, e164, profile).await else { return Ok(()) };
        let unknown = e.status.is_none();
        let category = LinkErrorCategory::from_status(e.status);
        tracing::warn!(
            tag = "TELNYX_LINKING",
            step = "number_order",
            result = "failure",
            duration_ms = started.elapsed().as_millis() as u64,
            category = category.as_str(),
            "number order failed"
        );
        let message = match unknown {
            true => format!("the order of {} got no answer and may have gone through; retry the same request (it is not ordered twice)", mask_phone(e164)),
            false => format!("{}: number order failed: {}", category.as_str(), e.detail),
        };
        Err((HeraldError::Unavailable(message), unknown))
    }

    /// A fresh pending state, claimed for the attempt that follows at once.
    async fn start_linking(
        &self,
        tenant: &Tenant,
        e164: &str,
        profile: String,
        previous_version: Option<u64>,
        number_id: Option<String>,
    ) -> Result<LinkingState, HeraldError> {
        let mut s = draft_state(tenant, e164, profile, self.clock.now());
        s.number_id = number_id;
        s.version = previous_version.map_or(1, |v| v + 1);
        if !self.linking.save_linking(&s).await? {
            return Err(HeraldError::Conflict("linking for this number is being changed concurrently".into()));
        }
        Ok(s)
    }

    /// The number's Telnyx id when the tenant's account has it; else `NUMBER_NOT_IN_ACCOUNT`.
    async fn find_in_account(
        &self,
        tenant: &Tenant,
        e164: &str,
        profile: &str,
        api_key: &str,
    ) -> Result<String, HeraldError> {
        let probe = draft_state(tenant, e164, profile.to_string(), self.clock.now());
        match self.find_number(&probe, api_key).await {
            Ok(id) => Ok(id),
            Err(e) if e.category == LinkErrorCategory::NotFound => {
                Err(HeraldError::NumberNotInAccount(format!("{} is not in this Telnyx account", mask_phone(e164))))
            }
            Err(e) => Err(HeraldError::Unavailable(format!("{}: {}", e.category.as_str(), e.detail))),
        }
    }
}

/// A pending linking state for a number, not yet stored.
fn draft_state(tenant: &Tenant, e164: &str, profile: String, now: chrono::DateTime<chrono::Utc>) -> LinkingState {
    LinkingState {
        tenant_id: tenant.id.clone(),
        phone_number: e164.to_string(),
        messaging_profile_id: profile,
        status: LinkStatus::Pending,
        method: None,
        number_id: None,
        last_attempt: None,
        retry_count: 0,
        error: None,
        next_attempt_at: Some(now),
        claimed_until: Some(now + Duration::seconds(CLAIM_SECS)),
        alerted: false,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

impl Linking {
    /// Claims a linking state for one attempt (a conditional write: overlapping runs skip it).
    async fn claim_linking(&self, e164: &str, reset: bool) -> Result<Option<LinkingState>, HeraldError> {
        let Some(mut st) = self.linking.linking(e164).await? else { return Ok(None) };
        let now = self.clock.now();
        if st.claimed_until.is_some_and(|c| c > now) {
            return Ok(None);
        }
        if reset {
            st.retry_count = 0;
            st.alerted = false;
        } else if !(st.can_retry() && st.next_attempt_at.is_some_and(|n| n <= now)) {
            return Ok(None);
        }
        st.claimed_until = Some(now + Duration::seconds(CLAIM_SECS));
        st.version += 1;
        Ok(self.linking.save_linking(&st).await?.then_some(st))
    }

    async fn telnyx_key(&self, tenant: &crate::TenantId) -> Result<Option<String>, HeraldError> {
        let Some(cfg) = self.channels.effective_channel(tenant, Channel::Sms).await? else { return Ok(None) };
        Ok(self.telnyx.access(&channel_secrets(self.secrets.as_ref(), &cfg).await?).map(|t| t.api_key))
    }

    /// `linking-recovery`: up to BATCH_SIZE due numbers, each claimed before it is tried.
    pub async fn run_linking_recovery(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "linking-recovery".into(), ..Default::default() };
        for e164 in self.linking.due_linkings(self.clock.now(), JOB_BATCH_SIZE).await? {
            report.examined += 1;
            let Some(st) = self.claim_linking(&e164, false).await? else { continue };
            let Some(key) = self.telnyx_key(&st.tenant_id).await? else { continue };
            let st = self.attempt_link(st, &key, true).await?;
            if st.status == LinkStatus::Linked {
                report.released += 1;
            } else {
                report.errors += 1;
            }
            report.details.push(json!({"phone_number": mask_phone(&st.phone_number), "status": st.status, "retry_count": st.retry_count, "can_retry": st.can_retry()}));
        }
        // The runbook's "pending linkings > 10": numbers in `pending` now, read from the
        // status index (up to 1,000: the alarm needs to know it is above 10, not how far).
        match self.linking.linkings_by_status(LinkStatus::Pending, 1000).await {
            Ok(pending) => crate::metrics::emit("linking_pending", pending.len() as f64, &[]),
            Err(e) => tracing::warn!(error = %e, "could not count pending linkings"),
        }
        crate::metrics::emit("linking_job_success", 1.0, &[]);
        Ok(report)
    }

    pub async fn linking_status(&self, caller: &Caller, e164: &str) -> Result<LinkingState, HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        match self.linking.linking(e164.trim()).await? {
            Some(s) if s.tenant_id == tenant.id => Ok(s),
            _ => Err(HeraldError::NotFound),
        }
    }

    /// Manual retry: resets the retry count and tries now.
    pub async fn retry_linking(&self, caller: &Caller, e164: &str) -> Result<LinkingState, HeraldError> {
        caller.require_live()?;
        let current = self.linking_status(caller, e164).await?;
        if current.status == LinkStatus::Linked {
            return Ok(current);
        }
        let st = self
            .claim_linking(&current.phone_number, true)
            .await?
            .ok_or_else(|| HeraldError::Conflict("a linking attempt is in progress".into()))?;
        let key = self.telnyx_key(&st.tenant_id).await?.ok_or(HeraldError::ChannelNotConfigured(Channel::Sms))?;
        self.audit
            .record(caller, Some(&st.tenant_id), "linking.retry", json!({"phone_number": mask_phone(&st.phone_number)}))
            .await;
        self.attempt_link(st, &key, false).await
    }

    pub async fn linkings(&self, caller: &Caller, status: LinkStatus) -> Result<Vec<LinkingState>, HeraldError> {
        caller.require_admin()?;
        Ok(self.linking.linkings_by_status(status, 500).await?)
    }
}

impl Linking {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        Linking {
            linking: a.db.clone(),
            telnyx: a.telnyx_numbers.clone(),
            alerts: a.alerts.clone(),
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            holds: sh.holds.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
            claims: a.db.clone(),
            settings: LinkingSettings {
                retry_delays: s.linking_retry_delays.clone(),
                search_delays: s.linking_search_delays.clone(),
            },
        }
    }
}
