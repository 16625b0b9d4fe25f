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
        async move { Ok::<_, lambda_runtime::Error>(herald_sender::handle(&app.services.sending, event.payload).await) }
    }))
    .await
}
