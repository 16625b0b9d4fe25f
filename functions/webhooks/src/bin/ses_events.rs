//! SES events (delivery, bounce, complaint) through SNS.
use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SnsEvent>| {
        let app = app.clone();
        async move {
            for record in event.payload.records {
                let ses: serde_json::Value = serde_json::from_str(&record.sns.message)?;
                if let Some(event) = herald_providers::ses::events::parse(&ses) {
                    app.services.receipts.apply_mail_event(&event).await?;
                }
            }
            Ok::<_, lambda_runtime::Error>(())
        }
    }))
    .await
}
