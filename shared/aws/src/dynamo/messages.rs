use super::*;
use async_trait::async_trait;
use herald_core::guards::DncEntry;
use herald_core::ids::{KeyMode, MessageId, TenantId};
use herald_core::message::{Message, StatusStep};
use herald_core::ports::{
    DeadLetterIndex, IdempotencyStore, Inserted, MessageFilter, MessageStore, Page, SendReads, Stepped, StoreResult,
    WorkIndex, WorkState,
};
use herald_core::tenant::IdempotencyRecord;
use herald_core::Provider;

const IDEMPOTENCY_TTL_SECS: i64 = 7 * 24 * 3600;
/// A filtered list reads at most this many index pages per request, then answers with what
/// it found and a cursor (a rare recipient never makes one request read a whole tenant).
const MAX_LIST_PAGES: usize = 10;
/// Archived dead letters are kept a year for audit.
const ARCHIVE_TTL_SECS: i64 = 365 * 24 * 3600;

fn msg_pk(id: &MessageId) -> String {
    format!("MSG#{id}")
}

fn shard(id: &MessageId) -> u32 {
    id.as_str().bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32)) % WORK_SHARDS
}

fn work_state_name(w: WorkState) -> &'static str {
    match w {
        WorkState::Active => "active",
        WorkState::Held => "held",
    }
}

/// The message record with its index attributes: the work index only while something is
/// due, the provider-id index once the provider has named the message.
fn message_item(m: &Message) -> Result<Item, StoreError> {
    let mut item = keyed(m, msg_pk(&m.id), "MSG")?;
    // Each key mode has its own partitions: a test key never reads live messages.
    let mode = m.key_mode.partition_suffix();
    // The list index (keys only): message ids are ULIDs, in creation order by themselves.
    item.insert("gsi4pk".into(), s(format!("TMSG#{}{mode}", m.tenant_id)));
    item.insert("gsi4sk".into(), s(m.id.as_str()));
    if let Some(sk) = m.dlq_sort_key() {
        // Dead letters: the DLQ index (a failed message is in no work state).
        item.insert("gsi2pk".into(), s(format!("DLQ#{}{mode}", m.tenant_id)));
        item.insert("gsi2sk".into(), s(sk));
    } else if let Some(at) = m.archived_at {
        item.insert("gsi2pk".into(), s(format!("ARCHIVE#{}{mode}", m.tenant_id)));
        item.insert("gsi2sk".into(), s(format!("{}#{}", ts(&at), m.id)));
        item.insert("ttl".into(), n(at.timestamp() + ARCHIVE_TTL_SECS));
    } else if let (Some(state), Some(due)) = (WorkState::of(m.status), m.due_at) {
        item.insert("gsi2pk".into(), s(format!("WORK#{}#{}", work_state_name(state), shard(&m.id))));
        item.insert("gsi2sk".into(), s(format!("{}#{}", ts(&due), m.id)));
    }
    if let Some(key) = m.hold_key() {
        // gsi3 doubles as the hold index: a held message has no provider id yet.
        item.insert("gsi3pk".into(), s(key.to_string()));
        item.insert("gsi3sk".into(), s(format!("{}#{}", ts(&m.created_at), m.id)));
    } else if let (Some(p), Some(pmid), false) = (m.provider, &m.provider_message_id, m.receipts_by_id) {
        item.insert("gsi3pk".into(), s(format!("PMID#{p}#{pmid}")));
        item.insert("gsi3sk".into(), s("MSG"));
    }
    Ok(item)
}

/// The message id of an index item (its table key is `MSG#<id>`).
fn message_id_of(item: &Item) -> Option<MessageId> {
    item.get("pk")?.as_s().ok()?.strip_prefix("MSG#").and_then(MessageId::parse)
}

impl DynamoStore {
    /// Message ids in one `gsi3` partition (a provider id, or a hold key), oldest first.
    async fn gsi3_message_ids(&self, pk: &str, limit: u32) -> StoreResult<Vec<MessageId>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi3")
            .key_condition_expression("gsi3pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .limit(limit as i32)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.items.unwrap_or_default().iter().filter_map(message_id_of).collect())
    }
}

fn idem_pk(tenant: &TenantId, key: &str) -> String {
    format!("IDEM#{tenant}#{key}")
}

#[async_trait]
impl MessageStore for DynamoStore {
    async fn insert(&self, msg: &Message) -> StoreResult<Inserted> {
        Ok(if self.put_new(message_item(msg)?).await? { Inserted::Created } else { Inserted::Exists })
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        self.get(&msg_pk(id), "MSG").await?.map(from_item).transpose()
    }

    async fn messages(&self, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        self.messages_by_id(ids).await
    }

    async fn created_between(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        from: &MessageId,
        to: &MessageId,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        // The list index's sort key is the id (a ULID): a time range is a key range.
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi4")
            .key_condition_expression("gsi4pk = :pk AND gsi4sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(format!("TMSG#{tenant}{}", mode.partition_suffix())))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":to", s(to.as_str()))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(unavailable)?;
        let ids: Vec<MessageId> = page.items.unwrap_or_default().iter().filter_map(message_id_of).collect();
        self.messages_by_id(&ids).await
    }

    async fn replace(&self, msg: &Message) -> StoreResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(message_item(msg)?))
            .condition_expression("#v = :prev")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":prev", n(msg.version.saturating_sub(1)))
            .send()
            .await;
        Ok(conditional(res)?.is_some())
    }

    async fn step(&self, id: &MessageId, step: &StatusStep) -> StoreResult<Stepped> {
        self.apply_step(&msg_pk(id), step).await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &MessageFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Message>> {
        let mut items = Vec::new();
        let pk = format!("TMSG#{tenant}{}", filter.mode.partition_suffix());
        let mut start = decode_cursor(cursor, ("gsi4pk", &pk))?;
        // The date range is a range of ids; an hour past `until` is still before it.
        let lo = MessageId::floor_at(filter.since.map(|t| t.timestamp_millis().max(0) as u64).unwrap_or(0));
        let hi = MessageId::floor_at(filter.until.map(|t| t.timestamp_millis().max(0) as u64).unwrap_or(1 << 47));
        for _ in 0..MAX_LIST_PAGES {
            // The index holds keys only: a page of ids, then the messages in one batch read.
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi4")
                .key_condition_expression("gsi4pk = :pk AND gsi4sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":lo", s(lo.as_str()))
                .expression_attribute_values(":hi", s(hi.as_str()))
                .scan_index_forward(false)
                .limit((limit - items.len() as u32).clamp(1, 100) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            let ids: Vec<MessageId> = page.items.unwrap_or_default().iter().filter_map(message_id_of).collect();
            items.extend(self.messages_by_id(&ids).await?.into_iter().filter(|m| filter.matches(m)));
            start = page.last_evaluated_key;
            if start.is_none() || items.len() as u32 >= limit {
                break;
            }
        }
        Ok(Page { items, next_cursor: encode_cursor(start.as_ref()) })
    }
}

#[async_trait]
impl SendReads for DynamoStore {
    async fn message_and_dnc(
        &self,
        id: &MessageId,
        tenant: &TenantId,
        to: &str,
    ) -> StoreResult<(Option<Message>, Option<DncEntry>)> {
        let dnc_pk = format!("DNC#{tenant}");
        let keys = vec![key(msg_pk(id), "MSG"), key(dnc_pk.clone(), to)];
        let (mut msg, mut dnc) = (None, None);
        for item in self.batch_read(keys, true).await? {
            match item.get("pk").and_then(|v| v.as_s().ok()) {
                Some(pk) if *pk == dnc_pk => dnc = Some(from_item(item)?),
                Some(_) => msg = Some(from_item(item)?),
                None => {}
            }
        }
        Ok((msg, dnc))
    }
}

fn key(pk: String, sk: &str) -> Item {
    [("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))].into()
}

impl DynamoStore {
    /// Items by key (≤ 100), unprocessed keys (throttling) asked for again.
    async fn batch_read(&self, keys: Vec<Item>, consistent: bool) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut request = Some(
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(consistent)
                .build()
                .map_err(unavailable)?,
        );
        for _ in 0..5 {
            let Some(req) = request.take() else { break };
            let out = self.client.batch_get_item().request_items(&self.table, req).send().await.map_err(unavailable)?;
            found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
            request = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
        }
        if request.is_some() {
            return Err(StoreError::Unavailable("dynamodb: keys left unprocessed".into()));
        }
        Ok(found)
    }

    /// Messages by id in that order (missing ones left out), ≤ 100 per batch read.
    async fn messages_by_id(&self, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        let mut found: std::collections::HashMap<String, Message> = std::collections::HashMap::new();
        for chunk in ids.chunks(100) {
            let keys = chunk.iter().map(|id| key(msg_pk(id), "MSG")).collect();
            for item in self.batch_read(keys, false).await? {
                let m: Message = from_item(item)?;
                found.insert(m.id.to_string(), m);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id.as_str())).collect())
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn idempotency(&self, tenant: &TenantId, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.get(&idem_pk(tenant, key), "IDEM").await?.map(from_item).transpose()
    }

    async fn claim_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<bool> {
        let mut item = keyed(record, idem_pk(&record.tenant_id, &record.key), "IDEM")?;
        item.insert("ttl".into(), n(record.created_at.timestamp() + IDEMPOTENCY_TTL_SECS));
        self.put_new(item).await
    }

    async fn complete_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<()> {
        self.put(keyed(record, idem_pk(&record.tenant_id, &record.key), "IDEM")?).await
    }
}

#[async_trait]
impl WorkIndex for DynamoStore {
    async fn due(
        &self,
        state: WorkState,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<MessageId>> {
        let mut found: Vec<(String, MessageId)> = Vec::new();
        for sh in 0..WORK_SHARDS {
            for item in self.query_due(&format!("WORK#{}#{sh}", work_state_name(state)), &before, limit).await? {
                if let (Some(id), Some(Ok(sk))) = (message_id_of(&item), item.get("gsi2sk").map(|v| v.as_s())) {
                    found.push((sk.clone(), id));
                }
            }
        }
        found.sort();
        Ok(found.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }

    async fn by_provider_id(&self, provider: Provider, pmid: &str) -> StoreResult<Option<MessageId>> {
        Ok(self.gsi3_message_ids(&format!("PMID#{provider}#{pmid}"), 1).await?.into_iter().next())
    }

    async fn held(&self, hold_key: &str, limit: u32) -> StoreResult<Vec<MessageId>> {
        self.gsi3_message_ids(hold_key, limit).await
    }
}

#[async_trait]
impl DeadLetterIndex for DynamoStore {
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        archived: bool,
        prefix: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<Page<(MessageId, String)>> {
        let kind = if archived { "ARCHIVE" } else { "DLQ" };
        let pk = format!("{kind}#{tenant}{}", mode.partition_suffix());
        let start = decode_cursor(cursor, ("gsi2pk", &pk))?;
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .expression_attribute_values(":pk", s(pk))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start);
        let q = if prefix.is_empty() {
            q.key_condition_expression("gsi2pk = :pk")
        } else {
            q.key_condition_expression("gsi2pk = :pk AND begins_with(gsi2sk, :p)")
                .expression_attribute_values(":p", s(prefix))
        };
        let out = q.send().await.map_err(unavailable)?;
        let items = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|i| Some((message_id_of(i)?, i.get("gsi2sk")?.as_s().ok()?.clone())))
            .collect();
        Ok(Page { items, next_cursor: encode_cursor(out.last_evaluated_key.as_ref()) })
    }
}
