//! Use cases. Each public method is one thing a user, operator, queue or schedule asks of
//! Herald; the HTTP and Lambda entrypoints only translate into these calls.
mod accept;
mod admin;
mod breaker;
mod dlq;
mod guards;
mod jobs;
mod linking;
mod send;
mod stale;
mod webhooks;

pub use accept::{Acceptance, SendRequest};
pub use admin::{ChannelUpdate, ChannelView, NewTenant, NumberRequest, TenantCreated, TenantPatch};
pub use breaker::{BreakerSettings, ProviderHealth};
pub use dlq::{DlqFilter, DlqStat, RetryReport};
pub use jobs::JobReport;
pub use send::JobOutcome;
pub use webhooks::ReceiptOutcome;

use crate::channel::Channel;
use crate::ids::TenantId;
use crate::message::Message;
use crate::ports::*;
use crate::pricing::Pricing;
use crate::retry::RetryPolicy;
use crate::tenant::{ApiKeyRecord, Tenant};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub retry: RetryPolicy,
    pub pricing: Pricing,
    /// A queued message not picked up this long after it was due is enqueued again.
    pub enqueue_grace: Duration,
    pub stale_after: Duration,
    /// Prefix of the Secrets Manager names holding channel credentials.
    pub secret_prefix: String,
    pub admin_key: String,
    pub version: String,
    /// How stale a container's view of a tenant's pause flag and of feature flags may be.
    pub pause_recheck: Duration,
    pub breaker: breaker::BreakerSettings,
    pub linking_retry_delays: Vec<Duration>,
    pub linking_search_delays: Vec<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            pricing: Pricing::default(),
            enqueue_grace: Duration::from_secs(900),
            stale_after: Duration::from_secs(600),
            secret_prefix: "herald".into(),
            admin_key: String::new(),
            version: env!("CARGO_PKG_VERSION").into(),
            pause_recheck: Duration::from_secs(60),
            breaker: Default::default(),
            linking_retry_delays: vec![Duration::from_secs(300), Duration::from_secs(900), Duration::from_secs(3600)],
            linking_search_delays: vec![Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)],
        }
    }
}

/// The ports, wired once per container.
#[derive(Clone)]
pub struct Ports {
    pub tenants: Arc<dyn TenantRepo>,
    pub messages: Arc<dyn MessageRepo>,
    pub queue: Arc<dyn MessageQueue>,
    pub secrets: Arc<dyn SecretStore>,
    pub providers: Arc<dyn ProviderGateway>,
    pub audit: Arc<dyn AuditLog>,
    pub guards: Arc<dyn crate::guards::GuardStore>,
    pub events: Arc<dyn crate::inbound::EventRepo>,
    pub breakers: Arc<dyn crate::guards::BreakerStore>,
    pub linking: Arc<dyn crate::linking::LinkingRepo>,
    pub telnyx_numbers: Arc<dyn crate::linking::TelnyxNumbers>,
    pub alerts: Arc<dyn crate::linking::Alerts>,
    pub callbacks: Arc<dyn crate::inbound::CallbackSender>,
    pub clock: Arc<dyn Clock>,
}

pub struct Herald {
    pub ports: Ports,
    pub settings: Settings,
    tenant_cache: std::sync::Mutex<std::collections::HashMap<TenantId, (Tenant, std::time::Instant)>>,
    feature_cache: std::sync::Mutex<Option<(BTreeMap<String, bool>, std::time::Instant)>>,
}

/// Errors a caller sees; each has a stable contract code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeraldError {
    #[error("missing or invalid API key")]
    Unauthenticated,
    #[error("this key may not call this route")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Validation { code: &'static str, message: String, fields: BTreeMap<String, String> },
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("the recipient is on the do-not-contact list")]
    RecipientOptedOut,
    #[error("outside the 24 h customer service window a WhatsApp message needs an approved template")]
    WhatsappTemplateRequired,
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("rate limit of {limit} messages per minute reached")]
    RateLimited { limit: u32, retry_after_secs: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("the {0} channel is disabled")]
    ChannelDisabled(Channel),
    #[error("the {0} channel is not configured for this tenant")]
    ChannelNotConfigured(Channel),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl HeraldError {
    pub fn code(&self) -> &'static str {
        match self {
            HeraldError::Unauthenticated => "UNAUTHENTICATED",
            HeraldError::Forbidden => "FORBIDDEN",
            HeraldError::NotFound => "NOT_FOUND",
            HeraldError::Validation { code, .. } => code,
            HeraldError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            HeraldError::RecipientOptedOut => "RECIPIENT_OPTED_OUT",
            HeraldError::WhatsappTemplateRequired => "WHATSAPP_TEMPLATE_REQUIRED",
            HeraldError::BudgetExceeded(_) => "BUDGET_EXCEEDED",
            HeraldError::RateLimited { .. } => "RATE_LIMITED",
            HeraldError::Conflict(_) => "CONFLICT",
            HeraldError::ChannelDisabled(_) => "CHANNEL_DISABLED",
            HeraldError::ChannelNotConfigured(_) => "CHANNEL_NOT_CONFIGURED",
            HeraldError::Unavailable(_) => "SERVICE_UNAVAILABLE",
        }
    }

    pub fn validation(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        // These codes are contract codes in their own right; the rest are field details.
        let top = match code {
            "INVALID_PHONE_NUMBER_FORMAT"
            | "INVALID_PHONE_NUMBER_TYPE"
            | "INVALID_PROFILE_ID_TYPE"
            | "INVALID_PROFILE_ID_FORMAT" => code,
            _ => "VALIDATION_ERROR",
        };
        HeraldError::Validation {
            code: top,
            message: message.into(),
            fields: BTreeMap::from([(field.to_string(), code.to_string())]),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        HeraldError::Validation { code: "VALIDATION_ERROR", message: message.into(), fields: BTreeMap::new() }
    }
}

impl From<StoreError> for HeraldError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => HeraldError::Conflict("concurrent update, try again".into()),
            StoreError::Unavailable(m) => HeraldError::Unavailable(m),
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    Tenant { tenant: Tenant, key: ApiKeyRecord },
}

impl Caller {
    pub fn actor(&self) -> String {
        match self {
            Caller::Admin => "admin".into(),
            Caller::Tenant { key, .. } => key.key_id.to_string(),
        }
    }
}

impl Herald {
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self { ports, settings, tenant_cache: Default::default(), feature_cache: Default::default() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Resolves a bearer token to a caller. The admin key is compared in constant time.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, HeraldError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(HeraldError::Unauthenticated)?;
        if !self.settings.admin_key.is_empty() && constant_time_eq(token.as_bytes(), self.settings.admin_key.as_bytes())
        {
            return Ok(Caller::Admin);
        }
        let hash = crate::ids::hash_api_key(token);
        let key = self.ports.tenants.key_by_hash(&hash).await?.ok_or(HeraldError::Unauthenticated)?;
        let tenant = self.ports.tenants.tenant(&key.tenant_id).await?.ok_or(HeraldError::Unauthenticated)?;
        Ok(Caller::Tenant { tenant, key })
    }

    pub async fn audit(&self, caller: &Caller, tenant: Option<&TenantId>, action: &str, detail: serde_json::Value) {
        let entry = AuditEntry {
            at: self.now(),
            actor: caller.actor(),
            tenant_id: tenant.cloned(),
            action: action.into(),
            detail,
        };
        if let Err(e) = self.ports.audit.record(&entry).await {
            tracing::error!(action, error = %e, "audit write failed");
        }
    }

    /// Read-modify-write of a message under its version check, retried on conflicts.
    /// `f` returns false to leave the message as it is.
    pub(crate) async fn update_message<F>(
        &self,
        id: &crate::ids::MessageId,
        mut f: F,
    ) -> Result<Option<Message>, HeraldError>
    where
        F: FnMut(&mut Message) -> bool + Send,
    {
        for _ in 0..8 {
            let Some(mut msg) = self.ports.messages.message(id).await? else { return Ok(None) };
            if !f(&mut msg) {
                return Ok(Some(msg));
            }
            msg.version += 1;
            if self.ports.messages.replace(&msg).await? {
                return Ok(Some(msg));
            }
        }
        Err(HeraldError::Conflict(format!("message {id} is being updated concurrently")))
    }

    pub async fn queue_depths(&self) -> Result<Vec<QueueDepth>, HeraldError> {
        self.ports.queue.depths().await.map_err(|e| HeraldError::Unavailable(e.0))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
