use super::StoreResult;
use crate::message::HoldReason;
use crate::stats::{Counters, Tally};
use crate::{Channel, TenantId};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Outcome counters per hour, tenant and channel, and the messages held per reason.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Adds a batch's tally: one atomic add per counter item touched.
    async fn add_tally(&self, tally: &Tally) -> StoreResult<()>;
    /// The counters of these hours (`YYYYMMDDHH`), of one tenant or of all.
    async fn hour_counters(
        &self,
        hours: &[String],
        tenant: Option<&TenantId>,
    ) -> StoreResult<Vec<(TenantId, Channel, Counters)>>;
    async fn held_counts(&self) -> StoreResult<BTreeMap<(Channel, HoldReason), i64>>;
    /// Dead letters (failed, not archived) per channel.
    async fn dead_letter_counts(&self) -> StoreResult<BTreeMap<Channel, i64>>;
}
