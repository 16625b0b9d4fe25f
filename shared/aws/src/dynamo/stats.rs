//! Outcome counters: `STATS#<hour>` / `<tenant>#<channel>` (one item per hour, tenant and
//! channel, kept 90 days; rolled up per day `STATS#D#<day>`, and per month `STATS#M#<month>`
//! kept 400 days) and `STATS#HELD` / `<channel>` (messages held per reason, and
//! `DEAD_LETTERS`).
use super::*;
use async_trait::async_trait;
use herald_core::message::HoldReason;
use herald_core::ports::{StatsStore, StoreResult};
use herald_core::stats::{Counters, Tally};
use herald_core::{Channel, TenantId};
use std::collections::BTreeMap;

const KEEP_SECS: i64 = 90 * 86_400;
const HELD_PK: &str = "STATS#HELD";
/// The dead-letter count's attribute in the `STATS#HELD` items.
const DEAD_LETTERS: &str = "DEAD_LETTERS";

/// The numbers of an item, without its keys.
fn numbers(item: &Item) -> Counters {
    item.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "pk" | "sk" | "ttl"))
        .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
        .collect()
}

impl DynamoStore {
    /// One `ADD` of several counters to one item (names go through placeholders: they hold
    /// `#` and error codes).
    async fn add_counters(
        &self,
        pk: String,
        sk: String,
        counters: &[(String, i64)],
        ttl: Option<i64>,
    ) -> StoreResult<()> {
        let mut req = self.client.update_item().table_name(&self.table).key("pk", s(pk)).key("sk", s(sk));
        let mut adds = Vec::new();
        for (i, (name, v)) in counters.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            req = req
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":c{i}"), n(v));
        }
        let mut expr = format!("ADD {}", adds.join(", "));
        if let Some(ttl) = ttl {
            expr.push_str(" SET #ttl = if_not_exists(#ttl, :ttl)");
            req = req.expression_attribute_names("#ttl", "ttl").expression_attribute_values(":ttl", n(ttl));
        }
        req.update_expression(expr).send().await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl StatsStore for DynamoStore {
    async fn add_tally(&self, tally: &Tally) -> StoreResult<()> {
        let ttl = chrono::Utc::now().timestamp() + KEEP_SECS;
        for ((hour, tenant, channel), counters) in &tally.counts {
            let list: Vec<(String, i64)> =
                counters.iter().filter(|(_, v)| **v != 0).map(|(k, v)| (k.clone(), *v)).collect();
            if list.is_empty() {
                continue;
            }
            // The hour, and its day's and month's roll-ups (the console reads those).
            let day = format!("D#{}", hour.get(..8).unwrap_or(hour));
            let month = format!("M#{}", hour.get(..6).unwrap_or(hour));
            for (bucket, keep) in [(hour.clone(), ttl), (day, ttl), (month, ttl + 310 * 86_400)] {
                self.add_counters(format!("STATS#{bucket}"), format!("{tenant}#{channel}"), &list, Some(keep)).await?;
            }
        }
        let mut held: BTreeMap<Channel, Vec<(String, i64)>> = BTreeMap::new();
        for ((channel, reason), v) in tally.held.iter().filter(|(_, v)| **v != 0) {
            held.entry(*channel).or_default().push((reason.as_str().to_string(), *v));
        }
        for (channel, v) in tally.dead_letters.iter().filter(|(_, v)| **v != 0) {
            held.entry(*channel).or_default().push((DEAD_LETTERS.into(), *v));
        }
        for (channel, list) in held {
            self.add_counters(HELD_PK.into(), channel.as_str().into(), &list, None).await?;
        }
        Ok(())
    }

    async fn hour_counters(
        &self,
        hours: &[String],
        tenant: Option<&TenantId>,
    ) -> StoreResult<Vec<(TenantId, Channel, Counters)>> {
        let mut out = Vec::new();
        for hour in hours {
            let prefix = tenant.map(|t| format!("{t}#")).unwrap_or_default();
            for item in self.query_prefix(&format!("STATS#{hour}"), &prefix).await? {
                let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) else { continue };
                let Some((t, ch)) = sk.rsplit_once('#') else { continue };
                if let (Some(t), Ok(ch)) = (TenantId::parse(t), ch.parse::<Channel>()) {
                    out.push((t, ch, numbers(&item)));
                }
            }
        }
        Ok(out)
    }

    async fn held_counts(&self) -> StoreResult<BTreeMap<(Channel, HoldReason), i64>> {
        let mut out = BTreeMap::new();
        for item in self.query_prefix(HELD_PK, "").await? {
            let Some(Ok(ch)) = item.get("sk").and_then(|v| v.as_s().ok()).map(|c| c.parse::<Channel>()) else {
                continue;
            };
            for (reason, v) in numbers(&item) {
                if let Some(r) = HoldReason::ALL.into_iter().find(|r| r.as_str() == reason) {
                    out.insert((ch, r), v);
                }
            }
        }
        Ok(out)
    }

    async fn dead_letter_counts(&self) -> StoreResult<BTreeMap<Channel, i64>> {
        let mut out = BTreeMap::new();
        for item in self.query_prefix(HELD_PK, "").await? {
            let Some(Ok(ch)) = item.get("sk").and_then(|v| v.as_s().ok()).map(|c| c.parse::<Channel>()) else {
                continue;
            };
            out.insert(ch, numbers(&item).get(DEAD_LETTERS).copied().unwrap_or(0));
        }
        Ok(out)
    }
}
