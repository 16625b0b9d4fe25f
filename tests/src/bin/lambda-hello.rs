//! The bare `lambda_runtime` hello the benchmark compares each function's cold start with
//! (built with the same release profile).
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, lambda_runtime::Error>(e.payload)
    }))
    .await
}
