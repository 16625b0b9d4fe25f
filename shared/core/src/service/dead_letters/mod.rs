//! Dead letters. DynamoDB is the dead-letter store of record: a message the sender gives up
//! on is written `failed` + dead-lettered and indexed by `channel#error_code#failed_at`.
//! The SQS DLQs only catch what the redrive policy moves there (records that crashed the
//! sender over and over); `drain_dead_letter_queues` turns those into dead-letter records
//! too and deletes them, so retrying from the API never leaves a stale copy behind.
mod filter;

use filter::{parse_key, prefixes, ListCursor};
pub use filter::{DlqFilter, DlqStat, RetryReport, MAX_RETRY_IDS};

use super::support::{update_message, Audit, Outbox};
use super::{Caller, HeraldError};
use crate::channel::Channel;
use crate::errors::ErrorCode;
use crate::ids::{MessageId, TenantId};
use crate::message::Message;
use crate::ports::{Clock, DeadLetterIndex, MessageStore, SendQueue, TenantStore};
use crate::status::Status;
use chrono::Duration;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const PAGE: u32 = 200;
/// One API call works at most this long; a large retry continues on the next call.
const CALL_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

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
            Caller::Admin { .. } => match tenant_filter {
                Some(t) => Ok(vec![TenantId::parse(t).ok_or(HeraldError::NotFound)?]),
                None => Ok(self.tenants.all_tenants().await?.into_iter().map(|t| t.id).collect()),
            },
        }
    }

    /// One page of dead letters across the caller's scope (one tenant, or every tenant for
    /// the admin) and the filter's index prefixes, in order. The cursor names where the next
    /// page starts: the tenant, the prefix and the index's own cursor inside it.
    pub async fn dlq_list(
        &self,
        caller: &Caller,
        filter: &DlqFilter,
        archived: bool,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Message>, Option<String>), HeraldError> {
        let scope = self.dlq_scope(caller, filter.tenant_id.as_deref()).await?;
        let prefixes = if archived { vec![String::new()] } else { prefixes(filter) };
        let limit = limit.clamp(1, 500) as usize;
        let (mut at, mut inner) = match cursor {
            Some(c) => ListCursor::parse(c, &scope, prefixes.len())?,
            None => ((0, 0), None),
        };
        let mut out = Vec::new();
        while at.0 < scope.len() && out.len() < limit {
            let want = (limit - out.len()) as u32;
            let page =
                self.index.dead_letters(&scope[at.0], caller.mode(), archived, &prefixes[at.1], want, inner.as_deref());
            let page = page.await?;
            for (id, key) in page.items {
                if filter.before_since(&key) {
                    continue;
                }
                if let Some(m) = self.messages.message(&id).await? {
                    out.push(m);
                }
            }
            inner = page.next_cursor;
            if inner.is_none() {
                at = if at.1 + 1 < prefixes.len() { (at.0, at.1 + 1) } else { (at.0 + 1, 0) };
            }
        }
        let next = (at.0 < scope.len()).then(|| ListCursor::format(&scope[at.0], at.1, inner.as_deref()));
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
        if filter.ids.as_ref().is_some_and(|ids| ids.len() > MAX_RETRY_IDS) {
            let message = format!("at most {MAX_RETRY_IDS} ids per call");
            return Err(HeraldError::validation("ids", "TOO_MANY", message));
        }
        let cap = filter.limit.unwrap_or(u32::MAX).max(1);
        let own = match caller {
            Caller::Tenant { tenant, .. } => Some(tenant.id.clone()),
            Caller::Admin { .. } => None,
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
        let mut done = true;
        'tenants: for tenant in self.dlq_scope(caller, filter.tenant_id.as_deref()).await? {
            for prefix in prefixes(filter) {
                loop {
                    if started.elapsed() > CALL_BUDGET || requeued >= cap {
                        done = false;
                        break 'tenants;
                    }
                    let page = self.index.dead_letters(&tenant, caller.mode(), false, &prefix, PAGE, None).await?;
                    let mut progressed = false;
                    for (id, key) in &page.items {
                        if filter.before_since(key) {
                            continue;
                        }
                        if requeued >= cap {
                            done = false;
                            break 'tenants;
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
            Caller::Admin { .. } => None,
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
