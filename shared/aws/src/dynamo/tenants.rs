use super::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use herald_core::ids::{KeyId, TenantId};
use herald_core::ports::{
    AuditEntry, AuditFilter, AuditLog, ChannelStore, KeyStore, NumberStore, Page, StoreResult, TenantStore,
};
use herald_core::tenant::*;
use herald_core::Channel;

fn tenant_pk(id: &TenantId) -> String {
    format!("TEN#{id}")
}

fn tenant_item(t: &Tenant) -> Result<Item, StoreError> {
    let mut item = keyed(t, tenant_pk(&t.id), "META")?;
    item.insert("gsi1pk".into(), s("TENANTS"));
    item.insert("gsi1sk".into(), s(t.id.as_str()));
    Ok(item)
}

pub(crate) fn put_item(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
    let put =
        Put::builder().table_name(table).set_item(Some(item)).set_condition_expression(condition.map(str::to_string));
    Ok(TransactWriteItem::builder().put(put.build().map_err(unavailable)?).build())
}

impl DynamoStore {
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Vec<Option<String>>>, StoreError> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                    Ok(Err(c.cancellation_reasons().iter().map(|r| r.code().map(str::to_string)).collect()))
                }
                _ => Err(unavailable(e)),
            },
        }
    }
}

fn conditional_failed(reasons: &[Option<String>], index: usize) -> bool {
    reasons.get(index).and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed")
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn insert_tenant(&self, tenant: &Tenant, keys: &[ApiKeyRecord]) -> StoreResult<()> {
        let mut items = vec![put_item(&self.table, tenant_item(tenant)?, Some("attribute_not_exists(pk)"))?];
        for k in keys {
            items.push(put_item(
                &self.table,
                keyed(k, format!("KEY#{}", k.hash), "KEY")?,
                Some("attribute_not_exists(pk)"),
            )?);
            items.push(put_item(&self.table, keyed(k, tenant_pk(&tenant.id), &format!("KEY#{}", k.key_id))?, None)?);
        }
        self.transact(items).await?.map_err(|_| StoreError::Conflict)
    }

    async fn all_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.query_index("gsi1", "TENANTS").await?.into_iter().map(from_item).collect()
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.get(&tenant_pk(id), "META").await?.map(from_item).transpose()
    }

    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let next = Tenant { version: tenant.version + 1, ..tenant.clone() };
        // Records written before versions existed have none: version 0 matches them too.
        let condition = match tenant.version {
            0 => "attribute_exists(pk) AND (attribute_not_exists(version) OR version = :v)",
            _ => "attribute_exists(pk) AND version = :v",
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tenant_item(&next)?))
            .condition_expression(condition)
            .expression_attribute_values(":v", n(tenant.version as i64))
            .send()
            .await;
        conditional(put)?.map(|_| ()).ok_or(StoreError::Conflict)
    }
}

#[async_trait]
impl KeyStore for DynamoStore {
    async fn insert_key(&self, k: &ApiKeyRecord) -> StoreResult<()> {
        let items = vec![
            put_item(&self.table, keyed(k, format!("KEY#{}", k.hash), "KEY")?, Some("attribute_not_exists(pk)"))?,
            put_item(&self.table, keyed(k, tenant_pk(&k.tenant_id), &format!("KEY#{}", k.key_id))?, None)?,
        ];
        self.transact(items).await?.map_err(|_| StoreError::Conflict)
    }

    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.get(&format!("KEY#{hash}"), "KEY").await?.map(from_item).transpose()
    }

    async fn keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKeyRecord>> {
        self.query_prefix(&tenant_pk(tenant), "KEY#").await?.into_iter().map(from_item).collect()
    }

    async fn delete_key(&self, tenant: &TenantId, key_id: &KeyId) -> StoreResult<bool> {
        let Some(item) = self.get(&tenant_pk(tenant), &format!("KEY#{key_id}")).await? else { return Ok(false) };
        let rec: ApiKeyRecord = from_item(item)?;
        let del = |pk: String, sk: String| -> Result<TransactWriteItem, StoreError> {
            let d = Delete::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map_err(unavailable)?;
            Ok(TransactWriteItem::builder().delete(d).build())
        };
        let items =
            vec![del(format!("KEY#{}", rec.hash), "KEY".into())?, del(tenant_pk(tenant), format!("KEY#{key_id}"))?];
        self.transact(items).await?.map_err(|_| StoreError::Conflict)?;
        Ok(true)
    }

    async fn touch_key(&self, k: &ApiKeyRecord, at: chrono::DateTime<chrono::Utc>) -> StoreResult<()> {
        // Both copies (the lookup's and the tenant's list); never recreates a deleted key.
        let at = s(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        for (pk, sk) in
            [(format!("KEY#{}", k.hash), "KEY".to_string()), (tenant_pk(&k.tenant_id), format!("KEY#{}", k.key_id))]
        {
            let res = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .update_expression("SET last_used_at = :at")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", at.clone())
                .send()
                .await;
            conditional(res)?;
        }
        Ok(())
    }
}

#[async_trait]
impl ChannelStore for DynamoStore {
    async fn save_channel(&self, cfg: &ChannelConfig) -> StoreResult<()> {
        self.put(keyed(cfg, tenant_pk(&cfg.tenant_id), &format!("CH#{}", cfg.channel))?).await
    }

    async fn channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>> {
        self.get(&tenant_pk(tenant), &format!("CH#{channel}")).await?.map(from_item).transpose()
    }

    async fn channels(&self, tenant: &TenantId) -> StoreResult<Vec<ChannelConfig>> {
        self.query_prefix(&tenant_pk(tenant), "CH#").await?.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl NumberStore for DynamoStore {
    async fn save_number(&self, number: &SendingNumber) -> StoreResult<()> {
        let global = keyed(number, format!("NUM#{}", number.phone_number), "NUM")?;
        let put_global = Put::builder()
            .table_name(&self.table)
            .set_item(Some(global))
            .condition_expression("attribute_not_exists(pk) OR tenant_id = :t")
            .expression_attribute_values(":t", s(number.tenant_id.as_str()))
            .build()
            .map_err(unavailable)?;
        let items = vec![
            TransactWriteItem::builder().put(put_global).build(),
            put_item(
                &self.table,
                keyed(number, tenant_pk(&number.tenant_id), &format!("NUM#{}", number.phone_number))?,
                None,
            )?,
        ];
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(reasons) if conditional_failed(&reasons, 0) => Err(StoreError::Conflict),
            Err(_) => Err(StoreError::Unavailable("transaction cancelled".into())),
        }
    }

    async fn numbers(&self, tenant: &TenantId) -> StoreResult<Vec<SendingNumber>> {
        self.query_prefix(&tenant_pk(tenant), "NUM#").await?.into_iter().map(from_item).collect()
    }

    async fn number(&self, e164: &str) -> StoreResult<Option<SendingNumber>> {
        self.get(&format!("NUM#{e164}"), "NUM").await?.map(from_item).transpose()
    }

    async fn delete_number(&self, tenant: &TenantId, e164: &str) -> StoreResult<bool> {
        let Some(existing) = self.number(e164).await? else { return Ok(false) };
        if &existing.tenant_id != tenant {
            return Ok(false);
        }
        for (pk, sk) in [(format!("NUM#{e164}"), "NUM".to_string()), (tenant_pk(tenant), format!("NUM#{e164}"))] {
            self.delete_key(&pk, &sk).await?;
        }
        Ok(true)
    }
}
#[async_trait]
impl AuditLog for DynamoStore {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
        let scope = entry.tenant_id.as_ref().map(|t| t.to_string()).unwrap_or_else(|| "_system".into());
        let sk = format!("{}#{}", ts(&entry.at), ulid::Ulid::new());
        let mut item = keyed(entry, format!("AUDIT#{scope}"), &sk)?;
        item.insert("gsi1pk".into(), s("AUDIT"));
        item.insert("gsi1sk".into(), s(sk));
        self.put(item).await
    }

    async fn entries(&self, f: &AuditFilter, limit: u32, cursor: Option<&str>) -> StoreResult<Page<AuditEntry>> {
        let (index, pk_name, pk, sk_name) = match &f.tenant {
            Some(t) => (None, "pk", format!("AUDIT#{t}"), "sk"),
            None => (Some("gsi1"), "gsi1pk", "AUDIT".to_string(), "gsi1sk"),
        };
        let mut key = format!("{pk_name} = :pk");
        let mut q = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 500) as i32)
            .set_exclusive_start_key(decode_cursor(cursor, (pk_name, &pk))?)
            .expression_attribute_values(":pk", s(pk));
        if let Some(since) = f.since {
            key.push_str(&format!(" AND {sk_name} >= :since"));
            q = q.expression_attribute_values(":since", s(ts(&since)));
        }
        if let Some(action) = &f.action {
            q = q
                .filter_expression("begins_with(#action, :action)")
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action.as_str()));
        }
        let out = q.key_condition_expression(key).send().await.map_err(unavailable)?;
        let next_cursor = encode_cursor(out.last_evaluated_key.as_ref());
        let items = out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }
}
