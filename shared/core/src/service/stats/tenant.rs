//! A tenant's own numbers: the console's dashboard (today, this month, the last days by
//! outcome) and `GET /v1/tenant/usage` (messages and cost per channel in a month), read
//! from the day and month roll-ups of the outcome counters (UTC days).
use super::Stats;
use crate::service::{Caller, HeraldError};
use crate::stats::Counters;
use crate::Channel;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many days the dashboard's chart may cover.
pub const MAX_DAYS: u32 = 62;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Outcomes {
    pub accepted: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    /// What was sent cost, in cents (estimated at send).
    pub cost_cents: i64,
    /// delivered / sent (None before anything was sent).
    pub delivery_rate: Option<f64>,
}

impl Outcomes {
    fn add(&mut self, c: &Counters) {
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        self.accepted += get("accepted");
        self.sent += get("sent");
        self.delivered += get("delivered");
        self.failed += get("failed");
        self.cost_cents += get("cost_cents");
        self.delivery_rate = (self.sent > 0).then(|| (self.delivered as f64 / self.sent as f64).min(1.0));
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// `GET /v1/tenant/stats?days=`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dashboard {
    pub today: Outcomes,
    pub month: Outcomes,
    /// Oldest first, one per day, today last.
    pub days: Vec<Day>,
    pub daily_budget_cents: Option<u64>,
    pub monthly_budget_cents: Option<u64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChannelUsage {
    pub channel: Channel,
    /// Messages sent to the provider (what is paid for).
    pub messages: i64,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// `GET /v1/tenant/usage?month=`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Usage {
    /// `YYYY-MM`.
    pub month: String,
    pub channels: Vec<ChannelUsage>,
    pub total_cost_cents: i64,
    pub monthly_budget_cents: Option<u64>,
}

impl Stats {
    async fn sum(&self, caller: &Caller, bucket: String) -> Result<BTreeMap<Channel, Outcomes>, HeraldError> {
        let tenant = caller.tenant()?;
        let mut out: BTreeMap<Channel, Outcomes> = BTreeMap::new();
        for (_, channel, c) in self.store.hour_counters(&[bucket], Some(&tenant.id)).await? {
            out.entry(channel).or_default().add(&c);
        }
        Ok(out)
    }

    async fn total(&self, caller: &Caller, bucket: String) -> Result<Outcomes, HeraldError> {
        let mut total = Outcomes::default();
        for o in self.sum(caller, bucket).await?.values() {
            total.add(&counters(o));
        }
        Ok(total)
    }

    /// The console's dashboard: live traffic of the caller's tenant.
    pub async fn dashboard(&self, caller: &Caller, days: u32) -> Result<Dashboard, HeraldError> {
        let tenant = caller.tenant()?;
        if days == 0 || days > MAX_DAYS {
            return Err(HeraldError::validation("days", "INVALID", format!("from 1 to {MAX_DAYS}")));
        }
        let today = self.clock.now().date_naive();
        let dates: Vec<NaiveDate> = (0..days as i64).rev().map(|back| today - Duration::days(back)).collect();
        // One query per day, all at once.
        let totals = dates.iter().map(|d| self.total(caller, format!("D#{}", d.format("%Y%m%d"))));
        let totals = futures::future::try_join_all(totals).await?;
        let series: Vec<Day> = dates
            .iter()
            .zip(totals)
            .map(|(d, outcomes)| Day { date: d.format("%Y-%m-%d").to_string(), outcomes })
            .collect();
        Ok(Dashboard {
            today: series.last().map(|d| d.outcomes.clone()).unwrap_or_default(),
            month: self.total(caller, format!("M#{}", today.format("%Y%m"))).await?,
            days: series,
            daily_budget_cents: tenant.daily_budget_cents,
            monthly_budget_cents: tenant.monthly_budget_cents,
        })
    }

    /// Messages and cost per channel in a month (`YYYY-MM`, default this one), with or
    /// without a budget.
    pub async fn usage(&self, caller: &Caller, month: Option<&str>) -> Result<Usage, HeraldError> {
        let tenant = caller.tenant()?;
        let month = match month {
            None => self.clock.now().date_naive().with_day(1).unwrap_or_default(),
            Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .map_err(|_| HeraldError::validation("month", "INVALID", "a month like 2026-12"))?,
        };
        let per_channel = self.sum(caller, format!("M#{}", month.format("%Y%m"))).await?;
        let channels: Vec<ChannelUsage> = per_channel
            .into_iter()
            .map(|(channel, outcomes)| ChannelUsage { channel, messages: outcomes.sent, outcomes })
            .collect();
        Ok(Usage {
            month: month.format("%Y-%m").to_string(),
            total_cost_cents: channels.iter().map(|c| c.outcomes.cost_cents).sum(),
            channels,
            monthly_budget_cents: tenant.monthly_budget_cents,
        })
    }
}

fn counters(o: &Outcomes) -> Counters {
    [
        ("accepted", o.accepted),
        ("sent", o.sent),
        ("delivered", o.delivered),
        ("failed", o.failed),
        ("cost_cents", o.cost_cents),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
