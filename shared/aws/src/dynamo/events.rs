use super::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ids::TenantId;
use herald_core::inbound::{InboundMessage, Receipt};
use herald_core::ports::{EventLog, InboundStore, OrphanStore, StoreResult, WhatsappIndex};
use herald_core::Provider;

const ORPHAN_TTL_SECS: i64 = 7 * 24 * 3600;

#[async_trait]
impl EventLog for DynamoStore {
    async fn first_event(&self, key: &str, expires_at: i64) -> StoreResult<bool> {
        self.put_new([("pk".into(), s(key)), ("sk".into(), s("EVT")), ("ttl".into(), n(expires_at))].into()).await
    }

    async fn seen(&self, key: &str) -> StoreResult<bool> {
        Ok(self.get(key, "EVT").await?.is_some())
    }
}

#[async_trait]
impl InboundStore for DynamoStore {
    async fn save_inbound(&self, m: &InboundMessage) -> StoreResult<()> {
        self.put(keyed(m, format!("INB#{}", m.tenant_id), &format!("{}#{}", ts(&m.received_at), m.id))?).await
    }

    async fn inbound(
        &self,
        tenant: &TenantId,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<InboundMessage>> {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(format!("INB#{tenant}")))
            .limit(limit as i32);
        let q = match since {
            Some(t) => {
                q.key_condition_expression("pk = :pk AND sk >= :since").expression_attribute_values(":since", s(ts(&t)))
            }
            None => q.key_condition_expression("pk = :pk"),
        };
        let out = q.send().await.map_err(unavailable)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl OrphanStore for DynamoStore {
    async fn save_orphan(&self, r: &Receipt) -> StoreResult<()> {
        let mut item = keyed(
            r,
            format!("ORPHAN#{}#{}", r.provider, r.provider_message_id),
            &format!("{}#{}", ts(&r.at), r.status),
        )?;
        item.insert("ttl".into(), n(r.at.timestamp() + ORPHAN_TTL_SECS));
        // The sweep finds orphans by age (a sparse index partition, never a scan).
        item.insert("gsi2pk".into(), s("ORPHANS"));
        item.insert("gsi2sk".into(), s(format!("{}#{}#{}", ts(&r.at), r.provider, r.provider_message_id)));
        self.put(item).await
    }

    async fn take_orphans(&self, provider: Provider, pmid: &str) -> StoreResult<Vec<Receipt>> {
        let pk = format!("ORPHAN#{provider}#{pmid}");
        let items = self.query_prefix(&pk, "").await?;
        let mut out = Vec::new();
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            out.push(from_item(item)?);
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s(sk))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(out)
    }

    async fn old_orphans(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Receipt>> {
        self.query_due("ORPHANS", &before, limit).await?.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl WhatsappIndex for DynamoStore {
    async fn set_whatsapp_index(&self, tenant: &TenantId, pnid: &str, token_hash: &str) -> StoreResult<()> {
        let item = |pk: String| {
            Item::from([("pk".into(), s(pk)), ("sk".into(), s("WA")), ("tenant_id".into(), s(tenant.as_str()))])
        };
        // One claim per phone_number_id: a conditional write, never read-then-write.
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(format!("WAPNID#{pnid}"))))
            .condition_expression("attribute_not_exists(pk) OR tenant_id = :t")
            .expression_attribute_values(":t", s(tenant.as_str()))
            .send()
            .await;
        if conditional(claimed)?.is_none() {
            return Err(StoreError::Conflict);
        }
        self.put(item(format!("WAVERIFY#{token_hash}"))).await
    }

    async fn whatsapp_tenant(&self, pnid: &str) -> StoreResult<Option<TenantId>> {
        Ok(self
            .get(&format!("WAPNID#{pnid}"), "WA")
            .await?
            .and_then(|i| i.get("tenant_id")?.as_s().ok().and_then(|t| TenantId::parse(t))))
    }

    async fn whatsapp_tenant_by_token(&self, token_hash: &str) -> StoreResult<Option<TenantId>> {
        Ok(self
            .get(&format!("WAVERIFY#{token_hash}"), "WA")
            .await?
            .and_then(|i| i.get("tenant_id")?.as_s().ok().and_then(|t| TenantId::parse(t))))
    }
}
