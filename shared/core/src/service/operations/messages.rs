//! Messages from the operator's side: any tenant's message by id, lists by tenant or from
//! the in-flight index (stuck sends, back-offs), and retry-now.
use super::{optional_reason, Operations};
use crate::ids::{KeyMode, MessageId, TenantId};
use crate::message::Message;
use crate::ports::{MessageFilter, Page, WorkState};
use crate::service::support::update_message;
use crate::service::{Caller, HeraldError};
use crate::status::Status;
use crate::Channel;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

/// How many in-flight index entries one admin list or retry-now reads at most.
const IN_FLIGHT_READ: u32 = 1000;

/// `GET /v1/admin/messages`.
#[derive(Debug, Clone, Default)]
pub struct AdminMessageQuery {
    pub tenant: Option<TenantId>,
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    pub min_attempts: Option<u32>,
    /// Only messages whose last change is at or before this time (stuck: `now - 10m`).
    pub changed_before: Option<DateTime<Utc>>,
    pub mode: KeyMode,
    /// The request's correlation id (with a tenant): the messages of that request.
    pub correlation_id: Option<crate::CorrelationId>,
}

impl AdminMessageQuery {
    fn keeps(&self, m: &Message) -> bool {
        self.tenant.as_ref().is_none_or(|t| m.tenant_id == *t)
            && m.key_mode == self.mode
            && self.status.is_none_or(|s| m.status == s)
            && self.channel.is_none_or(|c| m.channel == c)
            && self.min_attempts.is_none_or(|n| m.attempts.len() as u32 >= n)
            && self.changed_before.is_none_or(|t| m.updated_at <= t)
            && self.correlation_id.as_ref().is_none_or(|c| m.correlation_id == *c)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetryNowReport {
    /// Back-offs ended: the queue gives these messages to a sender now.
    pub released: u32,
    /// Waiting on a back-off but no longer in flight in the queue (the sender has them).
    pub skipped: u32,
}

impl Operations {
    /// `GET /v1/admin/messages/{id}`: any tenant's message.
    pub async fn message(&self, caller: &Caller, id: &str) -> Result<Message, HeraldError> {
        caller.require_admin()?;
        let id = MessageId::parse(id).ok_or(HeraldError::NotFound)?;
        self.messages.message(&id).await?.ok_or(HeraldError::NotFound)
    }

    /// Without a tenant only in-flight statuses can be listed: they come from the sparse work
    /// index (oldest due first, so the most overdue first), never from a scan.
    pub async fn messages(
        &self,
        caller: &Caller,
        q: &AdminMessageQuery,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Message>, HeraldError> {
        caller.require_admin()?;
        let limit = limit.clamp(1, 100);
        if let (Some(cid), Some(tenant)) = (&q.correlation_id, &q.tenant) {
            let mut items = self.by_correlation(tenant, cid, q).await?;
            items.truncate(limit as usize);
            return Ok(Page { items, next_cursor: None });
        }
        if let Some(state) = q.status.and_then(WorkState::of).filter(|_| q.correlation_id.is_none()) {
            let mut items = self.in_flight(state, q).await?;
            items.truncate(limit as usize);
            return Ok(Page { items, next_cursor: None });
        }
        let Some(tenant) = &q.tenant else {
            return Err(HeraldError::validation(
                "tenant_id",
                "TENANT_REQUIRED",
                "without tenant_id, status must be queued, sending, scheduled or deferred (and no correlation_id)",
            ));
        };
        let filter = MessageFilter { status: q.status, channel: q.channel, mode: q.mode, ..Default::default() };
        let mut page = self.messages.list(tenant, &filter, limit, cursor).await?;
        page.items.retain(|m| q.keeps(m));
        Ok(page)
    }

    /// A request's messages without an index of correlation ids: a generated id (`cor_` + ULID)
    /// says when the request came, and message ids sort by creation time, so the tenant's
    /// list index is read over the five minutes after it; an id the caller chose is looked
    /// for in the last 24 hours.
    async fn by_correlation(
        &self,
        tenant: &TenantId,
        cid: &crate::CorrelationId,
        q: &AdminMessageQuery,
    ) -> Result<Vec<Message>, HeraldError> {
        let now = self.clock.now().timestamp_millis().max(0) as u64;
        let (from, to) = match cid.created_ms() {
            Some(ms) => (ms.saturating_sub(1_000), ms + 300_000),
            None => (now.saturating_sub(86_400_000), now + 1_000),
        };
        let (from, to) = (MessageId::floor_at(from), MessageId::floor_at(to));
        let mut found = self.messages.created_between(tenant, q.mode, &from, &to, IN_FLIGHT_READ).await?;
        found.retain(|m| q.keeps(m));
        Ok(found)
    }

    async fn in_flight(&self, state: WorkState, q: &AdminMessageQuery) -> Result<Vec<Message>, HeraldError> {
        let horizon = self.clock.now() + chrono::Duration::days(400);
        let ids = self.work.due(state, horizon, IN_FLIGHT_READ).await?;
        let mut found = self.messages.messages(&ids).await?;
        found.retain(|m| q.keeps(m));
        Ok(found)
    }

    /// `POST /v1/admin/messages/retry-now`: queued messages waiting out a retry back-off in
    /// the queue become visible at once (FIFO order within their group is kept).
    pub async fn retry_now(
        &self,
        caller: &Caller,
        tenant: Option<TenantId>,
        channel: Option<Channel>,
        reason: Option<&str>,
    ) -> Result<RetryNowReport, HeraldError> {
        caller.require_admin()?;
        let reason = optional_reason(reason)?;
        let q =
            AdminMessageQuery { tenant: tenant.clone(), status: Some(Status::Queued), channel, ..Default::default() };
        let mut report = RetryNowReport::default();
        for m in self.in_flight(WorkState::Active, &q).await? {
            let Some(handle) = m.backoff_handle.clone() else { continue };
            if self.queue.retry_later(m.channel, &handle, Duration::ZERO).await.is_err() {
                report.skipped += 1;
                continue;
            }
            report.released += 1;
            let now = self.clock.now();
            let grace = self.enqueue_grace;
            update_message(self.messages.as_ref(), &m.id, |msg| {
                let same = msg.backoff_handle.as_deref() == Some(handle.as_str());
                if same {
                    msg.backoff_handle = None;
                    msg.await_job(now, grace);
                    msg.notes.push(format!("retry-now by {} at {}", caller.actor(), now.to_rfc3339()));
                }
                same
            })
            .await?;
        }
        let detail =
            json!({"channel": channel, "released": report.released, "skipped": report.skipped, "reason": reason});
        self.audit.record(caller, tenant.as_ref(), "messages.retry_now", detail).await;
        Ok(report)
    }
}
