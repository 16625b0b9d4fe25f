use super::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use herald_core::linking::{LinkStatus, LinkingState};
use herald_core::ports::{LinkingStore, StoreResult};

fn item(st: &LinkingState) -> Result<Item, StoreError> {
    let mut item = keyed(st, format!("LINK#{}", st.phone_number), "LINK")?;
    item.insert("gsi1pk".into(), s(format!("LINKSTATUS#{}", st.status.as_str())));
    item.insert("gsi1sk".into(), s(format!("{}#{}", ts(&st.updated_at), st.phone_number)));
    if let (true, Some(next)) = (st.can_retry(), st.next_attempt_at) {
        item.insert("gsi2pk".into(), s("LINKDUE"));
        item.insert("gsi2sk".into(), s(format!("{}#{}", ts(&next), st.phone_number)));
    }
    Ok(item)
}

#[async_trait]
impl LinkingStore for DynamoStore {
    async fn linking(&self, e164: &str) -> StoreResult<Option<LinkingState>> {
        self.get(&format!("LINK#{e164}"), "LINK").await?.map(from_item).transpose()
    }

    async fn save_linking(&self, st: &LinkingState) -> StoreResult<bool> {
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(st)?))
            .expression_attribute_names("#v", "version");
        let req = if st.version <= 1 {
            req.condition_expression("attribute_not_exists(#v)")
        } else {
            req.condition_expression("attribute_not_exists(#v) OR #v = :prev")
                .expression_attribute_values(":prev", n(st.version - 1))
        };
        Ok(conditional(req.send().await)?.is_some())
    }

    async fn due_linkings(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<String>> {
        Ok(self
            .query_due("LINKDUE", &before, limit)
            .await?
            .iter()
            .filter_map(|i| i.get("pk")?.as_s().ok()?.strip_prefix("LINK#").map(str::to_string))
            .collect())
    }

    async fn linkings_by_status(&self, status: LinkStatus, limit: u32) -> StoreResult<Vec<LinkingState>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(format!("LINKSTATUS#{}", status.as_str())))
            .scan_index_forward(false)
            .limit(limit as i32)
            .send()
            .await
            .map_err(unavailable)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }
}
