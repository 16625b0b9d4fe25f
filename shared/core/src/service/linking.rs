//! Telnyx number linking with self-healing recovery (the linking runbook as a system).
use super::{Caller, Herald, HeraldError, JobReport};
use crate::address::mask_phone;
use crate::linking::*;
use crate::message::{HoldReason, Message};
use crate::tenant::{SendingNumber, Tenant};
use crate::{Channel, Provider};
use chrono::Duration;
use serde_json::json;
use std::time::Instant;

const CLAIM_SECS: i64 = 120;
const JOB_BATCH_SIZE: u32 = 10;

/// One structured log line per step, with the runbook's fields.
fn step(
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

impl Herald {
    /// `POST /v1/numbers` for Telnyx: validate, order when asked, register, link now.
    pub(crate) async fn add_telnyx_number(
        &self,
        tenant: &Tenant,
        phone: Option<&serde_json::Value>,
        profile: Option<&serde_json::Value>,
        purchase: bool,
        daily_cap: Option<u32>,
    ) -> Result<(SendingNumber, LinkingState), HeraldError> {
        let secrets = match self.ports.tenants.channel(&tenant.id, Channel::Sms).await? {
            Some(cfg) => self.channel_secrets(&cfg).await?,
            None => Default::default(),
        };
        let creds = secrets.telnyx.clone();
        let fallback_profile =
            creds.as_ref().and_then(|c| c.messaging_profile_id.clone()).map(serde_json::Value::String);
        let profile = profile.filter(|p| !p.is_null()).or(fallback_profile.as_ref());
        let (e164, profile) =
            validate(phone, profile).map_err(|(field, code, message)| HeraldError::validation(field, code, message))?;
        let creds = creds.ok_or_else(|| HeraldError::ChannelNotConfigured(Channel::Sms))?;
        if let Some(existing) = self.ports.tenants.number(&e164).await? {
            if existing.tenant_id != tenant.id {
                return Err(HeraldError::Conflict("this number is registered to another tenant".into()));
            }
        }
        if purchase {
            let started = Instant::now();
            if let Err(e) = self.ports.telnyx_numbers.order(&creds.api_key, &e164, &profile).await {
                let category = LinkErrorCategory::from_status(e.status);
                tracing::warn!(
                    tag = "TELNYX_LINKING",
                    step = "number_order",
                    result = "failure",
                    duration_ms = started.elapsed().as_millis() as u64,
                    category = category.as_str(),
                    "number order failed"
                );
                return Err(HeraldError::Unavailable(format!(
                    "{}: number order failed: {}",
                    category.as_str(),
                    e.detail
                )));
            }
        }
        let now = self.now();
        let number = SendingNumber {
            tenant_id: tenant.id.clone(),
            phone_number: e164.clone(),
            provider: Provider::Telnyx,
            messaging_profile_id: Some(profile.clone()),
            daily_cap,
            created_at: now,
        };
        self.ports.tenants.save_number(&number).await.map_err(|e| match e {
            crate::ports::StoreError::Conflict => {
                HeraldError::Conflict("this number is registered to another tenant".into())
            }
            other => other.into(),
        })?;
        let state = match self.ports.linking.linking(&e164).await? {
            Some(s) if s.status == LinkStatus::Linked && s.messaging_profile_id == profile => s,
            existing => {
                let mut s = LinkingState {
                    tenant_id: tenant.id.clone(),
                    phone_number: e164.clone(),
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
                    version: existing.as_ref().map_or(1, |e| e.version + 1),
                    created_at: now,
                    updated_at: now,
                };
                if !self.ports.linking.save_linking(&s).await? {
                    return Err(HeraldError::Conflict("linking for this number is being changed concurrently".into()));
                }
                s = self.attempt_link(s, &creds.api_key, false).await?;
                s
            }
        };
        Ok((number, state))
    }

    /// One linking attempt on a claimed state: search (with 2^n s back-off while the new
    /// number is not indexed), method 1, then method 2 by the number's id.
    async fn attempt_link(
        &self,
        mut st: LinkingState,
        api_key: &str,
        from_job: bool,
    ) -> Result<LinkingState, HeraldError> {
        let started = Instant::now();
        let t = &self.ports.telnyx_numbers;
        step(&st, "start", "ok", started, None, None);
        let mut failure: Option<LinkError> = None;
        let mut number_id = st.number_id.clone();
        if number_id.is_none() {
            let mut delays = self.settings.linking_search_delays.iter();
            loop {
                let s0 = Instant::now();
                match t.find(api_key, &st.phone_number).await {
                    Ok(Some(id)) => {
                        step(&st, "search_phone", "success", s0, None, None);
                        number_id = Some(id);
                        break;
                    }
                    Ok(None) => {
                        step(&st, "search_phone", "not_found", s0, None, None);
                        match delays.next() {
                            Some(d) => tokio::time::sleep(*d).await,
                            None => {
                                failure = Some(LinkError {
                                    category: LinkErrorCategory::NotFound,
                                    detail: "the number is not found by the phone number search yet (not indexed)"
                                        .into(),
                                });
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        step(&st, "search_phone", "failure", s0, None, Some(&e.detail));
                        failure = Some(LinkError {
                            category: LinkErrorCategory::from_status(e.status),
                            detail: format!("search: {}", e.detail),
                        });
                        break;
                    }
                }
            }
        }
        let mut method = None;
        if let Some(id) = &number_id {
            st.number_id = Some(id.clone());
            let s1 = Instant::now();
            match t.link_direct(api_key, id, &st.messaging_profile_id).await {
                Ok(()) => {
                    step(&st, "method_1_direct_update", "success", s1, Some(LinkMethod::Direct), None);
                    method = Some(LinkMethod::Direct);
                }
                Err(e1) => {
                    step(&st, "method_1_direct_update", "failure", s1, Some(LinkMethod::Direct), Some(&e1.detail));
                    let s2 = Instant::now();
                    match t.link_profile(api_key, id, &st.messaging_profile_id).await {
                        Ok(()) => {
                            step(&st, "method_2_profile_update", "success", s2, Some(LinkMethod::Profile), None);
                            method = Some(LinkMethod::Profile);
                        }
                        Err(e2) => {
                            step(
                                &st,
                                "method_2_profile_update",
                                "failure",
                                s2,
                                Some(LinkMethod::Profile),
                                Some(&e2.detail),
                            );
                            failure = Some(LinkError {
                                category: LinkErrorCategory::from_status(e2.status.or(e1.status)),
                                detail: format!("method 1: {}; method 2: {}", e1.detail, e2.detail),
                            });
                        }
                    }
                }
            }
        }
        let now = self.now();
        let duration_ms = started.elapsed().as_millis() as f64;
        st.last_attempt = Some(now);
        st.updated_at = now;
        st.claimed_until = None;
        if from_job {
            st.retry_count += 1;
        }
        crate::metrics::emit("linking_duration_ms", duration_ms, &[]);
        let mut alert = false;
        match method {
            Some(m) => {
                st.status = LinkStatus::Linked;
                st.method = Some(m);
                st.error = None;
                st.next_attempt_at = None;
                let name = if m == LinkMethod::Direct { "direct" } else { "profile" };
                crate::metrics::emit("linking_success", 1.0, &[("linking_method", name)]);
                crate::metrics::emit("linking_method", 1.0, &[("method", name)]);
                crate::metrics::emit("linking_retry_count", f64::from(st.retry_count), &[]);
            }
            None => {
                let err = failure
                    .unwrap_or(LinkError { category: LinkErrorCategory::TelnyxServiceError, detail: "unknown".into() });
                crate::metrics::emit("linking_failure", 1.0, &[("category", err.category.as_str())]);
                st.status = LinkStatus::Failed;
                st.error = Some(err);
                if st.retry_count < MAX_RETRIES {
                    let delay = self
                        .settings
                        .linking_retry_delays
                        .get(st.retry_count as usize)
                        .or(self.settings.linking_retry_delays.last())
                        .copied()
                        .unwrap_or_default();
                    st.next_attempt_at = Some(now + Duration::from_std(delay).unwrap_or_default());
                } else {
                    st.next_attempt_at = None;
                    alert = !st.alerted;
                    st.alerted = true;
                }
            }
        }
        step(&st, "complete", st.status.as_str(), started, st.method, st.error.as_ref().map(|e| e.category.as_str()));
        st.version += 1;
        if !self.ports.linking.save_linking(&st).await? {
            return Err(HeraldError::Conflict("linking state changed during the attempt".into()));
        }
        if alert {
            crate::metrics::emit("linking_max_retries_exceeded", 1.0, &[]);
            let body = json!({"tenant_id": st.tenant_id, "phone_number": st.phone_number, "retry_count": st.retry_count, "last_error": st.error, "action": "manual intervention: POST /v1/numbers/{e164}/linking/retry once fixed"});
            if let Err(e) = self.ports.alerts.alert("Telnyx number linking failed after max retries", &body).await {
                tracing::error!(error = %e, "support alert could not be sent");
            }
            self.audit(&Caller::Admin, Some(&st.tenant_id), "linking.max_retries_exceeded", body).await;
        }
        if st.status == LinkStatus::Linked {
            let released = self.release_holds(&format!("HOLD#NUMBER#{}", st.phone_number), 10_000).await?;
            if released > 0 {
                tracing::info!(phone_number = %mask_phone(&st.phone_number), released, "held messages released after linking");
            }
        }
        Ok(st)
    }

    /// Claims a linking state for one attempt (a conditional write: overlapping runs skip it).
    async fn claim_linking(&self, e164: &str, reset: bool) -> Result<Option<LinkingState>, HeraldError> {
        let Some(mut st) = self.ports.linking.linking(e164).await? else { return Ok(None) };
        let now = self.now();
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
        Ok(self.ports.linking.save_linking(&st).await?.then_some(st))
    }

    async fn telnyx_key(&self, tenant: &crate::TenantId) -> Result<Option<String>, HeraldError> {
        let Some(cfg) = self.ports.tenants.channel(tenant, Channel::Sms).await? else { return Ok(None) };
        Ok(self.channel_secrets(&cfg).await?.telnyx.map(|t| t.api_key))
    }

    /// `linking-recovery`: up to BATCH_SIZE due numbers, each claimed before it is tried.
    pub async fn run_linking_recovery(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "linking-recovery".into(), ..Default::default() };
        for e164 in self.ports.linking.due_linkings(self.now(), JOB_BATCH_SIZE).await? {
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
        crate::metrics::emit("linking_job_success", 1.0, &[]);
        Ok(report)
    }

    pub async fn linking_status(&self, caller: &Caller, e164: &str) -> Result<LinkingState, HeraldError> {
        let Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        match self.ports.linking.linking(e164.trim()).await? {
            Some(s) if s.tenant_id == tenant.id => Ok(s),
            _ => Err(HeraldError::NotFound),
        }
    }

    /// Manual retry: resets the retry count and tries now.
    pub async fn retry_linking(&self, caller: &Caller, e164: &str) -> Result<LinkingState, HeraldError> {
        let current = self.linking_status(caller, e164).await?;
        if current.status == LinkStatus::Linked {
            return Ok(current);
        }
        let st = self
            .claim_linking(&current.phone_number, true)
            .await?
            .ok_or_else(|| HeraldError::Conflict("a linking attempt is in progress".into()))?;
        let key = self.telnyx_key(&st.tenant_id).await?.ok_or(HeraldError::ChannelNotConfigured(Channel::Sms))?;
        self.audit(caller, Some(&st.tenant_id), "linking.retry", json!({"phone_number": mask_phone(&st.phone_number)}))
            .await;
        self.attempt_link(st, &key, false).await
    }

    pub async fn linkings(&self, caller: &Caller, status: LinkStatus) -> Result<Vec<LinkingState>, HeraldError> {
        if !matches!(caller, Caller::Admin) {
            return Err(HeraldError::Forbidden);
        }
        Ok(self.ports.linking.linkings_by_status(status, 500).await?)
    }

    /// Sending from a Telnyx number that is not linked yet would fail at Telnyx: hold it.
    pub(crate) async fn number_gate(
        &self,
        msg: &Message,
        provider: Provider,
        from: Option<&str>,
    ) -> Result<Option<super::guards::Gate>, HeraldError> {
        let (Provider::Telnyx, Some(from)) = (provider, from) else { return Ok(None) };
        match self.ports.linking.linking(from).await? {
            Some(st) if st.status != LinkStatus::Linked => {
                tracing::info!(message_id = %msg.id, "sending number not linked yet; held");
                Ok(Some(super::guards::Gate::Hold {
                    reason: HoldReason::NumberNotLinked,
                    until: None,
                    status: crate::Status::Queued,
                }))
            }
            _ => Ok(None),
        }
    }
}
