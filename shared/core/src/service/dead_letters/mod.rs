//! Dead letters. DynamoDB is the dead-letter store of record: a message the sender gives up
//! on is written `failed` + dead-lettered and indexed by `channel#error_code#failed_at`.
//! The SQS DLQs only catch what the redrive policy moves there (records that crashed the
//! sender over and over); `drain_dead_letter_queues` turns those into dead-letter records
//! too and deletes them, so retrying from the API never leaves a stale copy behind.
use super::support::{update_message, Audit, Outbox};
use super::{Caller, HeraldError};
use crate::channel::Channel;
use crate::errors::ErrorCode;
use crate::ids::{MessageId, TenantId};
use crate::message::Message;
use crate::ports::{Clock, DeadLetterIndex, MessageStore, SendQueue, TenantStore};
use crate::status::Status;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

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
}

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

const PAGE: u32 = 200;
/// One API call works at most this long; a large retry continues on the next call.
const CALL_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

struct Key {
    channel: Channel,
    code: String,
    at: String,
}

fn parse_key(k: &str) -> Option<Key> {
    let mut parts = k.splitn(4, '#');
    Some(Key { channel: parts.next()?.parse().ok()?, code: parts.next()?.to_string(), at: parts.next()?.to_string() })
}

fn prefixes(f: &DlqFilter) -> Vec<String> {
    let code = f.error_code.map(|c| c.as_str().to_string());
    match (f.channel, code) {
        (Some(ch), Some(c)) => vec![format!("{ch}#{c}#")],
        (Some(ch), None) => vec![format!("{ch}#")],
        (None, Some(c)) => Channel::ALL.iter().map(|ch| format!("{ch}#{c}#")).collect(),
        (None, None) => vec![String::new()],
    }
}

pub struct DeadLetters {
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) index: Arc<dyn DeadLetterIndex>,
    pub(crate) queue: Arc<dyn SendQueue>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
    pub(crate) budgets: Arc<super::budget::Budgets>,
}

impl DeadLetters {
    /// The tenants a DLQ call covers: the caller's own, or (admin) one or all.
    async fn dlq_scope(&self, caller: &Caller, tenant_filter: Option<&str>) -> Result<Vec<TenantId>, HeraldError> {
        match caller {
            Caller::Tenant { tenant, .. } => Ok(vec![tenant.id.clone()]),
            Caller::Admin => match tenant_filter {
                Some(t) => Ok(vec![TenantId::parse(t).ok_or(HeraldError::NotFound)?]),
                None => Ok(self.tenants.all_tenants().await?.into_iter().map(|t| t.id).collect()),
            },
        }
    }

    pub async fn dlq_list(
        &self,
        caller: &Caller,
        filter: &DlqFilter,
        archived: bool,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Message>, Option<String>), HeraldError> {
        let mut out = Vec::new();
        let mut next = None;
        let since = filter.since;
        for tenant in self.dlq_scope(caller, filter.tenant_id.as_deref()).await? {
            for prefix in if archived { vec![String::new()] } else { prefixes(filter) } {
                let page = self
                    .index
                    .dead_letters(&tenant, caller.mode(), archived, &prefix, limit.clamp(1, 500), cursor)
                    .await?;
                for (id, key) in page.items {
                    if let (Some(s), Some(k)) = (since, parse_key(&key)) {
                        if k.at < s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) {
                            continue;
                        }
                    }
                    if let Some(m) = self.messages.message(&id).await? {
                        out.push(m);
                    }
                }
                next = next.or(page.next_cursor);
            }
        }
        Ok((out, next))
    }

    /// Count and last occurrence per channel and error code (read from index keys only).
    pub async fn dlq_stats(&self, caller: &Caller, tenant_filter: Option<&str>) -> Result<Vec<DlqStat>, HeraldError> {
        let mut groups: BTreeMap<(Channel, String), (u64, String)> = BTreeMap::new();
        for tenant in self.dlq_scope(caller, tenant_filter).await? {
            let mut cursor: Option<String> = None;
            loop {
                let page = self.index.dead_letters(&tenant, caller.mode(), false, "", 1000, cursor.as_deref()).await?;
                for (_, key) in &page.items {
                    if let Some(k) = parse_key(key) {
                        let e = groups.entry((k.channel, k.code)).or_insert((0, String::new()));
                        e.0 += 1;
                        if k.at > e.1 {
                            e.1 = k.at;
                        }
                    }
                }
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
        }
        Ok(groups
            .into_iter()
            .map(|((channel, error_code), (count, last_occurrence))| DlqStat {
                channel,
                error_code,
                count,
                last_occurrence,
            })
            .collect())
    }

    /// Re-queues dead letters (by ids, or by channel / error code / since), in pages. Safe to
    /// repeat: a message leaves the DLQ index in the same conditional write that requeues it.
    pub async fn dlq_retry(&self, caller: &Caller, filter: &DlqFilter) -> Result<RetryReport, HeraldError> {
        let started = std::time::Instant::now();
        let actor = caller.actor();
        let mut requeued = 0;
        let own = match caller {
            Caller::Tenant { tenant, .. } => Some(tenant.id.clone()),
            Caller::Admin => None,
        };
        if let Some(ids) = &filter.ids {
            for raw in ids {
                let Some(id) = MessageId::parse(raw) else { continue };
                if self.retry_one(&id, own.as_ref(), caller.mode(), &actor).await? {
                    requeued += 1;
                }
            }
            self.audit.record(caller, own.as_ref(), "dlq.retry", json!({"ids": ids.len(), "requeued": requeued})).await;
            return Ok(RetryReport { requeued, done: true });
        }
        let since = filter.since.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let mut done = true;
        'tenants: for tenant in self.dlq_scope(caller, filter.tenant_id.as_deref()).await? {
            for prefix in prefixes(filter) {
                loop {
                    if started.elapsed() > CALL_BUDGET {
                        done = false;
                        break 'tenants;
                    }
                    let page = self.index.dead_letters(&tenant, caller.mode(), false, &prefix, PAGE, None).await?;
                    let mut progressed = false;
                    for (id, key) in &page.items {
                        if since.as_ref().is_some_and(|s| parse_key(key).is_some_and(|k| k.at < *s)) {
                            continue;
                        }
                        if self.retry_one(id, Some(&tenant), caller.mode(), &actor).await? {
                            requeued += 1;
                            progressed = true;
                        }
                    }
                    if page.next_cursor.is_none() || !progressed {
                        break;
                    }
                }
            }
        }
        self.audit.record(caller, own.as_ref(), "dlq.retry", json!({"channel": filter.channel, "error_code": filter.error_code, "since": filter.since, "requeued": requeued, "done": done})).await;
        Ok(RetryReport { requeued, done })
    }

    async fn retry_one(
        &self,
        id: &MessageId,
        tenant: Option<&TenantId>,
        mode: crate::KeyMode,
        actor: &str,
    ) -> Result<bool, HeraldError> {
        let eligible = |m: &Message| {
            tenant.is_none_or(|t| *t == m.tenant_id)
                && m.key_mode == mode
                && m.dead_lettered
                && m.status == Status::Failed
                && m.archived_at.is_none()
        };
        let Some(current) = self.messages.message(id).await?.filter(|m| eligible(m)) else { return Ok(false) };
        // The send costs again: it is reserved again, or the message stays a dead letter.
        let Some(reservation) = self.reserve_again(&current).await? else { return Ok(false) };
        let (now, grace) = (self.clock.now(), self.enqueue_grace);
        let mut changed = false;
        let m = update_message(self.messages.as_ref(), id, |m| {
            if !eligible(m) {
                return false;
            }
            m.retry_from_dlq(actor, now);
            m.await_job(now, grace);
            (m.reserved_cents, m.budget_period) = (reservation.0, reservation.1.clone());
            changed = true;
            true
        })
        .await?;
        match m {
            Some(m) if changed => {
                self.outbox.enqueue(&m).await;
                Ok(true)
            }
            _ => {
                let mut released = current.clone();
                released.budget_period = reservation.1;
                self.budgets.release(&released, reservation.0).await;
                Ok(false)
            }
        }
    }

    /// Reserves the message's estimated cost again: Some((cents, period)), or None when the
    /// tenant's budget has no room for it now.
    async fn reserve_again(
        &self,
        m: &Message,
    ) -> Result<Option<(u64, Option<crate::guards::BudgetPeriod>)>, HeraldError> {
        if m.key_mode != crate::KeyMode::Live || m.estimated_cost_cents == 0 {
            return Ok(Some((0, None)));
        }
        let Some(tenant) = self.tenants.tenant(&m.tenant_id).await? else { return Ok(None) };
        match self.budgets.reserve(&tenant, m.estimated_cost_cents).await {
            Ok(period) => Ok(Some((if period.is_some() { m.estimated_cost_cents } else { 0 }, period))),
            Err(HeraldError::BudgetExceeded(_)) => {
                tracing::warn!(message_id = %m.id, "dead letter not retried: the budget has no room for it");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Moves dead letters older than `older_than_days` to the archive (kept a year for audit).
    pub async fn dlq_archive(
        &self,
        caller: &Caller,
        older_than_days: u32,
        tenant_filter: Option<&str>,
    ) -> Result<u32, HeraldError> {
        if older_than_days > 3650 {
            return Err(HeraldError::validation("older_than_days", "INVALID", "0 to 3650 days"));
        }
        let now = self.clock.now();
        let cutoff =
            (now - Duration::days(older_than_days.into())).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut archived = 0;
        for tenant in self.dlq_scope(caller, tenant_filter).await? {
            let mut cursor: Option<String> = None;
            loop {
                let page = self.index.dead_letters(&tenant, caller.mode(), false, "", PAGE, cursor.as_deref()).await?;
                for (id, key) in &page.items {
                    if parse_key(key).is_some_and(|k| k.at <= cutoff) {
                        let done = update_message(self.messages.as_ref(), id, |m| {
                            if m.archived_at.is_some() || !m.dead_lettered {
                                return false;
                            }
                            m.archived_at = Some(now);
                            true
                        })
                        .await?;
                        if done.is_some_and(|m| m.archived_at == Some(now)) {
                            archived += 1;
                        }
                    }
                }
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
        }
        let scope = match caller {
            Caller::Tenant { tenant, .. } => Some(tenant.id.clone()),
            Caller::Admin => None,
        };
        self.audit
            .record(
                caller,
                scope.as_ref(),
                "dlq.archive",
                json!({"older_than_days": older_than_days, "archived": archived}),
            )
            .await;
        Ok(archived)
    }

    /// Turns what the redrive policy moved to the SQS DLQs into dead-letter records.
    pub async fn drain_dead_letter_queues(&self) -> Result<u32, HeraldError> {
        let mut drained = 0;
        for channel in Channel::ALL {
            let records = self.queue.receive_dead_letters(channel, 10).await?;
            for (job, receipt) in records {
                let now = self.clock.now();
                update_message(self.messages.as_ref(), &job.message_id, |m| {
                    if m.status.is_final() || m.generation != job.generation {
                        return false;
                    }
                    if m.status == Status::Sending {
                        if let Some(a) = m.attempts.last_mut() {
                            a.outcome = crate::message::AttemptOutcome::Failed;
                        }
                    }
                    m.record_failure(
                        ErrorCode::ProviderError,
                        None,
                        "moved to the dead-letter queue by the redrive policy after repeated receives".into(),
                        now,
                    );
                    true
                })
                .await?;
                self.queue.delete_dead_letter(channel, &receipt).await?;
                tracing::warn!(message_id = %job.message_id, channel = %channel, "redriven record turned into a dead letter");
                drained += 1;
            }
        }
        Ok(drained)
    }
}

impl DeadLetters {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        DeadLetters {
            tenants: a.config.clone(),
            messages: a.db.clone(),
            index: a.db.clone(),
            queue: a.queues.clone(),
            outbox: sh.outbox.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
            budgets: sh.budgets.clone(),
        }
    }
}
