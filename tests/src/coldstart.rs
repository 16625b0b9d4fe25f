//! Cold start of each Lambda binary: a minimal Lambda Runtime API answers the runtime's
//! first `GET …/invocation/next` and notes when it came; init = that moment − spawn. The
//! functions run against moto (nothing they do at init may fail) with the environment the
//! template gives them. Peak RSS (VmHWM) is read at the same moment.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub struct Init {
    pub name: String,
    pub init_ms: Vec<f64>,
    pub rss_kb: u64,
    pub size_bytes: u64,
}

impl Init {
    pub fn median(&self) -> f64 {
        let mut v = self.init_ms.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }
}

struct Api {
    hit: Mutex<Option<Instant>>,
    notify: Notify,
}

async fn runtime_api() -> (String, Arc<Api>) {
    let api = Arc::new(Api { hit: Mutex::new(None), notify: Notify::new() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = api.clone();
    let app = axum::Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        axum::routing::get(move || {
            let state = state.clone();
            async move {
                state.hit.lock().unwrap().get_or_insert_with(Instant::now);
                state.notify.notify_one();
                // Never answers: the function is stopped here.
                std::future::pending::<()>().await;
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (addr, api)
}

fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Starts `binary` `runs` times with `env`; the time to its first request for an event.
pub async fn measure(binary: &std::path::Path, env: &[(String, String)], runs: usize) -> Init {
    let mut init = Init {
        name: binary.file_name().unwrap().to_string_lossy().into(),
        init_ms: Vec::new(),
        rss_kb: 0,
        size_bytes: std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0),
    };
    for _ in 0..runs {
        let (addr, api) = runtime_api().await;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(binary)
            .envs(env.iter().cloned())
            .env("AWS_LAMBDA_RUNTIME_API", &addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the function");
        let waited = tokio::time::timeout(Duration::from_secs(10), api.notify.notified()).await;
        if waited.is_ok() {
            let hit = api.hit.lock().unwrap().unwrap_or_else(Instant::now);
            init.init_ms.push((hit - started).as_secs_f64() * 1000.0);
            init.rss_kb = init.rss_kb.max(child.id().map(peak_rss_kb).unwrap_or(0));
        }
        child.kill().await.ok();
    }
    init
}
