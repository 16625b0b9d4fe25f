//! The sender: an SQS FIFO batch in, provider calls, partial batch failures out.
//!
//! FIFO rule: once a record of a message group fails, every later record of that group in
//! the batch is reported failed too (unprocessed), so the group's order holds.
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use herald_core::message::SendJob;
use herald_core::service::sending::Sending;
use herald_core::service::JobOutcome;
use std::time::Duration;
use tracing::Instrument;

pub async fn handle(sending: &Sending, event: SqsEvent) -> SqsBatchResponse {
    handle_until(sending, event, None).await
}

/// As `handle`, starting no record after `stop_at` (the invocation's deadline less one
/// provider call): the rest go back untried, so a batch never runs past its timeout with a
/// provider answer unrecorded.
pub async fn handle_until(sending: &Sending, event: SqsEvent, stop_at: Option<std::time::Instant>) -> SqsBatchResponse {
    let records = event.records;
    let open = || stop_at.is_none_or(|at| std::time::Instant::now() < at);
    let unfinished = fifo_batch_while(&records, open, |r| handle_record(sending, r)).await;
    // A follower reported failed behind its head was not tried: it is made visible at once.
    // The head, still in flight for its back-off, keeps the group closed (FIFO), so the
    // followers come back right behind it instead of after the queue's visibility timeout.
    for u in unfinished.iter().filter(|u| u.skipped) {
        let record = records.iter().find(|r| r.message_id.as_deref() == Some(u.id.as_str()));
        let job = record.and_then(|r| r.body.as_deref()).and_then(|b| serde_json::from_str::<SendJob>(b).ok());
        let (Some(record), Some(job)) = (record, job) else { continue };
        let receipt = record.receipt_handle.as_deref().unwrap_or_default();
        sending.release_untried(&job, receipt).await;
    }
    batch_response(unfinished.into_iter().map(|u| u.id).collect())
}

fn batch_response(failures: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Finished with: delete it.
    Done,
    /// Keep it; the queue's visibility timeout brings it back.
    Failed,
    /// Keep it, invisible for this back-off.
    RetryAfter(Duration),
}

/// A record to report failed: it failed, or (`skipped`) it was not run because an earlier
/// record of its group failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    pub id: String,
    pub skipped: bool,
}

/// Runs `work` over the records and returns the ones to report as failed: each record whose
/// work failed, and every later record of the same message group (not run). Groups are
/// independent, so they run concurrently; records of one group run in order.
pub async fn fifo_batch<'a, F, Fut>(records: &'a [SqsMessage], work: F) -> Vec<Unfinished>
where
    F: Fn(&'a SqsMessage) -> Fut,
    Fut: std::future::Future<Output = Verdict>,
{
    fifo_batch_while(records, || true, work).await
}

/// As `fifo_batch`, starting a record only while `open()`; the rest are reported skipped.
pub async fn fifo_batch_while<'a, F, Fut, O>(records: &'a [SqsMessage], open: O, work: F) -> Vec<Unfinished>
where
    F: Fn(&'a SqsMessage) -> Fut,
    Fut: std::future::Future<Output = Verdict>,
    O: Fn() -> bool,
{
    let mut groups: Vec<(String, Vec<&'a SqsMessage>)> = Vec::new();
    for record in records {
        let group = record.attributes.get("MessageGroupId").cloned().unwrap_or_default();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    let (work, open) = (&work, &open);
    let per_group = groups.into_iter().map(|(_, members)| async move {
        let mut unfinished = Vec::new();
        let mut broken = false;
        for record in members {
            let id = record.message_id.clone().unwrap_or_default();
            if broken || !open() {
                broken = true;
                unfinished.push(Unfinished { id, skipped: true });
                continue;
            }
            if work(record).await != Verdict::Done {
                broken = true;
                unfinished.push(Unfinished { id, skipped: false });
            }
        }
        unfinished
    });
    let mut failed: Vec<Unfinished> = futures::future::join_all(per_group).await.into_iter().flatten().collect();
    let order = |u: &Unfinished| records.iter().position(|r| r.message_id.as_deref() == Some(u.id.as_str()));
    failed.sort_by_key(order);
    failed
}

/// What to do with the record, after the send.
async fn handle_record(sending: &Sending, record: &SqsMessage) -> Verdict {
    let Some(job) = record.body.as_deref().and_then(|b| serde_json::from_str::<SendJob>(b).ok()) else {
        // Unreadable: fail it, so the redrive policy parks it in the DLQ for a human.
        tracing::error!(sqs_message_id = ?record.message_id, "unreadable queue record");
        return Verdict::Failed;
    };
    // The span goes with this future only: concurrently run groups never share ids in logs.
    let span = tracing::info_span!("send", message_id = %job.message_id, tenant_id = %job.tenant_id, correlation_id = %job.correlation_id);
    match sending.process(&job).instrument(span).await {
        Ok(JobOutcome::Done) => Verdict::Done,
        Ok(JobOutcome::RetryAfter(delay)) => later(sending, record, &job, delay, true).await,
        Ok(JobOutcome::NotYet(delay)) => later(sending, record, &job, delay, false).await,
        Ok(JobOutcome::DeadLetter { reason }) => {
            // The message record is the dead letter (see GET /v1/dlq); the queue copy goes.
            tracing::warn!(message_id = %job.message_id, error_code = %reason, "message failed and was dead-lettered");
            Verdict::Done
        }
        Err(e) => {
            tracing::error!(message_id = %job.message_id, error = %e, "send failed on a dependency; the record will be redelivered");
            Verdict::Failed
        }
    }
}

/// Keeps the record, invisible for `delay` (a back-off is noted on its message).
async fn later(sending: &Sending, record: &SqsMessage, job: &SendJob, delay: Duration, backoff: bool) -> Verdict {
    let receipt = record.receipt_handle.as_deref().unwrap_or_default();
    sending.wait_out(job, receipt, delay, backoff).await;
    Verdict::RetryAfter(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.attributes.insert("MessageGroupId".into(), group.into());
        m
    }

    #[test]
    fn sample_callback_batch_carries_a_callback_job() {
        let event: SqsEvent = serde_json::from_str(include_str!("../../../events/sqs-callbacks-batch.json")).unwrap();
        let job: herald_core::inbound::CallbackJob =
            serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(job.status, herald_core::Status::Delivered);
        assert_eq!(herald_core::service::callbacks::backoff(1), std::time::Duration::from_secs(2));
        assert_eq!(herald_core::service::callbacks::backoff(3), std::time::Duration::from_secs(8));
        assert_eq!(herald_core::service::callbacks::backoff(30), std::time::Duration::from_secs(900));
    }

    #[tokio::test]
    async fn a_failure_fails_the_rest_of_its_group_only() {
        let records = vec![record("1", "a"), record("2", "b"), record("3", "a"), record("4", "b"), record("5", "c")];
        let ran = std::sync::Mutex::new(Vec::new());
        let failures = fifo_batch(&records, |r| {
            let id = r.message_id.clone().unwrap();
            ran.lock().unwrap().push(id.clone());
            async move {
                match id.as_str() {
                    "1" => Verdict::RetryAfter(Duration::from_secs(7)),
                    _ => Verdict::Done,
                }
            }
        })
        .await;
        let expected =
            vec![Unfinished { id: "1".into(), skipped: false }, Unfinished { id: "3".into(), skipped: true }];
        assert_eq!(failures, expected);
        let mut ran = ran.into_inner().unwrap();
        ran.sort();
        assert_eq!(ran, vec!["1", "2", "4", "5"], "3 is not run after 1 failed in group a");
    }

    #[tokio::test]
    async fn records_of_one_group_run_in_order() {
        let records = vec![record("1", "a"), record("2", "b"), record("3", "a"), record("4", "a")];
        let ran = std::sync::Mutex::new(Vec::new());
        let failures = fifo_batch(&records, |r| {
            let id = r.message_id.clone().unwrap();
            let ran = &ran;
            async move {
                tokio::task::yield_now().await;
                ran.lock().unwrap().push(id.clone());
                if id == "3" {
                    Verdict::Failed
                } else {
                    Verdict::Done
                }
            }
        })
        .await;
        let ids: Vec<String> = failures.into_iter().map(|u| u.id).collect();
        assert_eq!(ids, vec!["3", "4"]);
        let order: Vec<String> = ran.into_inner().unwrap().into_iter().filter(|i| i != "2").collect();
        assert_eq!(order, vec!["1", "3"], "a's records in order, 4 never run");
    }

    #[tokio::test]
    async fn no_record_starts_past_the_deadline() {
        let records = vec![record("1", "a"), record("2", "a"), record("3", "b")];
        let started = std::sync::atomic::AtomicUsize::new(0);
        let failures = fifo_batch_while(
            &records,
            || started.load(std::sync::atomic::Ordering::SeqCst) < 1,
            |_| {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { Verdict::Done }
            },
        )
        .await;
        let skipped: Vec<(String, bool)> = failures.into_iter().map(|u| (u.id, u.skipped)).collect();
        assert_eq!(skipped.len(), 2, "one record ran, the other two go back untried: {skipped:?}");
        assert!(skipped.iter().all(|(_, s)| *s));
    }

    /// events/sqs-send-batch.json is a real FIFO event source mapping batch carrying a job.
    #[test]
    fn sample_event_is_an_sqs_fifo_batch_of_jobs() {
        let event: SqsEvent = serde_json::from_str(include_str!("../../../events/sqs-send-batch.json")).unwrap();
        assert_eq!(event.records.len(), 1);
        let r = &event.records[0];
        assert!(r.attributes.contains_key("MessageGroupId"));
        let job: SendJob = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(job.channel, herald_core::Channel::Sms);
    }
}

/// Tenant status callbacks (a standard queue): delivered → deleted; refused or unreachable
/// → kept, made invisible for an exponential back-off through the queue; past the redrive
/// count → its DLQ.
pub mod callbacks {
    use super::*;
    use herald_core::inbound::CallbackJob;
    use herald_core::service::callbacks::Callbacks;

    /// At most this many tenant endpoints are waited on at once.
    const CONCURRENCY: usize = 8;

    /// The batch answer: the records to keep (not delivered). Records are delivered
    /// concurrently, so one slow tenant endpoint (each call is bounded by its timeout) delays
    /// no other tenant's callbacks and never approaches the function's timeout.
    pub async fn handle(callbacks: &Callbacks, event: &SqsEvent) -> SqsBatchResponse {
        async fn one(callbacks: &Callbacks, record: &SqsMessage) -> Option<String> {
            let receipt = record.receipt_handle.clone().unwrap_or_default();
            let count: u32 = record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            let Some(job) = record.body.as_deref().and_then(|b| serde_json::from_str::<CallbackJob>(b).ok()) else {
                tracing::error!("unreadable callback record");
                return None;
            };
            let span = tracing::info_span!("callback", message_id = job.message_id.as_ref().map(|m| m.as_str()), call_sid = job.call.as_ref().map(|c| c.call_sid.as_str()), tenant_id = %job.tenant_id);
            let delivered = tracing::Instrument::instrument(callbacks.handle(&job, &receipt, count), span).await;
            (!delivered).then(|| record.message_id.clone().unwrap_or_default())
        }
        let mut failed: Vec<String> = Vec::new();
        for chunk in event.records.chunks(CONCURRENCY) {
            let delivered = futures::future::join_all(chunk.iter().map(|r| one(callbacks, r))).await;
            failed.extend(delivered.into_iter().flatten());
        }
        batch_response(failed)
    }
}
