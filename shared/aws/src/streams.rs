//! The message table's change stream, read the way a Lambda event source mapping reads it
//! (herald-local; in AWS the mapping invokes the stats function with the same records).
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_dynamodbstreams::Client;
use herald_core::message::Message;
use std::collections::HashMap;

/// A message record's image (`MSG#id` / `MSG`), or None for any other item or no image.
pub fn message_of(item: serde_dynamo::Item) -> Option<Message> {
    let key = |k: &str| match item.get(k) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    if !key("pk")?.starts_with("MSG#") || key("sk")? != "MSG" {
        return None;
    }
    match serde_dynamo::from_item(item) {
        Ok(m) => Some(m),
        Err(e) => {
            // Skipped, never a stuck stream: logged and counted (the `poison_records` alarm).
            tracing::error!(error = %e, "a message image that does not read as a message; skipped");
            herald_core::metrics::emit("poison_records", 1.0, &[("kind", "stream")]);
            None
        }
    }
}

/// One stream record: its images (empty when absent) and sequence number.
pub struct StreamChange {
    pub old_image: serde_dynamo::Item,
    pub new_image: serde_dynamo::Item,
    pub keys: serde_dynamo::Item,
    pub sequence_number: Option<String>,
    pub event_name: String,
}

/// Follows every shard of the table's latest stream from its oldest record.
pub struct StreamTail {
    client: Client,
    table: String,
    stream_arn: Option<String>,
    /// shard id → next iterator (None: the shard is closed and read to its end).
    shards: HashMap<String, Option<String>>,
}

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl StreamTail {
    pub fn new(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self { client: Client::new(config), table: table.into(), stream_arn: None, shards: HashMap::new() }
    }

    async fn discover(&mut self) -> Result<(), String> {
        if self.stream_arn.is_none() {
            let streams = self.client.list_streams().table_name(&self.table).send().await.map_err(err)?;
            self.stream_arn = streams.streams.unwrap_or_default().into_iter().filter_map(|s| s.stream_arn).next_back();
        }
        let Some(arn) = self.stream_arn.clone() else { return Ok(()) };
        let d = self.client.describe_stream().stream_arn(&arn).send().await.map_err(err)?;
        for shard in d.stream_description.and_then(|s| s.shards).unwrap_or_default() {
            let Some(id) = shard.shard_id else { continue };
            if self.shards.contains_key(&id) {
                continue;
            }
            let it = self
                .client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(err)?;
            self.shards.insert(id, it.shard_iterator);
        }
        Ok(())
    }

    /// The records written since the last call, in order per shard.
    pub async fn poll(&mut self, limit: i32) -> Result<Vec<StreamChange>, String> {
        self.discover().await?;
        let mut out = Vec::new();
        for next in self.shards.values_mut() {
            let Some(it) = next.clone() else { continue };
            let page = self.client.get_records().shard_iterator(it).limit(limit).send().await.map_err(err)?;
            *next = page.next_shard_iterator;
            for r in page.records.unwrap_or_default() {
                let event_name = r.event_name.map(|e| e.as_str().to_string()).unwrap_or_default();
                let Some(d) = r.dynamodb else { continue };
                out.push(StreamChange {
                    old_image: d.old_image.map(Into::into).unwrap_or_default(),
                    new_image: d.new_image.map(Into::into).unwrap_or_default(),
                    keys: d.keys.map(Into::into).unwrap_or_default(),
                    sequence_number: d.sequence_number,
                    event_name,
                });
            }
        }
        Ok(out)
    }
}
