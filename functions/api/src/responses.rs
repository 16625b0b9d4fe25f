//! The answers that are not a service's own type: pages, counts and small envelopes. Each
//! is a typed struct, so the OpenAPI document describes every response.
use crate::views::MessageView;
use chrono::{DateTime, Utc};
use herald_core::guards::DncEntry;
use herald_core::ports::AuditEntry;
use herald_core::tenant::Tenant;
use herald_core::TenantId;
use serde::Serialize;
use utoipa::ToSchema;

/// A page of messages; pass `next_cursor` back as `cursor` for the next one.
#[derive(Serialize, ToSchema)]
pub struct MessagesPage {
    pub messages: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

/// A page of do-not-contact entries.
#[derive(Serialize, ToSchema)]
pub struct DncPage {
    pub entries: Vec<DncEntry>,
    pub next_cursor: Option<String>,
}

/// A page of audit entries.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// A tenant resumed, and how many held messages went back to their queues.
#[derive(Serialize, ToSchema)]
pub struct Resumed {
    pub tenant: Tenant,
    pub released: u32,
}

/// A feature flag and its state.
#[derive(Serialize, ToSchema)]
pub struct Feature {
    pub feature: String,
    pub enabled: bool,
}

/// A feature flag changed, and how many held messages it released.
#[derive(Serialize, ToSchema)]
pub struct FeatureChange {
    pub feature: String,
    pub enabled: bool,
    pub released: u32,
}

/// A WhatsApp customer-service window opened by hand.
#[derive(Serialize, ToSchema)]
pub struct WindowOpened {
    pub tenant_id: TenantId,
    pub phone: String,
    pub last_inbound_at: DateTime<Utc>,
}

/// How many dead letters were archived.
#[derive(Serialize, ToSchema)]
pub struct Archived {
    pub archived: u32,
}

/// Alive, with the version.
#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// One message of a batch: accepted (its id, status, segments and estimated cost) or
/// refused (`error`, as in an error body).
#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<herald_core::MessageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<herald_core::Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_cost_cents: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::ErrorDetail>)]
    pub error: Option<serde_json::Value>,
}

impl BatchResult {
    pub fn of(index: usize, outcome: Result<herald_core::service::Acceptance, crate::error::ApiError>) -> Self {
        let refused = |error| BatchResult {
            index,
            id: None,
            status: None,
            segments: None,
            estimated_cost_cents: None,
            error: Some(error),
        };
        match outcome {
            Ok(a) => BatchResult {
                index,
                id: Some(a.id),
                status: Some(a.status),
                segments: Some(a.segments),
                estimated_cost_cents: Some(a.estimated_cost_cents),
                error: None,
            },
            Err(crate::error::ApiError::Herald(e)) => refused(crate::error::error_body(&e)["error"].clone()),
            Err(_) => refused(serde_json::json!({"code": "VALIDATION_ERROR", "message": "invalid message"})),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BatchResults {
    pub results: Vec<BatchResult>,
}

/// Inbound messages, oldest first.
#[derive(Serialize, ToSchema)]
pub struct InboundList {
    pub messages: Vec<herald_core::inbound::InboundMessage>,
}

/// `GET /v1/admin/whatsapp/quota`: one tenant's quota (`?tenant_id=`), or every tenant's.
/// The two shapes are disjoint (`tenant_id` or `tenants`), so exactly one describes an answer.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum QuotaAnswer {
    One(QuotaOne),
    All { tenants: Vec<herald_core::service::operations::QuotaView> },
}

/// One tenant's WhatsApp quota; before its first WhatsApp send of the period nothing is
/// used and no limit or reset is known yet.
#[derive(Serialize, ToSchema)]
pub struct QuotaOne {
    pub tenant_id: String,
    pub used: u32,
    pub limit: Option<u32>,
    pub percent: f64,
    pub throttled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_at: Option<DateTime<Utc>>,
    pub throttle_until: Option<DateTime<Utc>>,
}

impl QuotaOne {
    pub fn unused(tenant_id: String) -> Self {
        Self { tenant_id, used: 0, limit: None, percent: 0.0, throttled: false, reset_at: None, throttle_until: None }
    }
}

impl From<herald_core::service::operations::QuotaView> for QuotaOne {
    fn from(q: herald_core::service::operations::QuotaView) -> Self {
        Self {
            tenant_id: q.tenant_id.to_string(),
            used: q.used,
            limit: Some(q.limit),
            percent: q.percent,
            throttled: q.throttled,
            reset_at: Some(q.reset_at),
            throttle_until: q.throttle_until,
        }
    }
}
