use super::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::ids::TenantId;
use herald_core::inbound::{InboundMessage, Receipt};
use herald_core::ports::{EventLog, InboundStore, OrphanRef, OrphanStore, StoreResult, WhatsappIndex};
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
        let mut out = Vec::new();
        for item in self.query_prefix(&pk, "").await? {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match from_item(item) {
                Ok(r) => out.push(r),
                // A kept receipt that no longer reads is dropped with a trace, never retried.
                Err(e) => poison("early_receipt", &pk, &e),
            }
            self.delete_key(&pk, &sk).await?;
        }
        Ok(out)
    }

    async fn old_orphans(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<OrphanRef>> {
        // gsi2 projects keys only: the work list is read from the index key itself.
        let mut out = Vec::new();
        for item in self.query_due("ORPHANS", &before, limit).await? {
            let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            match orphan_ref(&key("gsi2sk")) {
                Some(r) => out.push(r),
                None => {
                    poison("early_receipt", &key("pk"), &"an index entry that does not read");
                    self.delete_key(&key("pk"), &key("sk")).await?;
                }
            }
        }
        Ok(out)
    }

    async fn drop_orphans(&self, provider: Provider, pmid: &str) -> StoreResult<()> {
        let pk = format!("ORPHAN#{provider}#{pmid}");
        for item in self.query_prefix(&pk, "").await? {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            self.delete_key(&pk, &sk).await?;
        }
        Ok(())
    }
}

/// `{at}#{provider}#{provider message id}`, the orphan index's sort key.
fn orphan_ref(gsi2sk: &str) -> Option<OrphanRef> {
    let mut parts = gsi2sk.splitn(3, '#');
    let at = DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc);
    let provider = parts.next()?.parse().ok()?;
    let provider_message_id = parts.next().filter(|p| !p.is_empty())?.to_string();
    Some(OrphanRef { provider, provider_message_id, at })
}

/// A stored record that cannot be read: logged and counted (the `poison_records` alarm),
/// then set aside by the caller so that no run fails on it again.
pub(crate) fn poison(kind: &str, key: &str, error: &dyn std::fmt::Display) {
    tracing::error!(kind, key, error = %error, "a stored record that does not read was set aside");
    herald_core::metrics::emit("poison_records", 1.0, &[("kind", kind)]);
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

    async fn claim(&self, tenant: &TenantId, key: &str) -> StoreResult<bool> {
        let pk = format!("CLAIM#{key}");
        let item =
            Item::from([("pk".into(), s(&pk)), ("sk".into(), s("CLAIM")), ("tenant_id".into(), s(tenant.as_str()))]);
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        if conditional(put.condition_expression("attribute_not_exists(pk)").send().await)?.is_some() {
            return Ok(true);
        }
        let holder = self.get(&pk, "CLAIM").await?;
        match holder.and_then(|i| i.get("tenant_id")?.as_s().ok().cloned()) {
            Some(t) if t == tenant.as_str() => Ok(false),
            _ => Err(StoreError::Conflict),
        }
    }

    async fn release(&self, tenant: &TenantId, key: &str) -> StoreResult<()> {
        let del = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("CLAIM#{key}")))
            .key("sk", s("CLAIM"))
            .condition_expression("tenant_id = :t")
            .expression_attribute_values(":t", s(tenant.as_str()))
            .send()
            .await;
        conditional(del).map(|_| ())
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
