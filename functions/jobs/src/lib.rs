//! Scheduled jobs, invoked by EventBridge schedules with `{"job": "<name>"}` as input.
pub mod stats;

use herald_core::service::jobs::Jobs;
use herald_core::service::{HeraldError, JobReport};
use serde::Deserialize;
use std::time::Duration;

/// Jobs and their schedules, as in template.yaml. herald-local runs `dispatch` on its own
/// (shorter) tick and the others on these periods.
pub const SCHEDULES: &[(&str, Duration)] = &[
    ("dispatch", Duration::from_secs(60)),
    ("quota-reset", Duration::from_secs(86_400)),
    ("budget-reset", Duration::from_secs(3_600)),
    ("stale-recovery", Duration::from_secs(300)),
    ("linking-recovery", Duration::from_secs(300)),
];

pub const JOBS: &[&str] = &["dispatch", "quota-reset", "budget-reset", "stale-recovery", "linking-recovery"];

#[derive(Debug, Deserialize)]
pub struct JobEvent {
    pub job: String,
}

pub async fn run(jobs: &Jobs, job: &str) -> Result<JobReport, HeraldError> {
    match jobs.run(job).await {
        Err(HeraldError::NotFound) => Err(HeraldError::invalid(format!("unknown job {job}"))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_schedule_event_names_a_known_job() {
        for raw in [
            include_str!("../../../events/schedule-dispatch.json"),
            include_str!("../../../events/schedule-quota-reset.json"),
            include_str!("../../../events/schedule-budget-reset.json"),
        ] {
            let e: super::JobEvent = serde_json::from_str(raw).unwrap();
            assert!(super::JOBS.contains(&e.job.as_str()), "{}", e.job);
        }
    }
}
