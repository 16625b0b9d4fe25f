use super::{Page, StoreResult};
use crate::ids::TenantId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// "admin" or the key id that made the call.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Which audit entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant: Option<TenantId>,
    /// An action or an action prefix (`breaker.` matches `breaker.open` and `breaker.switch`).
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// Every admin and settings change: who, what, when.
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()>;
    async fn entries(&self, filter: &AuditFilter, limit: u32, cursor: Option<&str>) -> StoreResult<Page<AuditEntry>>;
}
