//! The sender Lambda (one binary; the channel comes from each record).
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        // Stop starting records one provider call (and a margin) before the deadline.
        let left = event.context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
        let margin = app.config.provider_timeout + std::time::Duration::from_secs(3);
        // A deadline nearer than one call (a runtime that gives none, a timeout set below the
        // provider timeout) limits nothing: the records run as before.
        let stop_at = (left > margin).then(|| std::time::Instant::now() + (left - margin));
        async move {
            let response = herald_sender::handle_until(&app.services.sending, event.payload, stop_at).await;
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
