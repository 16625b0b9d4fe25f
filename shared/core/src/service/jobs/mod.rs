//! Scheduled work (EventBridge schedules; herald-local runs them on a timer). `dispatch`
//! releases messages whose hold has ended (scheduled sends, deferrals), re-enqueues queued
//! messages the queue has lost track of, continues unfinished releases and drains the SQS
//! dead-letter queues. It reads the sparse work index by due time, never a scan.
mod stale;

pub use stale::Recovery;

use super::budget::Budgets;
use super::dead_letters::DeadLetters;
use super::linking::Linking;
use super::policy::Holds;
use super::support::{update_message, JobReport, Outbox};
use super::HeraldError;
use crate::message::{HoldKey, HoldReason};
use crate::ports::{Clock, MessageStore, TenantStore, WorkIndex, WorkState};
use crate::status::Status;
use serde_json::json;
use std::sync::Arc;

const PAGE: u32 = 100;

pub struct Jobs {
    pub(crate) messages: Arc<dyn MessageStore>,
    pub(crate) work: Arc<dyn WorkIndex>,
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) budgets: Arc<Budgets>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) dead_letters: Arc<DeadLetters>,
    pub(crate) recovery: Arc<Recovery>,
    pub(crate) receipts: Arc<super::receipts::Receipts>,
    pub(crate) linking: Arc<Linking>,
    pub(crate) identities: Arc<crate::service::tenancy::Identities>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) enqueue_grace: crate::message::EnqueueGrace,
    /// One run works at most this long (`Settings::job_run_budget`).
    pub(crate) run_budget: std::time::Duration,
}

impl Jobs {
    /// Runs a scheduled job by its contract name.
    #[tracing::instrument(name = "job", skip(self))]
    pub async fn run(&self, job: &str) -> Result<JobReport, HeraldError> {
        match job {
            "dispatch" => self.dispatch().await,
            "quota-reset" => self.quota_reset().await,
            "budget-reset" => self.budget_reset().await,
            "stale-recovery" => self.recovery.run().await,
            "linking-recovery" => self.linking.run_linking_recovery().await,
            other => {
                tracing::warn!(job = other, "unknown job");
                Err(HeraldError::NotFound)
            }
        }
    }

    /// Every step runs even when another fails: a failing step is logged, counted
    /// (`job_step_failures`, alarmed) and named in the report, and the run still answers.
    pub async fn dispatch(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "dispatch".into(), ..Default::default() };
        let due = self.release_due_pages(&mut report).await;
        step(&mut report, "due", due);
        let releases = self.holds.continue_releases(&mut report).await;
        step(&mut report, "releases", releases);
        // Messages held by an open circuit wait without a due time: one per channel goes
        // back each run, to carry the probe once the cool-down is over (or to be held again).
        for channel in crate::Channel::ALL {
            let key = HoldKey::Channel(HoldReason::ProviderCircuitOpen, channel);
            if let Some(n) = step(&mut report, "probes", self.holds.release_holds(&key, 1).await) {
                report.released += n;
            }
        }
        let swept = self.receipts.sweep_orphans(chrono::Duration::minutes(1)).await;
        if let Some(s) = step(&mut report, "early_receipts", swept) {
            if s.applied > 0 || s.expired > 0 {
                report.details.push(json!({"early_receipts_applied": s.applied, "early_receipts_expired": s.expired}));
            }
        }
        if let Some(n) = step(&mut report, "identities", self.identities.expire_pending().await).filter(|n| *n > 0) {
            report.details.push(json!({"email_identities_expired": n}));
        }
        let drained = self.dead_letters.drain_dead_letter_queues().await;
        if let Some(n) = step(&mut report, "dead_letters", drained).filter(|n| *n > 0) {
            report.details.push(json!({"dead_letters_drained": n}));
        }
        Ok(report)
    }

    /// Every due message, page after page, within the run's time budget; what is left
    /// (still due) is the next run's first page.
    async fn release_due_pages(&self, report: &mut JobReport) -> Result<(), HeraldError> {
        let started = std::time::Instant::now();
        for state in [WorkState::Held, WorkState::Active] {
            loop {
                let page = self.work.due(state, self.clock.now(), PAGE).await?;
                let full = page.len() as u32 == PAGE;
                let moved = self.dispatch_page(state, page, report).await;
                if !full || moved == 0 || started.elapsed() > self.run_budget {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Releases or re-enqueues one page of due messages; how many moved.
    async fn dispatch_page(&self, state: WorkState, page: Vec<crate::MessageId>, report: &mut JobReport) -> u32 {
        let mut moved = 0;
        {
            for id in page {
                report.examined += 1;
                match self.release_due(&id).await {
                    Ok(true) if state == WorkState::Held => {
                        report.released += 1;
                        moved += 1;
                    }
                    Ok(true) => {
                        report.requeued += 1;
                        moved += 1;
                        tracing::warn!(message_id = %id, "queued message was overdue; enqueued again");
                    }
                    Ok(false) => {}
                    Err(e) => {
                        report.errors += 1;
                        tracing::error!(message_id = %id, error = %e, "dispatch failed for message");
                    }
                }
            }
        }
        moved
    }

    /// Re-enqueues one due message (a new generation); false when it was not due any more.
    async fn release_due(&self, id: &crate::MessageId) -> Result<bool, HeraldError> {
        let now = self.clock.now();
        let grace = self.enqueue_grace;
        let updated = update_message(self.messages.as_ref(), id, |m| {
            let due = m.due_at.is_some_and(|d| d <= now);
            let releasable = matches!(m.status, Status::Scheduled | Status::Deferred | Status::Queued);
            if !due || !releasable {
                return false;
            }
            m.requeue(now);
            m.await_job(now, grace);
            true
        })
        .await?;
        match updated {
            Some(m) if m.status == Status::Queued && m.updated_at == now => {
                self.outbox.enqueue(&m).await;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// `quota-reset`: starts a new WhatsApp quota period for every tenant and releases what
    /// the quota held.
    pub async fn quota_reset(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "quota-reset".into(), ..Default::default() };
        for tenant_id in self.budgets.quota_tenants().await? {
            report.examined += 1;
            let Some(old) = self.budgets.reset_quota(&tenant_id).await? else { continue };
            let n = self.holds.release_or_defer(&HoldKey::Tenant(tenant_id.clone(), HoldReason::QuotaExceeded)).await?;
            report.released += n;
            report
                .details
                .push(json!({"tenant_id": tenant_id, "previous_sent": old.sent, "limit": old.limit, "released": n}));
        }
        Ok(report)
    }

    /// `budget-reset`: opens each tenant's new day and month at zero in its own timezone.
    /// Spend is keyed by local date, so a missed run never carries old spend over; the job
    /// makes the new periods visible and reports the closing ones.
    pub async fn budget_reset(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "budget-reset".into(), ..Default::default() };
        for tenant in self.tenants.all_tenants().await? {
            report.examined += 1;
            let (period, spend) = self.budgets.open_period(&tenant).await?;
            report.details.push(json!({
                "tenant_id": tenant.id, "day": period.day, "month": period.month,
                "daily_spent_cents": spend.daily_spent_cents, "monthly_spent_cents": spend.monthly_spent_cents
            }));
        }
        Ok(report)
    }
}

/// One step's outcome: a failure is logged, counted and reported, and the job goes on.
fn step<T>(report: &mut JobReport, name: &str, result: Result<T, HeraldError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            report.errors += 1;
            tracing::error!(job = %report.job, step = name, error = %e, "a job step failed; the others ran");
            crate::metrics::emit("job_step_failures", 1.0, &[("job", report.job.as_str())]);
            report.details.push(json!({"step": name, "error": e.to_string()}));
            None
        }
    }
}

impl Jobs {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
        receipts: Arc<super::receipts::Receipts>,
        linking: Arc<super::linking::Linking>,
        dead_letters: Arc<super::dead_letters::DeadLetters>,
    ) -> Self {
        let recovery = Recovery {
            messages: a.db.clone(),
            work: a.db.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            receipts,
            outbox: sh.outbox.clone(),
            clock: sh.clock.clone(),
            stale_after: s.stale_after,
            enqueue_grace: s.enqueue_grace.into(),
        };
        Jobs {
            messages: a.db.clone(),
            work: a.db.clone(),
            tenants: a.config.clone(),
            budgets: sh.budgets.clone(),
            outbox: sh.outbox.clone(),
            holds: sh.holds.clone(),
            dead_letters,
            receipts: recovery.receipts.clone(),
            recovery: Arc::new(recovery),
            linking,
            identities: sh.identities.clone(),
            clock: sh.clock.clone(),
            enqueue_grace: s.enqueue_grace.into(),
            run_budget: s.job_run_budget,
        }
    }
}
