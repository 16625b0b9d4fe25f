use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use herald_core::guards::*;
use herald_core::ids::TenantId;
use herald_core::ports::{
    BudgetStore, Counters, DncStore, FeatureStore, Page, PendingReleases, QuotaStore, StoreResult, WindowStore,
};
use std::collections::BTreeMap;

impl DynamoStore {
    /// `ADD month_spent :c, d_<day> :c` on the month's budget item.
    fn budget_update(
        &self,
        tenant: &TenantId,
        p: &BudgetPeriod,
        delta: i64,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("BUDGET#{tenant}")))
            .key("sk", s(&p.month))
            .update_expression("ADD month_spent :c, #d :c")
            .expression_attribute_names("#d", format!("d_{}", p.day))
            .expression_attribute_values(":c", n(delta))
    }

    /// `ADD n 1` unless `n` has reached `limit`.
    async fn take_counter(&self, pk: String, sk: &str, limit: u32, expires_at: i64) -> StoreResult<bool> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(n) OR n < :limit")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":ttl", n(expires_at))
            .send()
            .await;
        Ok(conditional(res)?.is_some())
    }
}

#[async_trait]
impl DncStore for DynamoStore {
    async fn dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>> {
        self.get(&format!("DNC#{tenant}"), address).await?.map(from_item).transpose()
    }

    async fn dnc_recent(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>> {
        self.get_eventual(&format!("DNC#{tenant}"), address).await?.map(from_item).transpose()
    }

    async fn put_dnc(&self, e: &DncEntry) -> StoreResult<()> {
        self.put(keyed(e, format!("DNC#{}", e.tenant_id), &e.address)?).await
    }

    async fn delete_dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("DNC#{tenant}")))
            .key("sk", s(address))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn list_dnc(&self, tenant: &TenantId, limit: u32, cursor: Option<&str>) -> StoreResult<Page<DncEntry>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("DNC#{tenant}")))
            .limit(limit.clamp(1, 500) as i32)
            .set_exclusive_start_key(decode_cursor(cursor, ("pk", &format!("DNC#{tenant}")))?)
            .send()
            .await
            .map_err(unavailable)?;
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor: encode_cursor(out.last_evaluated_key.as_ref()) })
    }
}

#[async_trait]
impl Counters for DynamoStore {
    async fn take_rate(&self, tenant: &TenantId, window: &str, limit: u32, expires_at: i64) -> StoreResult<bool> {
        self.take_counter(format!("RATE#{tenant}"), window, limit, expires_at).await
    }

    async fn take_warmup(&self, number: &str, day: &str, cap: u32, expires_at: i64) -> StoreResult<bool> {
        self.take_counter(format!("WARM#{number}"), day, cap, expires_at).await
    }
}

#[async_trait]
impl BudgetStore for DynamoStore {
    async fn reserve_budget(
        &self,
        tenant: &TenantId,
        p: &BudgetPeriod,
        cost: u64,
        daily: Option<u64>,
        monthly: Option<u64>,
    ) -> StoreResult<Option<Spend>> {
        if daily.is_some_and(|d| cost > d) || monthly.is_some_and(|m| cost > m) {
            return Ok(None);
        }
        let mut conds = Vec::new();
        let mut req = self.budget_update(tenant, p, cost as i64);
        if let Some(m) = monthly {
            conds.push("(attribute_not_exists(month_spent) OR month_spent <= :mmax)");
            req = req.expression_attribute_values(":mmax", n(m - cost));
        }
        if let Some(d) = daily {
            conds.push("(attribute_not_exists(#d) OR #d <= :dmax)");
            req = req.expression_attribute_values(":dmax", n(d - cost));
        }
        if !conds.is_empty() {
            req = req.condition_expression(conds.join(" AND "));
        }
        let out = conditional(req.return_values(ReturnValue::UpdatedNew).send().await)?;
        Ok(out.map(|o| {
            let attrs = o.attributes.unwrap_or_default();
            let num = |k: &str| attrs.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
            Spend { daily_spent_cents: num(&format!("d_{}", p.day)), monthly_spent_cents: num("month_spent") }
        }))
    }

    async fn adjust_budget(&self, tenant: &TenantId, p: &BudgetPeriod, delta: i64) -> StoreResult<()> {
        self.budget_update(tenant, p, delta).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn reset_budget(&self, tenant: &TenantId, p: &BudgetPeriod, month: bool) -> StoreResult<()> {
        let counter = if month { "month_spent".to_string() } else { format!("d_{}", p.day) };
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("BUDGET#{tenant}")))
            .key("sk", s(&p.month))
            .update_expression("SET #c = :zero")
            .expression_attribute_names("#c", counter)
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn spend(&self, tenant: &TenantId, p: &BudgetPeriod) -> StoreResult<Spend> {
        let Some(item) = self.get(&format!("BUDGET#{tenant}"), &p.month).await? else { return Ok(Spend::default()) };
        let num = |k: &str| item.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(Spend { daily_spent_cents: num(&format!("d_{}", p.day)), monthly_spent_cents: num("month_spent") })
    }
}

#[async_trait]
impl WindowStore for DynamoStore {
    async fn whatsapp_window(&self, tenant: &TenantId, phone: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let item = self.get(&format!("WAWIN#{tenant}"), phone).await?;
        Ok(item
            .and_then(|i| i.get("at").and_then(|v| v.as_s().ok()).and_then(|s| DateTime::parse_from_rfc3339(s).ok()))
            .map(|d| d.with_timezone(&Utc)))
    }

    async fn open_whatsapp_window(&self, tenant: &TenantId, phone: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut item = Item::new();
        item.insert("pk".into(), s(format!("WAWIN#{tenant}")));
        item.insert("sk".into(), s(phone));
        item.insert("at".into(), s(ts(&at)));
        item.insert("ttl".into(), n(at.timestamp() + 2 * 86400));
        self.put(item).await
    }
}

#[async_trait]
impl QuotaStore for DynamoStore {
    async fn quota(&self, tenant: &TenantId) -> StoreResult<Option<QuotaState>> {
        self.get(&format!("WAQ#{tenant}"), "STATE").await?.map(from_item).transpose()
    }

    async fn roll_quota(&self, state: &QuotaState, previous: Option<DateTime<Utc>>) -> StoreResult<bool> {
        let mut item = keyed(state, format!("WAQ#{}", state.tenant_id), "STATE")?;
        item.insert("gsi1pk".into(), s("WAQ"));
        item.insert("gsi1sk".into(), s(state.tenant_id.as_str()));
        let req = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let req = match previous {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(p) => req
                .condition_expression("reset_at = :prev")
                .expression_attribute_values(":prev", s(p.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
        };
        Ok(conditional(req.send().await)?.is_some())
    }

    async fn take_quota(&self, tenant: &TenantId, below: u32) -> StoreResult<Option<u32>> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("WAQ#{tenant}")))
            .key("sk", s("STATE"))
            .update_expression("ADD sent :one")
            .condition_expression("attribute_exists(pk) AND sent < :below")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":below", n(below))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        Ok(conditional(res)?.and_then(|o| {
            o.attributes.and_then(|a| a.get("sent").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()))
        }))
    }

    async fn quota_tenants(&self) -> StoreResult<Vec<TenantId>> {
        Ok(self
            .query_index("gsi1", "WAQ")
            .await?
            .iter()
            .filter_map(|i| i.get("gsi1sk")?.as_s().ok().and_then(|t| TenantId::parse(t)))
            .collect())
    }
}

#[async_trait]
impl FeatureStore for DynamoStore {
    async fn features(&self) -> StoreResult<BTreeMap<String, bool>> {
        Ok(self
            .query_prefix("FEATURES", "")
            .await?
            .into_iter()
            .filter_map(|i| Some((i.get("sk")?.as_s().ok()?.clone(), *i.get("enabled")?.as_bool().ok()?)))
            .collect())
    }

    async fn set_feature(&self, name: &str, enabled: bool) -> StoreResult<()> {
        let mut item = Item::new();
        item.insert("pk".into(), s("FEATURES"));
        item.insert("sk".into(), s(name));
        item.insert("enabled".into(), AttributeValue::Bool(enabled));
        self.put(item).await
    }
}

#[async_trait]
impl PendingReleases for DynamoStore {
    async fn pending_releases(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .query_prefix("RELEASES", "")
            .await?
            .into_iter()
            .filter_map(|i| i.get("sk")?.as_s().ok().cloned())
            .collect())
    }

    async fn set_pending_release(&self, hold_key: &str, pending: bool) -> StoreResult<()> {
        if pending {
            let mut item = Item::new();
            item.insert("pk".into(), s("RELEASES"));
            item.insert("sk".into(), s(hold_key));
            self.put(item).await
        } else {
            self.delete_key("RELEASES", hold_key).await
        }
    }
}
