//! The jobs Lambda: EventBridge schedules invoke it with `{"job": "..."}`.
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<herald_jobs::JobEvent>| {
        let app = app.clone();
        async move {
            let report = herald_jobs::run(&app.services.jobs, &event.payload.job).await?;
            tracing::info!(job = %report.job, examined = report.examined, released = report.released, requeued = report.requeued, errors = report.errors, "job finished");
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
