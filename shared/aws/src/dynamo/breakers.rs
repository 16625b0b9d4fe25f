use super::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::guards::{BreakerRecord, BreakerState, ProviderAccount};
use herald_core::ports::{BreakerStore, StoreResult};

/// One item per provider account; all of them in one `gsi1` partition for the health view.
fn pk(account: &ProviderAccount) -> String {
    format!("CB#{}", account.key())
}

fn state_str(s: BreakerState) -> &'static str {
    match s {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half_open",
        BreakerState::ForcedOpen => "forced_open",
    }
}

/// A breaker item: state, since, version and the per-minute `a_`/`f_` counters.
fn record(item: &Item) -> BreakerRecord {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let num = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok());
    let state = match text("state").as_deref() {
        Some("open") => BreakerState::Open,
        Some("half_open") => BreakerState::HalfOpen,
        Some("forced_open") => BreakerState::ForcedOpen,
        _ => BreakerState::Closed,
    };
    let since = text("since")
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let mut buckets = std::collections::BTreeMap::new();
    for k in item.keys() {
        if let Some(m) = k.strip_prefix("a_") {
            buckets.insert(m.to_string(), (num(k).unwrap_or(0), num(&format!("f_{m}")).unwrap_or(0)));
        }
    }
    BreakerRecord { state, since, version: num("version").unwrap_or(0), buckets }
}

impl DynamoStore {
    /// An update of the account's breaker item; its SET clause includes `GSI1` (the listing).
    fn breaker_update(
        &self,
        account: &ProviderAccount,
        expr: String,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(account)))
            .key("sk", s("STATE"))
            .update_expression(expr)
            .expression_attribute_values(":g1", s("BREAKERS"))
            .expression_attribute_values(":g1s", s(account.key()))
    }
}

#[async_trait]
impl BreakerStore for DynamoStore {
    async fn breaker(&self, account: &ProviderAccount) -> StoreResult<Option<BreakerRecord>> {
        Ok(self.get(&pk(account), "STATE").await?.map(|item| record(&item)))
    }

    async fn breakers(&self) -> StoreResult<Vec<(ProviderAccount, BreakerRecord)>> {
        let items = self.query_index("gsi1", "BREAKERS").await?;
        let key = |i: &Item| i.get("gsi1sk").and_then(|v| v.as_s().ok()).and_then(|k| ProviderAccount::parse(k));
        Ok(items.iter().filter_map(|i| Some((key(i)?, record(i)))).collect())
    }

    async fn count_outcome(
        &self,
        account: &ProviderAccount,
        minute: &str,
        attempts: u64,
        failures: u64,
        expires_at: i64,
    ) -> StoreResult<Option<BreakerRecord>> {
        let set = "SET #ttl = :ttl, gsi1pk = :g1, gsi1sk = :g1s";
        let expr = if failures > 0 { format!("ADD #a :a, #f :f {set}") } else { format!("ADD #a :a {set}") };
        let mut req = self
            .breaker_update(account, expr)
            .expression_attribute_names("#a", format!("a_{minute}"))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":a", n(attempts))
            .expression_attribute_values(":ttl", n(expires_at))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if failures > 0 {
            req = req
                .expression_attribute_names("#f", format!("f_{minute}"))
                .expression_attribute_values(":f", n(failures));
        }
        let out = req.send().await.map_err(unavailable)?;
        Ok(out.attributes.as_ref().map(record))
    }

    async fn transition(
        &self,
        account: &ProviderAccount,
        expected: Option<u64>,
        state: BreakerState,
        since: DateTime<Utc>,
        clear_buckets: bool,
    ) -> StoreResult<bool> {
        let mut remove = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        if clear_buckets {
            if let Some(rec) = self.breaker(account).await? {
                for (i, m) in rec.buckets.keys().enumerate() {
                    remove.push(format!("#ra{i}, #rf{i}"));
                    names.push((format!("#ra{i}"), format!("a_{m}")));
                    names.push((format!("#rf{i}"), format!("f_{m}")));
                }
            }
        }
        let mut expr = "SET #st = :st, #since = :since, gsi1pk = :g1, gsi1sk = :g1s ADD #v :one".to_string();
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut req = self
            .breaker_update(account, expr)
            .expression_attribute_names("#st", "state")
            .expression_attribute_names("#since", "since")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":st", s(state_str(state)))
            .expression_attribute_values(":since", s(ts(&since)))
            .expression_attribute_values(":one", n(1));
        for (k, v) in names {
            req = req.expression_attribute_names(k, v);
        }
        req = match expected {
            Some(v) if v > 0 => {
                req.condition_expression("#v = :expected").expression_attribute_values(":expected", n(v))
            }
            _ => req
                .condition_expression("attribute_not_exists(#v) OR #v = :zero")
                .expression_attribute_values(":zero", n(0)),
        };
        Ok(conditional(req.send().await)?.is_some())
    }
}
