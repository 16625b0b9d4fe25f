//! The API Lambda: API Gateway HTTP API events → the axum router.

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    herald_runtime::init_tracing();
    let config = herald_runtime::Config::from_env()?;
    let app = herald_runtime::build(config).await?;
    lambda_http::run(herald_api::router(herald_runtime::AppState::new(app))).await
}
