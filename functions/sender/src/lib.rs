//! The sender: an SQS FIFO batch in, provider calls, partial batch failures out.
//!
//! FIFO rule: once a record of a message group fails, every later record of that group in
//! the batch is reported failed too (unprocessed), so the group's order holds.
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use herald_core::message::SendJob;
use herald_core::ports::MessageQueue;
use herald_core::service::{Herald, JobOutcome};
use std::collections::HashSet;

pub async fn handle(herald: &Herald, queue: &dyn MessageQueue, event: SqsEvent) -> SqsBatchResponse {
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record.attributes.get("MessageGroupId").cloned().unwrap_or_default();
        if failed_groups.contains(&group) {
            failures.push(id);
            continue;
        }
        if !handle_record(herald, queue, &record).await {
            failed_groups.insert(group);
            failures.push(id);
        }
    }
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

/// True when the record is finished with and may be deleted.
async fn handle_record(herald: &Herald, queue: &dyn MessageQueue, record: &SqsMessage) -> bool {
    let Some(job) = record.body.as_deref().and_then(|b| serde_json::from_str::<SendJob>(b).ok()) else {
        // Unreadable: fail it, so the redrive policy parks it in the DLQ for a human.
        tracing::error!(sqs_message_id = ?record.message_id, "unreadable queue record");
        return false;
    };
    let span = tracing::info_span!("send", message_id = %job.message_id, tenant_id = %job.tenant_id, correlation_id = %job.correlation_id);
    let _guard = span.enter();
    let group = record.attributes.get("MessageGroupId").cloned().unwrap_or_default();
    match herald.process(&job).await {
        Ok(JobOutcome::Done) => true,
        Ok(JobOutcome::RetryAfter(delay)) => {
            let receipt = record.receipt_handle.as_deref().unwrap_or_default();
            if let Err(e) = queue.retry_later(job.channel, receipt, delay).await {
                tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
            }
            false
        }
        Ok(JobOutcome::DeadLetter { reason }) => match queue.dead_letter(&job, &group, &reason).await {
            Ok(()) => true,
            Err(e) => {
                // The record says failed; keep the SQS copy so it reaches the DLQ by redrive.
                tracing::error!(error = %e, "could not copy to the dead-letter queue");
                false
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "send failed on a dependency; the record will be redelivered");
            false
        }
    }
}
