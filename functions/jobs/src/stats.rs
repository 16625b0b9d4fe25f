//! The stats function: the message table's change stream in (a DynamoDB event source
//! mapping, filtered to message records), outcome counters and metrics out.
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use herald_aws::streams::message_of;
use herald_core::service::stats::{Change, Stats};
use herald_core::service::HeraldError;

/// One record's change, when it is a message record's.
pub fn change_of(record: &EventRecord) -> Option<Change> {
    let new = message_of(record.change.new_image.clone());
    let old = message_of(record.change.old_image.clone());
    (new.is_some() || old.is_some()).then_some(Change { old, new })
}

/// Counts one batch. An error fails the whole batch: the mapping retries it (bisecting),
/// and after its retries the batch goes to the on-failure queue.
pub async fn handle(stats: &Stats, event: &Event) -> Result<usize, HeraldError> {
    let changes: Vec<Change> = event.records.iter().filter_map(change_of).collect();
    let counted = stats.apply(&changes).await?;
    tracing::debug!(records = event.records.len(), changes = changes.len(), counted, "stream batch counted");
    Ok(counted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sample_stream_event_is_a_message_change() {
        let e: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_str(include_str!("../../../events/stream-message-sent.json")).unwrap();
        let c = super::change_of(&e.records[0]).expect("a message change");
        let (old, new) = (c.old.unwrap(), c.new.unwrap());
        assert_eq!((old.status.as_str(), new.status.as_str()), ("sending", "sent"));
        let found = herald_core::stats::outcomes(Some(&old), &new);
        assert!(matches!(found[..], [herald_core::stats::Outcome::Sent { .. }]), "{found:?}");
    }
}
