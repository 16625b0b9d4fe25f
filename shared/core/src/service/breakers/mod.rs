//! Per-provider circuit breaker, shared by every sender through DynamoDB. It opens when, in
//! a sliding window, provider failures reach a rate over a minimum of attempts; after a
//! cool-down one sender claims a probe (half-open); the probe's outcome closes or re-opens.
use super::support::Audit;
use super::{Caller, HeraldError};
use crate::errors::{Blame, Classification};
use crate::guards::{BreakerRecord, BreakerState, ProviderAccount};
use crate::ports::{BreakerStore, Clock};
use crate::Provider;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct BreakerSettings {
    pub failure_rate: f64,
    pub min_attempts: u64,
    pub window: std::time::Duration,
    pub cooldown: std::time::Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_rate: 0.5,
            min_attempts: 20,
            window: std::time::Duration::from_secs(600),
            cooldown: std::time::Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Allow,
    /// This sender carries the half-open probe.
    Probe,
    Deny {
        until: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderHealth {
    pub provider: Provider,
    pub account: String,
    pub state: BreakerState,
    pub since: Option<DateTime<Utc>>,
    pub window_attempts: u64,
    pub window_failures: u64,
}

fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M").to_string()
}

/// Attempts and failures within the window ending at `now`.
pub fn window_totals(rec: &BreakerRecord, now: DateTime<Utc>, window: std::time::Duration) -> (u64, u64) {
    let from = minute(now - Duration::from_std(window).unwrap_or_default());
    rec.buckets.iter().filter(|(m, _)| **m > from).fold((0, 0), |(a, f), (_, (ba, bf))| (a + ba, f + bf))
}

/// Whether these totals open the breaker.
pub fn should_open(attempts: u64, failures: u64, s: &BreakerSettings) -> bool {
    attempts >= s.min_attempts && attempts > 0 && failures as f64 / attempts as f64 >= s.failure_rate
}

pub struct Breakers {
    store: Arc<dyn BreakerStore>,
    audit: Arc<Audit>,
    clock: Arc<dyn Clock>,
    settings: BreakerSettings,
}

impl Breakers {
    pub fn new(
        store: Arc<dyn BreakerStore>,
        audit: Arc<Audit>,
        clock: Arc<dyn Clock>,
        settings: BreakerSettings,
    ) -> Self {
        Self { store, audit, clock, settings }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn admit(&self, account: &ProviderAccount) -> Result<Admission, HeraldError> {
        if account.provider == Provider::Simulator {
            return Ok(Admission::Allow);
        }
        let Some(rec) = self.store.breaker(account).await? else { return Ok(Admission::Allow) };
        let now = self.now();
        let cooldown = Duration::from_std(self.settings.cooldown).unwrap_or_default();
        let until = rec.since + cooldown;
        match rec.state {
            BreakerState::Closed => Ok(Admission::Allow),
            // Open past its cool-down, or a half-open probe that never reported back.
            BreakerState::Open | BreakerState::HalfOpen if now >= until => {
                if self.store.transition(account, Some(rec.version), BreakerState::HalfOpen, now, false).await? {
                    tracing::warn!(account = %account, "circuit half-open: sending one probe");
                    Ok(Admission::Probe)
                } else {
                    Ok(Admission::Deny { until: now + cooldown })
                }
            }
            _ => Ok(Admission::Deny { until }),
        }
    }

    /// Counts a real provider call. Only provider faults count as failures; errors about the
    /// recipient or the tenant's account do not count at all.
    pub async fn record_outcome(
        &self,
        account: &ProviderAccount,
        outcome: Option<Classification>,
        probe: bool,
    ) -> Result<(), HeraldError> {
        if account.provider == Provider::Simulator {
            return Ok(());
        }
        let failed = match outcome {
            None => false,
            Some(c) if c.blame == Blame::Provider && c.retryable => true,
            Some(_) => return Ok(()),
        };
        let now = self.now();
        self.store.count_outcome(account, &minute(now), failed, now.timestamp() + 2 * 3600).await?;
        let rec = self.store.breaker(account).await?;
        let version = rec.as_ref().map(|r| r.version);
        let state = rec.as_ref().map(|r| r.state).unwrap_or(BreakerState::Closed);
        let (next, reason) = match (state, probe, failed) {
            (BreakerState::HalfOpen, true, false) => (Some(BreakerState::Closed), "probe succeeded"),
            (BreakerState::HalfOpen, true, true) => (Some(BreakerState::Open), "probe failed"),
            (BreakerState::Closed, _, true) => {
                let (a, f) = rec.as_ref().map(|r| window_totals(r, now, self.settings.window)).unwrap_or((1, 1));
                if should_open(a, f, &self.settings) {
                    (Some(BreakerState::Open), "failure rate over threshold")
                } else {
                    (None, "")
                }
            }
            _ => (None, ""),
        };
        if let Some(next) = next {
            if self.store.transition(account, version, next, now, next == BreakerState::Closed).await? {
                tracing::warn!(account = %account, state = ?next, reason, "circuit breaker switched");
                let value = if next == BreakerState::Open { 1.0 } else { 0.0 };
                crate::metrics::emit("circuit_breaker_state", value, &[("provider", account.provider.as_str())]);
                let detail = json!({"provider": account.provider, "account": account.account, "state": next, "reason": reason, "actor": "circuit-breaker"});
                self.audit.record(&Caller::Admin, None, "breaker.switch", detail).await;
            }
        }
        Ok(())
    }

    /// Every provider account Herald has sent through, with its circuit and recent outcomes.
    pub async fn provider_health(&self, caller: &Caller) -> Result<Vec<ProviderHealth>, HeraldError> {
        caller.require_admin()?;
        let now = self.now();
        let mut out: Vec<ProviderHealth> = self
            .store
            .breakers()
            .await?
            .into_iter()
            .map(|(account, rec)| {
                let (a, f) = window_totals(&rec, now, self.settings.window);
                ProviderHealth {
                    provider: account.provider,
                    account: account.account,
                    state: rec.state,
                    since: Some(rec.since),
                    window_attempts: a,
                    window_failures: f,
                }
            })
            .collect();
        out.sort_by(|x, y| (x.provider, &x.account).cmp(&(y.provider, &y.account)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_over_the_minimum_and_the_rate() {
        let s = BreakerSettings::default();
        assert!(!should_open(19, 19, &s), "not enough attempts");
        assert!(should_open(20, 10, &s));
        assert!(!should_open(20, 9, &s));
        assert!(!should_open(0, 0, &s));
    }

    #[test]
    fn the_window_slides() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:30Z").unwrap().with_timezone(&Utc);
        let mut rec =
            BreakerRecord { state: BreakerState::Closed, since: now, version: 1, buckets: Default::default() };
        rec.buckets.insert("202611241150".into(), (10, 10));
        rec.buckets.insert("202611241151".into(), (4, 2));
        rec.buckets.insert("202611241200".into(), (6, 3));
        assert_eq!(
            window_totals(&rec, now, std::time::Duration::from_secs(600)),
            (10, 5),
            "11:50 is out of a 10-minute window"
        );
    }
}
