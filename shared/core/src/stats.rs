//! Message outcomes as counters: what one change of a message record means (accepted, sent,
//! delivered, failed, held, released), added up per hour, tenant and channel. The change
//! stream of the message records feeds it, so no send path pays for the statistics, and the
//! stats of an hour are a handful of item reads, never a scan.
use crate::message::{HoldReason, Message};
use crate::status::Status;
use crate::{Channel, ErrorCode, Provider, TenantId};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Upper bounds (ms) of the delivery-latency histogram; the last bucket is open.
pub const LATENCY_BOUNDS_MS: [i64; 14] = [
    250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 86_400_000,
];

/// One thing that happened to a message, as the operator's numbers count it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted,
    Sent {
        provider: Option<Provider>,
    },
    Delivered {
        latency_ms: Option<i64>,
    },
    /// Final failure (dead-lettered, or the carrier reported it undeliverable).
    Failed {
        code: Option<ErrorCode>,
    },
    Held(HoldReason),
    Released(HoldReason),
    /// Into the dead-letter list (+1) or out of it (-1: retried or archived).
    DeadLetters(i64),
}

/// Why a message is held, while it is (a canceled or sent message holds nothing).
fn held(m: &Message) -> Option<HoldReason> {
    m.hold_reason.filter(|_| m.status.is_pending())
}

/// What changed between two versions of a message record (`old` None: created).
pub fn outcomes(old: Option<&Message>, new: &Message) -> Vec<Outcome> {
    let mut out = Vec::new();
    let Some(old) = old else {
        out.push(Outcome::Accepted);
        if let Some(r) = held(new) {
            out.push(Outcome::Held(r));
        }
        if new.dlq_sort_key().is_some() {
            out.push(Outcome::DeadLetters(1));
        }
        return out;
    };
    if old.sent_at.is_none() && new.sent_at.is_some() {
        out.push(Outcome::Sent { provider: new.provider });
    }
    if old.delivered_at.is_none() && new.delivered_at.is_some() {
        out.push(Outcome::Delivered { latency_ms: new.delivery_latency_ms });
    }
    if old.status != Status::Failed && new.status == Status::Failed {
        out.push(Outcome::Failed { code: new.error_code });
    }
    match (old.dlq_sort_key().is_some(), new.dlq_sort_key().is_some()) {
        (false, true) => out.push(Outcome::DeadLetters(1)),
        (true, false) => out.push(Outcome::DeadLetters(-1)),
        _ => {}
    }
    if held(old) != held(new) {
        if let Some(r) = held(old) {
            out.push(Outcome::Released(r));
        }
        if let Some(r) = held(new) {
            out.push(Outcome::Held(r));
        }
    }
    out
}

/// The hour bucket of a time: `YYYYMMDDHH` (UTC).
pub fn hour_key(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H").to_string()
}

/// The hour buckets a window ending at `now` touches, oldest first (rounded out to hours).
pub fn window_hours(now: DateTime<Utc>, window: std::time::Duration) -> Vec<String> {
    let start = now - Duration::from_std(window).unwrap_or_default();
    let mut t = start.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(start);
    let mut hours = Vec::new();
    while t <= now {
        hours.push(hour_key(t));
        t += Duration::hours(1);
    }
    hours
}

fn latency_bucket(ms: i64) -> String {
    let i = LATENCY_BOUNDS_MS.iter().position(|b| ms <= *b).unwrap_or(LATENCY_BOUNDS_MS.len());
    format!("l_{i:02}")
}

/// Counters of one (hour, tenant, channel): `accepted`, `sent`, `delivered`, `failed`,
/// `cost_cents` (of what was sent), `e_<ERROR_CODE>`, `l_<latency bucket>`. The store keeps
/// them per hour (`YYYYMMDDHH`) and rolled up per day (`D#YYYYMMDD`) and month (`M#YYYYMM`).
pub type Counters = BTreeMap<String, i64>;

/// The additions one batch of changes makes: per (hour, tenant, channel), to the number of
/// messages held per (channel, reason) and to the dead letters per channel.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub counts: BTreeMap<(String, TenantId, Channel), Counters>,
    pub held: BTreeMap<(Channel, HoldReason), i64>,
    pub dead_letters: BTreeMap<Channel, i64>,
}

impl Tally {
    /// Counts live traffic only: test keys' messages never reach a provider.
    pub fn add(&mut self, msg: &Message, outcomes: &[Outcome]) {
        if msg.key_mode == crate::KeyMode::Test {
            return;
        }
        let key = (hour_key(msg.updated_at), msg.tenant_id.clone(), msg.channel);
        for o in outcomes {
            let mut bump = |name: String| *self.counts.entry(key.clone()).or_default().entry(name).or_default() += 1;
            match o {
                Outcome::Accepted => bump("accepted".into()),
                Outcome::Sent { .. } => {
                    bump("sent".into());
                    let cost = msg.estimated_cost_cents as i64;
                    *self.counts.entry(key.clone()).or_default().entry("cost_cents".into()).or_default() += cost;
                }
                Outcome::Delivered { latency_ms } => {
                    bump("delivered".into());
                    if let Some(ms) = latency_ms {
                        bump(latency_bucket(*ms));
                    }
                }
                Outcome::Failed { code } => {
                    bump("failed".into());
                    bump(format!("e_{}", code.map(|c| c.as_str()).unwrap_or("UNKNOWN")));
                }
                Outcome::Held(r) => *self.held.entry((msg.channel, *r)).or_default() += 1,
                Outcome::Released(r) => *self.held.entry((msg.channel, *r)).or_default() -= 1,
                Outcome::DeadLetters(n) => *self.dead_letters.entry(msg.channel).or_default() += n,
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.held.values().chain(self.dead_letters.values()).all(|v| *v == 0)
    }
}

/// `GET /v1/admin/stats`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatsView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub accepted: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    /// delivered / sent (None before anything was sent).
    pub delivery_rate: Option<f64>,
    /// failed / (delivered + failed): of the messages that reached an end, the share that failed.
    pub failure_rate: Option<f64>,
    pub by_error_code: BTreeMap<String, i64>,
    pub latency_ms: Latency,
    pub top_tenants: Vec<TenantCount>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Latency {
    /// Upper bound of the histogram bucket holding the percentile (None: no deliveries).
    pub p50: Option<i64>,
    pub p95: Option<i64>,
    pub p99: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantCount {
    pub tenant_id: TenantId,
    pub sent: i64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| (a as f64 / b as f64 * 10_000.0).round() / 10_000.0)
}

fn percentile(hist: &BTreeMap<usize, i64>, p: f64) -> Option<i64> {
    let total: i64 = hist.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (p * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, n) in hist {
        seen += n;
        if seen >= rank {
            return Some(LATENCY_BOUNDS_MS.get(*i).copied().unwrap_or(i64::MAX));
        }
    }
    None
}

/// Sums the stored counters of the window into the view.
pub fn summarize(from: DateTime<Utc>, to: DateTime<Utc>, rows: &[(TenantId, Counters)], top: usize) -> StatsView {
    let mut total = Counters::new();
    let mut per_tenant: BTreeMap<TenantId, i64> = BTreeMap::new();
    for (tenant, c) in rows {
        for (k, v) in c {
            *total.entry(k.clone()).or_default() += v;
        }
        *per_tenant.entry(tenant.clone()).or_default() += c.get("sent").copied().unwrap_or(0);
    }
    let get = |k: &str| total.get(k).copied().unwrap_or(0);
    let by_error_code = total
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("e_").map(|c| (c.to_string(), *v)))
        .filter(|(_, v)| *v != 0)
        .collect();
    let hist: BTreeMap<usize, i64> =
        total.iter().filter_map(|(k, v)| k.strip_prefix("l_").and_then(|i| i.parse().ok()).map(|i| (i, *v))).collect();
    let mut top_tenants: Vec<TenantCount> = per_tenant
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(tenant_id, sent)| TenantCount { tenant_id, sent })
        .collect();
    top_tenants.sort_by(|a, b| b.sent.cmp(&a.sent).then_with(|| a.tenant_id.cmp(&b.tenant_id)));
    top_tenants.truncate(top);
    let (delivered, failed) = (get("delivered"), get("failed"));
    StatsView {
        from,
        to,
        accepted: get("accepted"),
        sent: get("sent"),
        delivered,
        failed,
        delivery_rate: ratio(delivered, get("sent")),
        failure_rate: ratio(failed, delivered + failed),
        by_error_code,
        latency_ms: Latency {
            p50: percentile(&hist, 0.50),
            p95: percentile(&hist, 0.95),
            p99: percentile(&hist, 0.99),
        },
        top_tenants,
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
