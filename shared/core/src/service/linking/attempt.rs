//! One linking attempt on a claimed state: search (with back-off while a new number is not
//! indexed yet), method 1 (`PATCH /v2/phone_numbers/{id}/messaging`), then method 2
//! (`PATCH /v2/messaging_phone_numbers/{id}`, by id); then the result is recorded, alerted
//! on after the last retry, and the messages held for the number are released.
use super::{step, Linking};
use crate::address::mask_phone;
use crate::linking::*;
use crate::message::HoldKey;
use crate::service::support::duration;
use crate::service::{Caller, HeraldError};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::Instant;

impl Linking {
    pub(crate) async fn attempt_link(
        &self,
        mut st: LinkingState,
        api_key: &str,
        from_job: bool,
    ) -> Result<LinkingState, HeraldError> {
        let started = Instant::now();
        step(&st, "start", "ok", started, None, None);
        let number_id = match st.number_id.clone() {
            Some(id) => Ok(id),
            None => self.find_number(&st, api_key).await,
        };
        let result = match number_id {
            Ok(id) => {
                st.number_id = Some(id.clone());
                self.link(&st, api_key, &id).await
            }
            Err(e) => Err(e),
        };
        let now = self.clock.now();
        if from_job {
            st.retry_count += 1;
        }
        crate::metrics::emit("linking_duration_ms", started.elapsed().as_millis() as f64, &[]);
        let alert = self.record_result(&mut st, result, now);
        let category = st.error.as_ref().map(|e| e.category.as_str());
        step(&st, "complete", st.status.as_str(), started, st.method, category);
        st.version += 1;
        if !self.linking.save_linking(&st).await? {
            return Err(HeraldError::Conflict("linking state changed during the attempt".into()));
        }
        self.after_attempt(&st, alert).await?;
        Ok(st)
    }

    /// The number's Telnyx id, searched again after each of the search delays.
    pub(crate) async fn find_number(&self, st: &LinkingState, api_key: &str) -> Result<String, LinkError> {
        let mut delays = self.settings.search_delays.iter();
        loop {
            let s0 = Instant::now();
            match self.telnyx.find(api_key, &st.phone_number).await {
                Ok(Some(id)) => {
                    step(st, "search_phone", "success", s0, None, None);
                    return Ok(id);
                }
                Ok(None) => {
                    step(st, "search_phone", "not_found", s0, None, None);
                    let Some(d) = delays.next() else {
                        let detail = "the number is not found by the phone number search yet (not indexed)";
                        return Err(LinkError { category: LinkErrorCategory::NotFound, detail: detail.into() });
                    };
                    tokio::time::sleep(*d).await;
                }
                Err(e) => {
                    step(st, "search_phone", "failure", s0, None, Some(&e.detail));
                    let category = LinkErrorCategory::from_status(e.status);
                    return Err(LinkError { category, detail: format!("search: {}", e.detail) });
                }
            }
        }
    }

    /// Method 1, then method 2 by the number's id.
    async fn link(&self, st: &LinkingState, api_key: &str, id: &str) -> Result<LinkMethod, LinkError> {
        let profile = &st.messaging_profile_id;
        let s1 = Instant::now();
        let e1 = match self.telnyx.link_direct(api_key, id, profile).await {
            Ok(()) => {
                step(st, "method_1_direct_update", "success", s1, Some(LinkMethod::Direct), None);
                return Ok(LinkMethod::Direct);
            }
            Err(e1) => e1,
        };
        step(st, "method_1_direct_update", "failure", s1, Some(LinkMethod::Direct), Some(&e1.detail));
        let s2 = Instant::now();
        match self.telnyx.link_profile(api_key, id, profile).await {
            Ok(()) => {
                step(st, "method_2_profile_update", "success", s2, Some(LinkMethod::Profile), None);
                Ok(LinkMethod::Profile)
            }
            Err(e2) => {
                step(st, "method_2_profile_update", "failure", s2, Some(LinkMethod::Profile), Some(&e2.detail));
                Err(LinkError {
                    category: LinkErrorCategory::from_status(e2.status.or(e1.status)),
                    detail: format!("method 1: {}; method 2: {}", e1.detail, e2.detail),
                })
            }
        }
    }

    /// Writes the attempt's result into the state; true when the support alert is due.
    fn record_result(&self, st: &mut LinkingState, result: Result<LinkMethod, LinkError>, now: DateTime<Utc>) -> bool {
        st.last_attempt = Some(now);
        st.updated_at = now;
        st.claimed_until = None;
        match result {
            Ok(m) => {
                st.status = LinkStatus::Linked;
                st.method = Some(m);
                st.error = None;
                st.next_attempt_at = None;
                let name = if m == LinkMethod::Direct { "direct" } else { "profile" };
                crate::metrics::emit("linking_success", 1.0, &[("linking_method", name)]);
                crate::metrics::emit("linking_method", 1.0, &[("method", name)]);
                crate::metrics::emit("linking_retry_count", f64::from(st.retry_count), &[]);
                false
            }
            Err(err) => {
                crate::metrics::emit("linking_failure", 1.0, &[("category", err.category.as_str())]);
                st.status = LinkStatus::Failed;
                st.error = Some(err);
                if st.retry_count < MAX_RETRIES {
                    let delays = &self.settings.retry_delays;
                    let delay = delays.get(st.retry_count as usize).or(delays.last()).copied().unwrap_or_default();
                    st.next_attempt_at = Some(now + duration(delay));
                    return false;
                }
                st.next_attempt_at = None;
                !std::mem::replace(&mut st.alerted, true)
            }
        }
    }

    async fn after_attempt(&self, st: &LinkingState, alert: bool) -> Result<(), HeraldError> {
        if alert {
            crate::metrics::emit("linking_max_retries_exceeded", 1.0, &[]);
            let body = json!({
                "tenant_id": st.tenant_id, "phone_number": st.phone_number, "retry_count": st.retry_count,
                "last_error": st.error, "action": "manual intervention: POST /v1/numbers/{e164}/linking/retry once fixed"
            });
            if let Err(e) = self.alerts.alert("Telnyx number linking failed after max retries", &body).await {
                tracing::error!(error = %e, "support alert could not be sent");
            }
            self.audit.record(&Caller::ADMIN, Some(&st.tenant_id), "linking.max_retries_exceeded", body).await;
        }
        if st.status == LinkStatus::Linked {
            let released = self.holds.release_holds(&HoldKey::Number(st.phone_number.clone()), 10_000).await?;
            if released > 0 {
                tracing::info!(phone_number = %mask_phone(&st.phone_number), released, "held messages released after linking");
            }
        }
        Ok(())
    }
}
