//! The webhooks Lambda: its own HttpApi routes under /webhooks.
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_http::run(herald_webhooks::router(Arc::new(app))).await
}
