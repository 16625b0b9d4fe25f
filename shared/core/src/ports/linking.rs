use super::StoreResult;
use crate::linking::{LinkStatus, LinkingState, TelnyxCallError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Per-number Telnyx linking state and its retry schedule.
#[async_trait]
pub trait LinkingStore: Send + Sync {
    async fn linking(&self, e164: &str) -> StoreResult<Option<LinkingState>>;
    /// Writes the state if the stored version is `state.version - 1` (or absent for 1).
    async fn save_linking(&self, state: &LinkingState) -> StoreResult<bool>;
    /// Numbers whose next attempt is due (pending or failed and retryable).
    async fn due_linkings(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<String>>;
    async fn linkings_by_status(&self, status: LinkStatus, limit: u32) -> StoreResult<Vec<LinkingState>>;
}

/// What linking needs of a tenant's Telnyx credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct TelnyxAccess {
    pub api_key: String,
    /// The messaging profile numbers are linked to when a request names none.
    pub messaging_profile_id: Option<String>,
}

/// The Telnyx number APIs linking uses.
#[async_trait]
pub trait TelnyxNumbers: Send + Sync {
    /// The tenant's Telnyx access, read from its SMS channel's credentials.
    fn access(&self, secrets: &crate::tenant::ChannelSecrets) -> Option<TelnyxAccess>;
    async fn order(&self, api_key: &str, e164: &str, profile: &str) -> Result<(), TelnyxCallError>;
    /// A number for sale in the (US/Canada) area code (`GET /v2/available_phone_numbers`).
    async fn available(&self, api_key: &str, area_code: &str) -> Result<Option<String>, TelnyxCallError>;
    /// The number's Telnyx id, or None when the search finds nothing (not indexed yet).
    async fn find(&self, api_key: &str, e164: &str) -> Result<Option<String>, TelnyxCallError>;
    async fn link_direct(&self, api_key: &str, number_id: &str, profile: &str) -> Result<(), TelnyxCallError>;
    async fn link_profile(&self, api_key: &str, number_id: &str, profile: &str) -> Result<(), TelnyxCallError>;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("alert not published: {0}")]
pub struct AlertError(pub String);

/// Support alerts (an SNS topic in AWS).
#[async_trait]
pub trait Alerts: Send + Sync {
    async fn alert(&self, subject: &str, message: &serde_json::Value) -> Result<(), AlertError>;
}
