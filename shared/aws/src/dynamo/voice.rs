//! Voice: settings (`TEN#tenant` / `VOICE`), calls (`CALL#sid` / `CALL`, listed through
//! `gsi1` `TCALL#tenant` / `created#sid`: calls are few and their list shows whole items) and
//! the text-back cool-down per caller (`VCOOL#tenant` / caller, expiring).
use super::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ports::{Page, StoreResult, VoiceStore};
use herald_core::voice::{Call, VoiceSettings};
use herald_core::TenantId;

fn call_item(c: &Call) -> Result<Item, StoreError> {
    let mut item = keyed(c, format!("CALL#{}", c.call_sid), "CALL")?;
    item.insert("gsi1pk".into(), s(format!("TCALL#{}", c.tenant_id)));
    item.insert("gsi1sk".into(), s(format!("{}#{}", ts(&c.created_at), c.call_sid)));
    // Call records are kept a year.
    item.insert("ttl".into(), n(c.created_at.timestamp() + 365 * 86_400));
    Ok(item)
}

#[async_trait]
impl VoiceStore for DynamoStore {
    async fn voice_settings(&self, tenant: &TenantId) -> StoreResult<Option<VoiceSettings>> {
        self.get(&format!("TEN#{tenant}"), "VOICE").await?.map(from_item).transpose()
    }

    async fn put_voice_settings(&self, tenant: &TenantId, settings: &VoiceSettings) -> StoreResult<()> {
        self.put(keyed(settings, format!("TEN#{tenant}"), "VOICE")?).await
    }

    async fn call(&self, call_sid: &str) -> StoreResult<Option<Call>> {
        self.get(&format!("CALL#{call_sid}"), "CALL").await?.map(from_item).transpose()
    }

    async fn insert_call(&self, call: &Call) -> StoreResult<bool> {
        self.put_new(call_item(call)?).await
    }

    async fn replace_call(&self, call: &Call) -> StoreResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(call_item(call)?))
            .condition_expression("#v = :prev")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":prev", n(call.version.saturating_sub(1)))
            .send()
            .await;
        Ok(conditional(res)?.is_some())
    }

    async fn calls(
        &self,
        tenant: &TenantId,
        since: Option<DateTime<Utc>>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Call>> {
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(decode_cursor(cursor, ("gsi1pk", &format!("TCALL#{tenant}")))?)
            .expression_attribute_values(":pk", s(format!("TCALL#{tenant}")));
        q = match since {
            Some(t) => q
                .key_condition_expression("gsi1pk = :pk AND gsi1sk >= :since")
                .expression_attribute_values(":since", s(ts(&t))),
            None => q.key_condition_expression("gsi1pk = :pk"),
        };
        let out = q.send().await.map_err(unavailable)?;
        let next_cursor = encode_cursor(out.last_evaluated_key.as_ref());
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn claim_text_back(
        &self,
        tenant: &TenantId,
        caller: &str,
        call_sid: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("VCOOL#{tenant}")))
            .item("sk", s(caller))
            .item("call_sid", s(call_sid))
            .item("until", n(until.timestamp()))
            .item("ttl", n(until.timestamp()))
            .condition_expression("attribute_not_exists(pk) OR #until <= :now OR call_sid = :sid")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":sid", s(call_sid))
            .send()
            .await;
        Ok(conditional(res)?.is_some())
    }
}
