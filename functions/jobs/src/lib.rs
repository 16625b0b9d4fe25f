//! Scheduled jobs, invoked by EventBridge schedules with `{"job": "<name>"}` as input.
use herald_core::service::{Herald, HeraldError, JobReport};
use serde::Deserialize;

pub const JOBS: &[&str] = &["dispatch"];

#[derive(Debug, Deserialize)]
pub struct JobEvent {
    pub job: String,
}

pub async fn run(herald: &Herald, job: &str) -> Result<JobReport, HeraldError> {
    match job {
        "dispatch" => herald.run_dispatch().await,
        other => Err(HeraldError::invalid(format!("unknown job {other}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_schedule_event_names_a_known_job() {
        let e: super::JobEvent = serde_json::from_str(include_str!("../../../events/schedule-dispatch.json")).unwrap();
        assert!(super::JOBS.contains(&e.job.as_str()));
    }
}
