//! What a dead-letter call takes and answers: the filter, the stats row, the retry report,
//! and how the index keys and list cursors read.
use crate::channel::Channel;
use crate::errors::ErrorCode;
use crate::ids::TenantId;
use crate::service::HeraldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlqFilter {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub error_code: Option<ErrorCode>,
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Admin twins only: restrict to one tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Retry only: requeue at most this many in this call (a paced retry's batch).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl DlqFilter {
    /// Whether a dead letter's index key (`channel#code#at#id`) falls before `since`.
    pub(super) fn before_since(&self, key: &str) -> bool {
        let Some(since) = self.since else { return false };
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        parse_key(key).is_some_and(|k| k.at < since)
    }
}

/// Ids one retry call takes at most.
pub const MAX_RETRY_IDS: usize = 500;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DlqStat {
    pub channel: Channel,
    pub error_code: String,
    pub count: u64,
    pub last_occurrence: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RetryReport {
    pub requeued: u32,
    /// False when the time budget ran out first: call again to continue (it is idempotent).
    pub done: bool,
}

pub(super) struct Key {
    pub channel: Channel,
    pub code: String,
    pub at: String,
}

pub(super) fn parse_key(k: &str) -> Option<Key> {
    let mut parts = k.splitn(4, '#');
    Some(Key { channel: parts.next()?.parse().ok()?, code: parts.next()?.to_string(), at: parts.next()?.to_string() })
}

pub(super) fn prefixes(f: &DlqFilter) -> Vec<String> {
    let code = f.error_code.map(|c| c.as_str().to_string());
    match (f.channel, code) {
        (Some(ch), Some(c)) => vec![format!("{ch}#{c}#")],
        (Some(ch), None) => vec![format!("{ch}#")],
        (None, Some(c)) => Channel::ALL.iter().map(|ch| format!("{ch}#{c}#")).collect(),
        (None, None) => vec![String::new()],
    }
}

/// `{tenant}.{prefix index}.{index cursor or -}`: where a dead-letter list continues.
pub(super) struct ListCursor;

impl ListCursor {
    pub(super) fn format(tenant: &TenantId, prefix: usize, inner: Option<&str>) -> String {
        format!("{tenant}.{prefix}.{}", inner.unwrap_or("-"))
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn parse(
        c: &str,
        scope: &[TenantId],
        prefixes: usize,
    ) -> Result<((usize, usize), Option<String>), HeraldError> {
        let bad = || HeraldError::validation("cursor", "INVALID_CURSOR", "pass the next_cursor of the previous page");
        let mut parts = c.splitn(3, '.');
        let (tenant, prefix, inner) = (parts.next(), parts.next(), parts.next());
        let t = scope.iter().position(|t| Some(t.as_str()) == tenant).ok_or_else(bad)?;
        let p = prefix.and_then(|p| p.parse::<usize>().ok()).filter(|p| *p < prefixes).ok_or_else(bad)?;
        let inner = inner.ok_or_else(bad)?;
        Ok(((t, p), (inner != "-").then(|| inner.to_string())))
    }
}
