//! Per-provider circuit breaker, shared by every sender through DynamoDB. It opens when, in
//! a sliding window, provider failures reach a rate over a minimum of attempts; after a
//! cool-down one sender claims a probe (half-open); the probe's outcome closes or re-opens.
use super::support::Audit;
use super::{Caller, HeraldError};
use crate::cache::TtlMap;
use crate::errors::{Blame, Classification};
use crate::guards::{BreakerRecord, BreakerState, ProviderAccount};
use crate::ports::{BreakerStore, Clock};
use crate::Provider;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// How long a container trusts the breaker state it read (another container's switch is
/// seen within this).
const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Successes are counted in the container and written with the next failure, or once this
/// many have gathered, or after `SUCCESS_FLUSH_AGE`: a healthy provider costs no write per send.
const SUCCESS_FLUSH_COUNT: u64 = 100;
const SUCCESS_FLUSH_AGE: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Breakers {
    store: Arc<dyn BreakerStore>,
    audit: Arc<Audit>,
    clock: Arc<dyn Clock>,
    settings: BreakerSettings,
    states: TtlMap<ProviderAccount, Option<BreakerRecord>>,
    successes: Mutex<HashMap<ProviderAccount, (u64, Instant)>>,
}

impl Breakers {
    pub fn new(
        store: Arc<dyn BreakerStore>,
        audit: Arc<Audit>,
        clock: Arc<dyn Clock>,
        settings: BreakerSettings,
    ) -> Self {
        Self { store, audit, clock, settings, states: TtlMap::new(STATE_TTL), successes: Mutex::default() }
    }

    /// The breaker as this container last read it, at most `STATE_TTL` old.
    async fn state(&self, account: &ProviderAccount) -> Result<Option<BreakerRecord>, HeraldError> {
        if let Some(rec) = self.states.get(account) {
            return Ok(rec);
        }
        let rec = self.store.breaker(account).await?;
        self.states.put(account.clone(), rec.clone());
        Ok(rec)
    }

    /// Takes the successes counted here since the last write, unless they may wait longer.
    fn take_successes(&self, account: &ProviderAccount, add: u64, force: bool) -> Option<u64> {
        let mut all = self.successes.lock().unwrap();
        let entry = all.entry(account.clone()).or_insert((0, Instant::now()));
        entry.0 += add;
        if force || entry.0 >= SUCCESS_FLUSH_COUNT || entry.1.elapsed() >= SUCCESS_FLUSH_AGE {
            return all.remove(account).map(|(n, _)| n);
        }
        None
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn admit(&self, account: &ProviderAccount) -> Result<Admission, HeraldError> {
        if account.provider == Provider::Simulator {
            return Ok(Admission::Allow);
        }
        let Some(rec) = self.state(account).await? else { return Ok(Admission::Allow) };
        let now = self.now();
        let cooldown = Duration::from_std(self.settings.cooldown).unwrap_or_default();
        if rec.state == BreakerState::ForcedOpen {
            // Only an operator closes it: read again rather than trust this container's copy
            // (a forced circuit holds its messages, so this read is rare).
            self.states.forget(account);
            let rec = self.state(account).await?;
            if rec.is_some_and(|r| r.state == BreakerState::ForcedOpen) {
                return Ok(Admission::Deny { until: now + cooldown });
            }
            return Ok(Admission::Allow);
        }
        if rec.state != BreakerState::Closed && now >= rec.since + cooldown {
            // Past the cool-down: decide on the stored state, not the cached one.
            self.states.forget(account);
            let Some(rec) = self.state(account).await? else { return Ok(Admission::Allow) };
            return self.try_probe(account, rec, now, cooldown).await;
        }
        let until = rec.since + cooldown;
        match rec.state {
            BreakerState::Closed => Ok(Admission::Allow),
            _ => Ok(Admission::Deny { until }),
        }
    }

    /// Open past its cool-down, or a half-open probe that never reported back: one sender
    /// claims the probe.
    async fn try_probe(
        &self,
        account: &ProviderAccount,
        rec: BreakerRecord,
        now: DateTime<Utc>,
        cooldown: Duration,
    ) -> Result<Admission, HeraldError> {
        let until = rec.since + cooldown;
        match rec.state {
            BreakerState::Closed => return Ok(Admission::Allow),
            BreakerState::ForcedOpen => return Ok(Admission::Deny { until: now + cooldown }),
            _ => {}
        }
        if now < until {
            return Ok(Admission::Deny { until });
        }
        let claimed = self.store.transition(account, Some(rec.version), BreakerState::HalfOpen, now, false).await?;
        self.states.forget(account);
        if claimed {
            tracing::warn!(account = %account, "circuit half-open: sending one probe");
            Ok(Admission::Probe)
        } else {
            Ok(Admission::Deny { until: now + cooldown })
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
        // A plain success waits in the container; failures and probes are written at once,
        // with the successes gathered so far (the failure rate stays exact).
        // The first outcome of an account is written at once: the health view lists it.
        let unknown = matches!(self.states.get(account), Some(None));
        let Some(successes) = self.take_successes(account, u64::from(!failed), failed || probe || unknown) else {
            return Ok(());
        };
        let (attempts, failures) = (successes + u64::from(failed), u64::from(failed));
        let rec =
            self.store.count_outcome(account, &minute(now), attempts, failures, now.timestamp() + 2 * 3600).await?;
        self.states.put(account.clone(), rec.clone());
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
            let switched = self.store.transition(account, version, next, now, next == BreakerState::Closed).await?;
            self.states.forget(account);
            if switched {
                tracing::warn!(account = %account, state = ?next, reason, "circuit breaker switched");
                let value = if next == BreakerState::Open { 1.0 } else { 0.0 };
                crate::metrics::emit("circuit_breaker_state", value, &[("provider", account.provider.as_str())]);
                let detail = json!({"provider": account.provider, "account": account.account, "state": next, "reason": reason, "actor": "circuit-breaker"});
                self.audit.record(&Caller::ADMIN, None, "breaker.switch", detail).await;
            }
        }
        Ok(())
    }

    /// An operator's override: `ForcedOpen` (held until closed by hand) or `Closed` (counts
    /// cleared). Returns the state it replaced.
    pub async fn force(&self, account: &ProviderAccount, state: BreakerState) -> Result<BreakerState, HeraldError> {
        for _ in 0..5 {
            let rec = self.store.breaker(account).await?;
            let previous = rec.as_ref().map(|r| r.state).unwrap_or(BreakerState::Closed);
            let version = rec.as_ref().map(|r| r.version);
            let now = self.now();
            if self.store.transition(account, version, state, now, state == BreakerState::Closed).await? {
                self.states.forget(account);
                self.take_successes(account, 0, true);
                let value = if state == BreakerState::Closed { 0.0 } else { 1.0 };
                crate::metrics::emit("circuit_breaker_state", value, &[("provider", account.provider.as_str())]);
                return Ok(previous);
            }
        }
        Err(HeraldError::Conflict(format!("the breaker of {account} is changing concurrently")))
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
