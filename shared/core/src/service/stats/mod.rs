//! Message outcomes, counted from the change stream of the message records: hourly counters
//! per tenant and channel (`GET /v1/admin/stats`), messages held per reason
//! (`GET /v1/system/queues`) and the outcome metrics the alarms watch (EMF, one line per
//! metric and dimension set per batch).
mod tenant;

pub use tenant::{ChannelUsage, Dashboard, Day, Outcomes, Usage};

use super::{Caller, HeraldError};
use crate::message::{HoldReason, Message};
use crate::ports::{Clock, SendQueue, StatsStore};
use crate::stats::{outcomes, summarize, window_hours, Outcome, StatsView, Tally};
use crate::{Channel, TenantId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The longest window `GET /v1/admin/stats` adds up (one query per hour).
pub const MAX_WINDOW: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);
const TOP_TENANTS: usize = 10;

/// One change of a message record as the stream delivers it (`old` None: created).
#[derive(Debug, Clone)]
pub struct Change {
    pub old: Option<Message>,
    pub new: Option<Message>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldCount {
    pub channel: Channel,
    pub reason: HoldReason,
    pub count: i64,
}

pub struct Stats {
    store: Arc<dyn StatsStore>,
    queue: Arc<dyn SendQueue>,
    clock: Arc<dyn Clock>,
}

/// One channel queue: its depth, in-flight and dead-letter counts, and the messages held out
/// of it per hold reason (`GET /v1/system/queues`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueView {
    pub queue: Channel,
    pub depth: u64,
    pub in_flight: u64,
    pub dlq_depth: u64,
    pub held: BTreeMap<String, i64>,
}

/// A metric's name and dimensions.
type MetricKey = (&'static str, Vec<(&'static str, String)>);

/// Metric sums of one batch, by metric and dimensions.
#[derive(Default)]
struct Metrics {
    sums: BTreeMap<MetricKey, f64>,
    latencies: BTreeMap<String, Vec<f64>>,
}

impl Metrics {
    fn add(&mut self, msg: &Message, o: &Outcome) {
        let ch = ("channel", msg.channel.as_str().to_string());
        let mut count =
            |name: &'static str, dims: Vec<(&'static str, String)>| *self.sums.entry((name, dims)).or_default() += 1.0;
        match o {
            Outcome::Accepted => count("messages_accepted", vec![ch]),
            Outcome::Sent { provider } => {
                let p = provider.map(|p| p.as_str()).unwrap_or("unknown").to_string();
                // The delivery-rate alarms divide by sends whose provider reports delivery
                // (SMTP never does), per channel and in all.
                if *provider != Some(crate::Provider::Smtp) {
                    count("messages_sent_tracked", vec![ch.clone()]);
                }
                count("messages_sent", vec![ch, ("provider", p)])
            }
            Outcome::Delivered { latency_ms } => {
                count("messages_delivered", vec![ch]);
                if let Some(ms) = latency_ms {
                    self.latencies.entry(msg.channel.as_str().to_string()).or_default().push(*ms as f64);
                }
            }
            Outcome::Failed { code } => {
                let c = code.map(|c| c.as_str()).unwrap_or("UNKNOWN").to_string();
                count("messages_failed", vec![ch, ("error_code", c)])
            }
            Outcome::Held(_) | Outcome::Released(_) | Outcome::DeadLetters(_) => {}
        }
    }

    fn emit(self) {
        for ((name, dims), v) in self.sums {
            let dims: Vec<(&str, &str)> = dims.iter().map(|(k, v)| (*k, v.as_str())).collect();
            crate::metrics::emit(name, v, &dims);
        }
        for (channel, values) in self.latencies {
            for chunk in values.chunks(100) {
                crate::metrics::emit_values("delivery_latency_ms", chunk, &[("channel", channel.as_str())]);
            }
        }
    }
}

impl Stats {
    pub fn new(store: Arc<dyn StatsStore>, queue: Arc<dyn SendQueue>, clock: Arc<dyn Clock>) -> Self {
        Self { store, queue, clock }
    }

    /// Applies a batch of changes; returns how many outcomes it counted. A batch the stream
    /// delivers again after a failed write is counted again (the counters may overcount by
    /// that batch; they never lose one).
    pub async fn apply(&self, changes: &[Change]) -> Result<usize, HeraldError> {
        let mut tally = Tally::default();
        let mut metrics = Metrics::default();
        let mut counted = 0;
        for c in changes {
            let Some(new) = &c.new else { continue };
            let found = outcomes(c.old.as_ref(), new);
            if new.key_mode == crate::KeyMode::Live {
                found.iter().for_each(|o| metrics.add(new, o));
            }
            counted += found.len();
            tally.add(new, &found);
        }
        if !tally.is_empty() {
            self.store.add_tally(&tally).await?;
        }
        metrics.emit();
        self.emit_gauges(&tally).await?;
        Ok(counted)
    }

    /// The absolute numbers the alarms watch, after a batch changed them.
    async fn emit_gauges(&self, tally: &Tally) -> Result<(), HeraldError> {
        if tally.dead_letters.values().any(|v| *v != 0) {
            for (channel, n) in self.store.dead_letter_counts().await? {
                crate::metrics::emit("dead_letters", n.max(0) as f64, &[("channel", channel.as_str())]);
            }
        }
        if tally.held.values().any(|v| *v != 0) {
            for ((channel, reason), n) in self.store.held_counts().await? {
                let dims = [("channel", channel.as_str()), ("reason", reason.as_str())];
                crate::metrics::emit("messages_held", n.max(0) as f64, &dims);
            }
        }
        Ok(())
    }

    /// `GET /v1/admin/stats?window=&tenant_id=&channel=`.
    pub async fn view(
        &self,
        caller: &Caller,
        window: std::time::Duration,
        tenant: Option<&TenantId>,
        channel: Option<Channel>,
    ) -> Result<StatsView, HeraldError> {
        caller.require_admin()?;
        if window.is_zero() || window > MAX_WINDOW {
            return Err(HeraldError::validation("window", "INVALID_WINDOW", "a window from 1m to 7d, e.g. 1h"));
        }
        let now = self.clock.now();
        let hours = window_hours(now, window);
        let rows: Vec<_> = self
            .store
            .hour_counters(&hours, tenant)
            .await?
            .into_iter()
            .filter(|(_, ch, _)| channel.is_none_or(|c| c == *ch))
            .map(|(t, _, c)| (t, c))
            .collect();
        let from = chrono::NaiveDateTime::parse_from_str(&format!("{}0000", hours[0]), "%Y%m%d%H%M%S")
            .map(|t| t.and_utc())
            .unwrap_or(now);
        Ok(summarize(from, now, &rows, TOP_TENANTS))
    }

    /// Messages held now, per channel and reason (the queue view).
    pub async fn held(&self, caller: &Caller) -> Result<Vec<HeldCount>, HeraldError> {
        caller.require_admin()?;
        let all = self.store.held_counts().await?;
        Ok(all
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((channel, reason), count)| HeldCount { channel, reason, count })
            .collect())
    }

    /// `GET /v1/system/queues`: each channel queue with what is held out of it.
    pub async fn queues(&self, caller: &Caller) -> Result<Vec<QueueView>, HeraldError> {
        let held = self.held(caller).await?;
        let depths = self.queue.depths().await?;
        Ok(depths
            .into_iter()
            .map(|d| {
                let mine = held.iter().filter(|h| h.channel == d.queue);
                let held = mine.map(|h| (h.reason.as_str().to_string(), h.count)).collect();
                QueueView { queue: d.queue, depth: d.depth, in_flight: d.in_flight, dlq_depth: d.dlq_depth, held }
            })
            .collect())
    }
}
