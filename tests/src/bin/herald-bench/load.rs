//! Load benchmark of the real pipeline: starts herald-local on moto (as the tests do), sends
//! N messages, each with its own Idempotency-Key, from C concurrent clients through the HTTP
//! API (test key: the built-in simulator delivers), and reports accept latency, throughput,
//! end-to-end time and the emulator's memory before and after (flat: no transactions, which
//! moto implements by copying the whole table).
//!
//!   ./dev bench   (or: cargo run -p herald-tests --bin herald-bench -- 300 8)
use herald_tests::spawn_app;
use serde_json::json;
use std::time::{Duration, Instant};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub async fn run(n: usize, c: usize) {
    let app = spawn_app(&[("HERALD_LOG_FORMAT", "text")]).await;
    let t = app.create_tenant(json!({})).await;
    let moto_before = moto_rss_mb();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    let mut next = 0;
    while next < n {
        let batch: Vec<_> = (next..(next + c).min(n))
            .map(|i| {
                let app = &app;
                let key = t.test_key.clone();
                async move {
                    let s = Instant::now();
                    let body = json!({"channel": "sms", "to": format!("+1415555{:04}", i % 10_000), "body": format!("bench {i}")});
                    let key_header = format!("soak-{i}");
                    let r = app.send_idempotent(&key, body, &key_header).await;
                    (s.elapsed().as_secs_f64() * 1000.0, r.status.as_u16(), r.body["id"].as_str().map(str::to_string))
                }
            })
            .collect();
        for (ms, status, id) in futures::future::join_all(batch).await {
            assert_eq!(status, 202, "accept failed");
            latencies.push(ms);
            ids.extend(id);
        }
        next += c;
    }
    let accept_secs = started.elapsed().as_secs_f64();
    let moto_accepted = moto_rss_mb();
    // Wait for every message to be delivered, then read the end-to-end times.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut e2e = Vec::new();
    for id in &ids {
        loop {
            let m = app.message(&t.test_key, id).await;
            if m["status"] == "delivered" {
                let created = chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str().unwrap()).unwrap();
                let done = chrono::DateTime::parse_from_rfc3339(m["delivered_at"].as_str().unwrap()).unwrap();
                e2e.push((done - created).num_milliseconds() as f64);
                break;
            }
            assert!(Instant::now() < deadline, "not delivered in time");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let total_secs = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    e2e.sort_by(f64::total_cmp);
    println!("herald-bench: {n} messages, {c} concurrent clients, herald-local on moto, 2 cores");
    println!(
        "accept latency ms   p50 {:.1}  p95 {:.1}  p99 {:.1}  max {:.1}",
        pct(&latencies, 0.5),
        pct(&latencies, 0.95),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0)
    );
    println!("accept throughput   {:.1} msg/s", n as f64 / accept_secs);
    println!("accepted→delivered  p50 {:.0} ms  p99 {:.0} ms", pct(&e2e, 0.5), pct(&e2e, 0.99));
    println!(
        "emulator memory     {:.0} MB before, {:.0} MB after accepting, {:.0} MB at the end",
        moto_before,
        moto_accepted,
        moto_rss_mb()
    );
    println!("all delivered after {total_secs:.1} s ({:.1} msg/s end to end)", n as f64 / total_secs);
}

/// Resident memory of the moto_server this process started (MB; 0 when not found).
fn moto_rss_mb() -> f64 {
    let port = herald_tests::moto_endpoint().rsplit(':').next().unwrap_or_default().to_string();
    let out = std::process::Command::new("pgrep").args(["-f", &format!("moto_server -H 127.0.0.1 -p {port}")]).output();
    let pids = out.ok().and_then(|o| String::from_utf8(o.stdout).ok()).unwrap_or_default();
    // The shell that started moto matches too: the largest resident set is the server.
    let rss = |pid: &str| -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_default();
        line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    pids.lines().map(rss).fold(0.0, f64::max) / 1024.0
}
