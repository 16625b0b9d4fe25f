//! DynamoDB adapter: one table, string keys `pk`/`sk`, four sparse GSIs (`gsi1` projects
//! everything, for the small lists that need whole items; `gsi2`–`gsi4` keys only).
//!
//! | item | pk | sk | gsi1 | gsi2 (work) | gsi3 |
//! |---|---|---|---|---|---|
//! | tenant | `TEN#id` | `META` | | | |
//! | api key | `KEY#sha256` | `KEY` (+ `TEN#id`/`KEY#key_id`) | | | |
//! | channel | `TEN#id` | `CH#sms` | | | |
//! | number | `NUM#+1…` | `NUM` (+ `TEN#id`/`NUM#+1…`) | | | |
//! | message | `MSG#id` | `MSG` | — (gsi4: `TMSG#tenant[#test]` / `id`) | `WORK#state#shard` / `due#id` | `PMID#provider#id` (only without receipts by id) |
//! | idempotency | `IDEM#tenant#key` | `IDEM` | | | |
//! | audit | `AUDIT#tenant` | `at#ulid` | `AUDIT` / `at#ulid` | | |
//! | email identity claims | `EMAILDOM#domain` | `CLAIMS` | | | |
//! | email identity | `EIDENT#tenant` | identity | | | |
//! | WhatsApp number claim | `WAPNID#id` | `WA` | | | |
//! | voice settings | `TEN#id` | `VOICE` | | | |
//! | call | `CALL#sid` | `CALL` | `TCALL#tenant` / `created#sid` | | |
//! | text-back cool-down | `VCOOL#tenant` | caller | | | |
//! | outcome counters | `STATS#YYYYMMDDHH` | `tenant#channel` | | | |
//! | held per reason | `STATS#HELD` | `channel` | | | |
//! | console user | `USER#id` | `USER` | `USERS#tenant` (or `#OPERATORS`) / `id` | | |
//! | a user's email | `UEMAIL#email` | `UEMAIL` | | | |
//! | console session | `SESS#sha256` | `SESS` (ttl) | | | |
mod breakers;
mod events;
mod guards;
mod identities;
mod linking;
mod messages;
mod stats;
mod steps;
mod tenants;
mod users;
mod voice;

use crate::SetupError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use herald_core::ports::StoreError;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

fn stream_spec() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .expect("stream_enabled is set")
}

/// Shards of the work index, so one hot status does not make one hot partition.
pub const WORK_SHARDS: u32 = 4;

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    let text = format!("{e:?}");
    tracing::error!(error = %text.chars().take(500).collect::<String>(), "dynamodb call failed");
    StoreError::Unavailable("dynamodb".into())
}

/// A conditional write's result: Some(output), None when the condition failed, or the error.
pub(crate) fn conditional<T, E, Raw>(
    res: Result<T, aws_sdk_dynamodb::error::SdkError<E, Raw>>,
) -> Result<Option<T>, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    Raw: std::fmt::Debug,
{
    match res {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

pub(crate) fn to_item<T: serde::Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(|e| StoreError::Unavailable(format!("encode: {e}")))
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Unavailable(format!("decode: {e}")))
}

pub(crate) fn keyed<T: serde::Serialize>(v: &T, pk: String, sk: &str) -> Result<Item, StoreError> {
    let mut item = to_item(v)?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    Ok(item)
}

pub(crate) fn ts(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A pagination cursor is the last evaluated key, hex-encoded JSON of its string values.
pub(crate) fn encode_cursor(key: Option<&Item>) -> Option<String> {
    let key = key?;
    let map: HashMap<&str, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
    Some(hex::encode(serde_json::to_vec(&map).ok()?))
}

/// The start key a cursor names, checked: it must read, and it must be a key of the very
/// partition being queried (`partition` = (key attribute, value)); else `BadCursor` (400),
/// never a DynamoDB ValidationException (503) or a silent restart from the first page.
pub(crate) fn decode_cursor(cursor: Option<&str>, partition: (&str, &str)) -> Result<Option<Item>, StoreError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let map: HashMap<String, String> =
        hex::decode(cursor).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or(StoreError::BadCursor)?;
    if map.get(partition.0).map(String::as_str) != Some(partition.1) || !map.contains_key("pk") {
        return Err(StoreError::BadCursor);
    }
    Ok(Some(map.into_iter().map(|(k, v)| (k, s(v))).collect()))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub(crate) async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get_read(pk, sk, true).await
    }

    /// An eventually consistent read: half the cost, may miss a write of the last second.
    pub(crate) async fn get_eventual(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get_read(pk, sk, false).await
    }

    async fn get_read(&self, pk: &str, sk: &str, consistent: bool) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(unavailable)?;
        Ok(())
    }

    /// Takes an item out of the work index it sits in (it stays in the table for reading).
    pub(crate) async fn set_aside(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("REMOVE gsi2pk, gsi2sk SET set_aside = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(crate) async fn delete_key(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Writes `item` only if no item has its key yet; false when one has.
    pub(crate) async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional(res)?.is_some())
    }

    /// Items of one partition whose sort key starts with `prefix`.
    pub(crate) async fn query_prefix(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let q = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start);
            // An empty prefix is not a valid begins_with operand: query the whole partition.
            let q = if prefix.is_empty() {
                q.key_condition_expression("pk = :pk")
            } else {
                q.key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                    .expression_attribute_values(":p", s(prefix))
            };
            let page = q.send().await.map_err(unavailable)?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// Items of a `gsi2` partition whose sort key (time first) is at or before `before`.
    pub(crate) async fn query_due(
        &self,
        pk: &str,
        before: &chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<Item>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :pk AND gsi2sk <= :before")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":before", s(format!("{}#~", ts(before))))
            .limit(limit as i32)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.items.unwrap_or_default())
    }

    /// Every item of one partition of a GSI (`gsi1`, `gsi2`, `gsi3`), all pages.
    pub(crate) async fn query_index(&self, index: &str, pk: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(format!("{index}pk = :pk"))
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// Creates the table when it is missing (herald-local; in AWS the template owns it).
    /// The change stream (new and old images) feeds the outcome counters, as in the template.
    pub async fn ensure_table(&self) -> Result<bool, SetupError> {
        if let Ok(d) = self.client.describe_table().table_name(&self.table).send().await {
            let streaming = d.table.and_then(|t| t.stream_specification).is_some_and(|s| s.stream_enabled);
            if !streaming {
                // A table from before the stream existed (a kept local emulator state).
                self.client
                    .update_table()
                    .table_name(&self.table)
                    .stream_specification(stream_spec())
                    .send()
                    .await
                    .map_err(|e| format!("enable the stream of {}: {e:?}", self.table))?;
            }
            return Ok(false);
        }
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
        };
        let key =
            |name: &str, t: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap();
        let gsi = |name: &str, pk: &str, sk: &str, projection: ProjectionType| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash))
                .key_schema(key(sk, KeyType::Range))
                .projection(Projection::builder().projection_type(projection).build())
                .build()
                .unwrap()
        };
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .global_secondary_indexes(gsi("gsi1", "gsi1pk", "gsi1sk", ProjectionType::All))
            .global_secondary_indexes(gsi("gsi2", "gsi2pk", "gsi2sk", ProjectionType::KeysOnly))
            .global_secondary_indexes(gsi("gsi3", "gsi3pk", "gsi3sk", ProjectionType::KeysOnly))
            .global_secondary_indexes(gsi("gsi4", "gsi4pk", "gsi4sk", ProjectionType::KeysOnly))
            .stream_specification(stream_spec());
        for a in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "gsi4pk", "gsi4sk"] {
            req = req.attribute_definitions(attr(a));
        }
        req.send().await.map_err(|e| format!("create table {}: {e:?}", self.table))?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name("ttl")
            .enabled(true)
            .build()
            .map_err(|e| e.to_string())?;
        let _ = self.client.update_time_to_live().table_name(&self.table).time_to_live_specification(ttl).send().await;
        Ok(true)
    }
}
