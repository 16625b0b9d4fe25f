//! The API Lambda: API Gateway HTTP API events → the axum router.
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    herald_runtime::init_tracing();
    let config = herald_runtime::Config::from_env()?;
    let app = herald_runtime::build(config).await?;
    lambda_http::run(herald_api::router(Arc::new(app))).await
}
