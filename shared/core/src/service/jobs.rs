//! Scheduled work. `dispatch` releases messages whose hold has ended (scheduled sends,
//! deferrals) and re-enqueues queued messages the queue has lost track of. It reads the
//! sparse work index by due time, never a scan.
use super::{Herald, HeraldError};
use crate::ports::WorkState;
use crate::status::Status;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct JobReport {
    pub job: String,
    pub examined: u32,
    pub released: u32,
    pub requeued: u32,
    pub errors: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

const PAGE: u32 = 100;

impl Herald {
    pub async fn run_dispatch(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "dispatch".into(), ..Default::default() };
        let now = self.now();
        for state in [WorkState::Held, WorkState::Queued] {
            for id in self.ports.messages.due(state, now, PAGE).await? {
                report.examined += 1;
                let grace = chrono::Duration::from_std(self.settings.enqueue_grace).unwrap_or_default();
                let updated = self
                    .update_message(&id, |m| {
                        let due = m.due_at.is_some_and(|d| d <= now);
                        let releasable =
                            matches!(m.status, Status::Scheduled | Status::Deferred) || m.status == Status::Queued;
                        if !due || !releasable {
                            return false;
                        }
                        m.requeue(now);
                        m.due_at = Some(now + grace);
                        true
                    })
                    .await;
                match updated {
                    Ok(Some(m)) if m.status == Status::Queued && m.updated_at == now => {
                        if state == WorkState::Held {
                            report.released += 1;
                        } else {
                            report.requeued += 1;
                            tracing::warn!(message_id = %m.id, "queued message was overdue; enqueued again");
                        }
                        self.enqueue(&m).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        report.errors += 1;
                        tracing::error!(message_id = %id, error = %e, "dispatch failed for message");
                    }
                }
            }
        }
        self.continue_releases(&mut report).await?;
        let drained = self.drain_dead_letter_queues().await?;
        if drained > 0 {
            report.details.push(serde_json::json!({"dead_letters_drained": drained}));
        }
        Ok(report)
    }

    /// Runs a scheduled job by its contract name.
    pub async fn run_job(&self, job: &str) -> Result<JobReport, HeraldError> {
        match job {
            "dispatch" => self.run_dispatch().await,
            "quota-reset" => self.run_quota_reset().await,
            "budget-reset" => self.run_budget_reset().await,
            "stale-recovery" => self.run_stale_recovery().await,
            "linking-recovery" => self.run_linking_recovery().await,
            other => Err(HeraldError::NotFound).map_err(|e| {
                tracing::warn!(job = other, "unknown job");
                e
            }),
        }
    }
}
