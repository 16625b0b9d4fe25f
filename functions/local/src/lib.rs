//! herald-local: the whole system in one process against a local AWS emulator.
//!
//! - creates the table, queues and secrets when missing;
//! - serves the API router (the same one the API Lambda runs);
//! - feeds each channel queue to the sender handler the way a Lambda event source mapping
//!   does: batches of real `SqsEvent`s, deleting what the handler did not report failed;
//! - runs the scheduled jobs on their schedules.
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use herald_aws::SetupError;
use herald_core::Channel;
use herald_runtime::{AppState, Config};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

pub struct LocalOptions {
    pub listen: String,
    /// Records per sender invocation (the event source mapping's batch size).
    pub batch_size: i32,
    /// How often the dispatch job runs locally (the other jobs keep their schedules).
    pub job_interval: Duration,
    /// The clock the domain reads (tests pin it; otherwise the system clock).
    pub clock: Option<Arc<dyn herald_core::ports::Clock>>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self { listen: "127.0.0.1:3000".into(), batch_size: 10, job_interval: Duration::from_secs(5), clock: None }
    }
}

/// A running local stack; dropping it stops every task.
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub async fn start(mut config: Config, opts: LocalOptions) -> Result<Running, SetupError> {
    herald_runtime::provision(&mut config).await?;
    let clock = opts.clock.clone().unwrap_or_else(|| Arc::new(herald_core::ports::SystemClock));
    let app = herald_runtime::AppState::new(herald_runtime::build_with_clock(config, clock).await?);
    let listener =
        tokio::net::TcpListener::bind(&opts.listen).await.map_err(|e| format!("bind {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut tasks = Vec::new();
    let router = herald_webhooks::router(app.clone()).merge(herald_api::router(app.clone()));
    tasks.push(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "http server stopped");
        }
    }));
    for channel in Channel::ALL {
        // Per-channel worker settings, as the template's parameters are in AWS.
        let up = channel.as_str().to_ascii_uppercase();
        let enabled = std::env::var(format!("HERALD_SENDER_ENABLED_{up}")).map_or(true, |v| v != "false" && v != "0");
        let batch = std::env::var(format!("HERALD_BATCH_SIZE_{up}"))
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(opts.batch_size);
        if enabled {
            tasks.push(tokio::spawn(poll_queue(app.clone(), channel, batch)));
        } else {
            tracing::warn!(channel = %channel, "sender disabled by HERALD_SENDER_ENABLED_{up}=false; messages wait in the queue");
        }
    }
    tasks.push(tokio::spawn(poll_callbacks(app.clone())));
    tasks.push(tokio::spawn(poll_stream(app.clone())));
    for (job, period) in herald_jobs::SCHEDULES {
        let every = if *job == "dispatch" { opts.job_interval } else { *period };
        tasks.push(tokio::spawn(run_schedule(app.clone(), job, every)));
    }
    Ok(Running { addr, app, tasks })
}

/// One event source mapping: receive a batch, invoke the handler, delete the successes.
async fn poll_queue(app: AppState, channel: Channel, batch_size: i32) {
    let arn = app.infra.queues.pair(channel).map(|p| p.arn.clone()).unwrap_or_default();
    loop {
        let received = match app.infra.queues.receive(channel, batch_size, Duration::from_secs(1)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(channel = %channel, error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if received.is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        event.records = received.iter().map(|r| to_record(r, &arn, &app.config.aws_region)).collect();
        let response = herald_sender::handle(&app.services.sending, event).await;
        let failed: std::collections::HashSet<String> =
            response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        let done: Vec<String> =
            received.into_iter().filter(|r| !failed.contains(&r.message_id)).map(|r| r.receipt_handle).collect();
        if let Err(e) = app.infra.queues.delete(channel, &done).await {
            tracing::warn!(channel = %channel, error = %e, "delete failed; records will be redelivered");
        }
    }
}

/// The callbacks queue's event source mapping.
async fn poll_callbacks(app: AppState) {
    let Some(pair) = app.infra.queues.callbacks().cloned() else { return };
    loop {
        let received = match app.infra.queues.receive_url(&pair.url, 10, Duration::from_secs(1)).await {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => continue,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut event = SqsEvent::default();
        event.records = received.iter().map(|r| to_record(r, &pair.arn, &app.config.aws_region)).collect();
        let response = herald_sender::callbacks::handle(&app.services.callbacks, &event).await;
        let failed: std::collections::HashSet<&str> =
            response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        let done: Vec<String> = received
            .iter()
            .filter(|r| !failed.contains(r.message_id.as_str()))
            .map(|r| r.receipt_handle.clone())
            .collect();
        let _ = app.infra.queues.delete_url(&pair.url, &done).await;
    }
}

/// The table stream's event source mapping: batches of records to the stats function.
async fn poll_stream(app: AppState) {
    let mut tail = herald_aws::streams::StreamTail::new(&app.infra.sdk, app.config.table.clone());
    loop {
        let changes = match tail.poll(1000).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "stream read failed");
                Vec::new()
            }
        };
        if changes.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let mut event = aws_lambda_events::event::dynamodb::Event::default();
        event.records = changes.into_iter().map(|c| to_stream_record(c, &app.config.aws_region)).collect();
        if let Err(e) = herald_jobs::stats::handle(&app.services.stats, &event).await {
            tracing::warn!(error = %e, "stats batch failed; its counts are lost locally");
        }
    }
}

fn to_stream_record(
    c: herald_aws::streams::StreamChange,
    region: &str,
) -> aws_lambda_events::event::dynamodb::EventRecord {
    let mut r = aws_lambda_events::event::dynamodb::EventRecord::default();
    r.aws_region = region.to_string();
    r.event_name = c.event_name;
    r.event_source = Some("aws:dynamodb".into());
    r.change.keys = c.keys;
    r.change.old_image = c.old_image;
    r.change.new_image = c.new_image;
    r.change.sequence_number = c.sequence_number;
    r
}

/// An SQS record as the event source mapping hands it to a function.
pub fn to_record(r: &herald_aws::sqs::Received, arn: &str, region: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(r.message_id.clone());
    m.receipt_handle = Some(r.receipt_handle.clone());
    m.body = Some(r.body.clone());
    m.attributes = r.attributes.clone();
    m.event_source = Some("aws:sqs".into());
    m.event_source_arn = Some(arn.to_string());
    m.aws_region = Some(region.to_string());
    m
}

/// One EventBridge schedule: the job every `every`, first run one period after start.
async fn run_schedule(app: AppState, job: &'static str, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match herald_jobs::run(&app.services.jobs, job).await {
            Ok(r) if r.examined > 0 || r.released > 0 => {
                tracing::info!(
                    job,
                    examined = r.examined,
                    released = r.released,
                    requeued = r.requeued,
                    "scheduled job ran"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job, error = %e, "scheduled job failed"),
        }
    }
}
