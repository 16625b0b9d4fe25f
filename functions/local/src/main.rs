//! `herald-local`: runs Herald against a local AWS emulator (CONTRACT §11).
use clap::Parser;
use herald_core::retry::parse_duration;

#[derive(Parser)]
#[command(
    name = "herald-local",
    version,
    about = "Run the whole of Herald locally against an AWS emulator (AWS_ENDPOINT_URL)"
)]
struct Args {
    /// Address to serve the API and webhooks on.
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:3000")]
    listen: String,
    /// Records per sender invocation, as an event source mapping's batch size.
    #[arg(long, env = "HERALD_BATCH_SIZE", default_value_t = 10)]
    batch_size: i32,
    /// How often the scheduled jobs run locally.
    #[arg(long, env = "HERALD_LOCAL_JOB_INTERVAL", default_value = "5s")]
    job_interval: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    herald_runtime::init_tracing();
    let args = Args::parse();
    let mut config = herald_runtime::Config::from_env()?;
    config = config.for_local();
    let job_interval = parse_duration(&args.job_interval).ok_or_else(|| anyhow::anyhow!("bad --job-interval"))?;
    let running = herald_local::start(
        config,
        herald_local::LocalOptions { listen: args.listen, batch_size: args.batch_size, job_interval, clock: None },
    )
    .await
    .map_err(anyhow::Error::msg)?;
    println!("herald-local listening on {}", running.url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
