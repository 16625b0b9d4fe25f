//! The stats Lambda: the message table's change stream → outcome counters and metrics.
use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let app = app.clone();
        async move {
            let counted = herald_jobs::stats::handle(&app.services.stats, &event.payload).await?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({"counted": counted}))
        }
    }))
    .await
}
