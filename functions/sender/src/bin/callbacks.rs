//! The callbacks Lambda: POSTs signed status callbacks to tenants.
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move {
            let retry = herald_sender::callbacks::handle(&app.herald, &event.payload).await;
            let url = app.queues.callbacks().map(|c| c.url.clone()).unwrap_or_default();
            let mut response = SqsBatchResponse::default();
            for (id, receipt, delay) in retry {
                let _ = app.queues.delay_url(&url, &receipt, delay).await;
                let mut f = BatchItemFailure::default();
                f.item_identifier = id;
                response.batch_item_failures.push(f);
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}
