//! The webhooks Lambda: its own HttpApi routes under /webhooks.

// One event at a time per execution environment: one thread (no worker threads to start,
// no cross-thread wake-ups); the work is I/O, run concurrently on it.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    herald_runtime::init_tracing();
    let app = herald_runtime::build(herald_runtime::Config::from_env()?).await?;
    lambda_http::run(herald_webhooks::router(herald_runtime::AppState::new(app))).await
}
