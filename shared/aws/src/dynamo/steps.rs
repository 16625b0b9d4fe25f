//! A receipt's step (`StatusStep`) as one conditional `UpdateItem`, without a read first.
use super::*;
use herald_core::message::StatusStep;
use herald_core::ports::{Stepped, StoreResult};

impl DynamoStore {
    pub(super) async fn apply_step(&self, pk: &str, step: &StatusStep) -> StoreResult<Stepped> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure as OnFailure};
        if step.from.is_empty() {
            return Ok(Stepped::Refused(None));
        }
        let res = step_request(self, pk, step)?
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(OnFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => Ok(Stepped::Applied(from_item(out.attributes.unwrap_or_default())?)),
            Err(e) => match e.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(refused) => {
                    Ok(Stepped::Refused(refused.item.map(from_item).transpose()?))
                }
                other => Err(unavailable(other)),
            },
        }
    }
}

/// A receipt's step as one `UpdateItem`: the status, the times, the history entry appended
/// and the version bumped, on the step's condition; no index key changes.
fn step_request(
    store: &DynamoStore,
    pk: &str,
    step: &StatusStep,
) -> Result<aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder, StoreError> {
    let ms = |t: &chrono::DateTime<chrono::Utc>| n(t.timestamp_millis());
    let entry: AttributeValue = serde_dynamo::to_attribute_value(step.history_entry())
        .map_err(|e| StoreError::Unavailable(format!("encode: {e}")))?;
    let mut sets =
        vec!["#st = :to", "updated_at = :now", "#h = list_append(if_not_exists(#h, :none), :entry)", "#v = #v + :one"];
    let mut req = store
        .client
        .update_item()
        .table_name(&store.table)
        .key("pk", s(pk))
        .key("sk", s("MSG"))
        .expression_attribute_names("#st", "status")
        .expression_attribute_names("#h", "history")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":to", s(step.to.as_str()))
        .expression_attribute_values(":now", ms(&step.now))
        .expression_attribute_values(":none", AttributeValue::L(vec![]))
        .expression_attribute_values(":entry", AttributeValue::L(vec![entry]))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":pmid", s(&step.provider_message_id));
    if let Some(at) = step.progress.delivered_at {
        sets.push("delivered_at = :dat, delivery_latency_ms = :dat - created_at");
        req = req.expression_attribute_values(":dat", ms(&at));
    } else if let Some(at) = step.progress.delivered_at_if_absent {
        sets.push("delivered_at = if_not_exists(delivered_at, :dat)");
        req = req.expression_attribute_values(":dat", ms(&at));
    }
    if let Some(at) = step.progress.sent_at_if_absent {
        sets.push("sent_at = if_not_exists(sent_at, :sat)");
        req = req.expression_attribute_values(":sat", ms(&at));
    }
    let mut from = Vec::new();
    for (i, st) in step.from.iter().enumerate() {
        from.push(format!(":f{i}"));
        req = req.expression_attribute_values(format!(":f{i}"), s(st.as_str()));
    }
    let mut condition = format!(
        "attribute_exists(pk) AND provider_message_id = :pmid AND #st IN ({}) \
         AND attribute_not_exists(due_at) AND attribute_not_exists(hold_reason) \
         AND attribute_not_exists(released_at)",
        from.join(", ")
    );
    if let Some(tenant) = &step.tenant_id {
        condition.push_str(" AND tenant_id = :ten");
        req = req.expression_attribute_values(":ten", s(tenant.as_str()));
    }
    Ok(req.update_expression(format!("SET {}", sets.join(", "))).condition_expression(condition))
}
