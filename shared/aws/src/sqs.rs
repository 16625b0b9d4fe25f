//! SQS FIFO adapter: one queue per channel, each with its own FIFO dead-letter queue.
use crate::SetupError;
use async_trait::async_trait;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;
use herald_core::message::SendJob;
use herald_core::ports::{CallbackQueue, Enqueued, QueueDepth, QueueError, SendQueue};
use herald_core::Channel;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct QueuePair {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

#[derive(Clone)]
pub struct SqsQueues {
    client: Client,
    queues: HashMap<Channel, QueuePair>,
    /// The tenant status-callback queue (standard, with its own DLQ).
    callbacks: Option<QueuePair>,
}

fn err<E: std::fmt::Debug>(e: E) -> QueueError {
    let text = format!("{e:?}");
    tracing::error!(error = %text.chars().take(400).collect::<String>(), "sqs call failed");
    QueueError("sqs".into())
}

/// What a Lambda event source mapping hands the function, per record.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub attributes: HashMap<String, String>,
}

impl SqsQueues {
    pub fn new(client: Client, queues: HashMap<Channel, QueuePair>, callbacks: Option<QueuePair>) -> Self {
        Self { client, queues, callbacks }
    }

    pub fn callbacks(&self) -> Option<&QueuePair> {
        self.callbacks.as_ref()
    }

    pub fn pair(&self, channel: Channel) -> Result<&QueuePair, QueueError> {
        self.queues.get(&channel).ok_or_else(|| QueueError(format!("no queue configured for {channel}")))
    }

    /// Resolves queue URLs (and ARNs) by name: `{prefix}-{channel}.fifo` and its `-dlq`.
    pub async fn lookup(client: Client, prefix: &str) -> Result<Self, SetupError> {
        let mut queues = HashMap::new();
        let url = |name: String| {
            let c = client.clone();
            async move {
                c.get_queue_url()
                    .queue_name(&name)
                    .send()
                    .await
                    .map_err(|e| format!("{name}: {e:?}"))?
                    .queue_url
                    .ok_or(name)
            }
        };
        for ch in Channel::ALL {
            let main = url(format!("{prefix}-{ch}.fifo")).await?;
            let dlq_url = url(format!("{prefix}-{ch}-dlq.fifo")).await?;
            let arn = queue_arn(&client, &main).await?;
            queues.insert(ch, QueuePair { url: main, arn, dlq_url });
        }
        let callbacks = match (url(format!("{prefix}-callbacks")).await, url(format!("{prefix}-callbacks-dlq")).await) {
            (Ok(u), Ok(d)) => Some(QueuePair { arn: queue_arn(&client, &u).await?, url: u, dlq_url: d }),
            _ => None,
        };
        Ok(Self { client, queues, callbacks })
    }

    /// Creates missing queues with the template's settings (herald-local only).
    pub async fn ensure(
        client: Client,
        prefix: &str,
        visibility: Duration,
        max_receive: u32,
    ) -> Result<Self, SetupError> {
        for ch in Channel::ALL {
            let dlq = client
                .create_queue()
                .queue_name(format!("{prefix}-{ch}-dlq.fifo"))
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
                .send()
                .await
                .map_err(|e| format!("create dlq: {e:?}"))?;
            let dlq_arn = queue_arn(&client, dlq.queue_url().unwrap_or_default()).await?;
            let redrive =
                serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}).to_string();
            let res = client
                .create_queue()
                .queue_name(format!("{prefix}-{ch}.fifo"))
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())
                .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
                .attributes(QueueAttributeName::RedrivePolicy, redrive)
                .send()
                .await;
            if let Err(e) = res {
                // Exists with other attributes: keep it as it is.
                tracing::warn!(queue = %format!("{prefix}-{ch}.fifo"), error = ?e.as_service_error().map(|s| s.to_string()), "create_queue");
            }
        }
        let dlq = client
            .create_queue()
            .queue_name(format!("{prefix}-callbacks-dlq"))
            .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .map_err(|e| format!("create callbacks dlq: {e:?}"))?;
        let dlq_arn = queue_arn(&client, dlq.queue_url().unwrap_or_default()).await?;
        let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 8}).to_string();
        let _ = client
            .create_queue()
            .queue_name(format!("{prefix}-callbacks"))
            .attributes(QueueAttributeName::VisibilityTimeout, "30")
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await;
        Self::lookup(client, prefix).await
    }

    /// Receives up to `max` records with the attributes an event source mapping passes on.
    pub async fn receive(&self, channel: Channel, max: i32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let url = self.pair(channel)?.url.clone();
        self.receive_url(&url, max, wait).await
    }

    pub async fn receive_url(&self, url: &str, max: i32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(err)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
                attributes: m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_string(), v))
                    .collect(),
            })
            .collect())
    }

    pub async fn delete(&self, channel: Channel, receipt_handles: &[String]) -> Result<(), QueueError> {
        let url = self.pair(channel)?.url.clone();
        self.delete_url(&url, receipt_handles).await
    }

    pub async fn delete_url(&self, url: &str, receipt_handles: &[String]) -> Result<(), QueueError> {
        for chunk in receipt_handles.chunks(10) {
            let mut req = self.client.delete_message_batch().queue_url(url);
            for (i, h) in chunk.iter().enumerate() {
                req = req.entries(
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(h)
                        .build()
                        .map_err(err)?,
                );
            }
            req.send().await.map_err(err)?;
        }
        Ok(())
    }

    async fn count(&self, url: &str) -> Result<(u64, u64), QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(err)?;
        let attrs = out.attributes.unwrap_or_default();
        let get = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((
            get(QueueAttributeName::ApproximateNumberOfMessages),
            get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }
}

async fn queue_arn(client: &Client, url: &str) -> Result<String, SetupError> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("queue arn: {e:?}"))?;
    out.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).ok_or_else(|| "no queue arn".into())
}

impl SqsQueues {
    pub async fn delay_url(&self, url: &str, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }
}

/// The job's correlation id as a message attribute (a consumer can read it without the body).
fn correlation_attribute(job: &SendJob) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder().data_type("String").string_value(job.correlation_id.as_str()).build().map_err(err)
}

fn batch_entry(i: usize, j: &Enqueued) -> Result<SendMessageBatchRequestEntry, QueueError> {
    SendMessageBatchRequestEntry::builder()
        .id(i.to_string())
        .message_body(serde_json::to_string(&j.job).map_err(err)?)
        .message_group_id(&j.group_id)
        .message_deduplication_id(&j.dedup_id)
        .message_attributes("correlation_id", correlation_attribute(&j.job)?)
        .build()
        .map_err(err)
}

#[async_trait]
impl SendQueue for SqsQueues {
    async fn enqueue(&self, job: &SendJob, group_id: &str, dedup_id: &str) -> Result<(), QueueError> {
        let pair = self.pair(job.channel)?;
        let body = serde_json::to_string(job).map_err(err)?;
        self.client
            .send_message()
            .queue_url(&pair.url)
            .message_body(body)
            .message_group_id(group_id)
            .message_deduplication_id(dedup_id)
            .message_attributes("correlation_id", correlation_attribute(job)?)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    /// One `SendMessageBatch` (authorized by `sqs:SendMessage`) for up to ten jobs of one
    /// channel; each entry succeeds or fails on its own.
    async fn enqueue_batch(&self, jobs: &[Enqueued]) -> Vec<Result<(), QueueError>> {
        let Some(first) = jobs.first() else { return vec![] };
        let all = |e: QueueError| jobs.iter().map(|_| Err(e.clone())).collect::<Vec<_>>();
        if jobs.len() > 10 || jobs.iter().any(|j| j.job.channel != first.job.channel) {
            return all(QueueError("a batch holds up to ten jobs of one channel".into()));
        }
        let url = match self.pair(first.job.channel) {
            Ok(p) => p.url.clone(),
            Err(e) => return all(e),
        };
        let mut req = self.client.send_message_batch().queue_url(url);
        for (i, j) in jobs.iter().enumerate() {
            match batch_entry(i, j) {
                Ok(entry) => req = req.entries(entry),
                Err(e) => return all(e),
            }
        }
        let out = match req.send().await {
            Ok(out) => out,
            Err(e) => return all(err(e)),
        };
        let mut results: Vec<Result<(), QueueError>> =
            jobs.iter().map(|_| Err(QueueError("no answer for this entry".into()))).collect();
        for ok in out.successful() {
            if let Some(r) = ok.id().parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
                *r = Ok(());
            }
        }
        for f in out.failed() {
            if let Some(r) = f.id().parse::<usize>().ok().and_then(|i| results.get_mut(i)) {
                *r = Err(QueueError(format!("{}: {}", f.code(), f.message().unwrap_or_default())));
            }
        }
        results
    }

    async fn retry_later(&self, channel: Channel, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let url = self.pair(channel)?.url.clone();
        self.delay_url(&url, receipt_handle, delay).await
    }

    async fn receive_dead_letters(&self, channel: Channel, max: i32) -> Result<Vec<(SendJob, String)>, QueueError> {
        let url = self.pair(channel)?.dlq_url.clone();
        let records = self.receive_url(&url, max, Duration::ZERO).await?;
        let mut out = Vec::new();
        for r in records {
            match serde_json::from_str::<SendJob>(&r.body) {
                Ok(job) => out.push((job, r.receipt_handle)),
                Err(_) => {
                    tracing::error!(sqs_message_id = %r.message_id, "unreadable record in the DLQ; left for inspection")
                }
            }
        }
        Ok(out)
    }

    async fn delete_dead_letter(&self, channel: Channel, receipt_handle: &str) -> Result<(), QueueError> {
        let url = self.pair(channel)?.dlq_url.clone();
        self.delete_url(&url, &[receipt_handle.to_string()]).await
    }

    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        let mut out = Vec::new();
        for ch in Channel::ALL {
            let Ok(pair) = self.pair(ch) else { continue };
            let (depth, in_flight) = self.count(&pair.url).await?;
            let (dlq_visible, dlq_in_flight) = self.count(&pair.dlq_url).await?;
            out.push(QueueDepth { queue: ch, depth, in_flight, dlq_depth: dlq_visible + dlq_in_flight });
        }
        Ok(out)
    }
}

#[async_trait]
impl CallbackQueue for SqsQueues {
    async fn enqueue_callback(&self, job: &herald_core::inbound::CallbackJob) -> Result<(), QueueError> {
        let pair = self.callbacks.as_ref().ok_or_else(|| QueueError("no callbacks queue configured".into()))?;
        self.client
            .send_message()
            .queue_url(&pair.url)
            .message_body(serde_json::to_string(job).map_err(err)?)
            .send()
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn delay_callback(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let pair = self.callbacks.as_ref().ok_or_else(|| QueueError("no callbacks queue configured".into()))?;
        self.delay_url(&pair.url, receipt_handle, delay).await
    }
}
