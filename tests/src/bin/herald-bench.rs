//! `./dev bench`: what one delivered SMS costs, measured on the real functions.
//!
//!   herald-bench [N]          cost per delivered SMS: AWS requests and DynamoDB units by
//!                             phase and operation, Herald CPU, $ per million (N = 200)
//!   herald-bench init [RUNS]  cold start of each release Lambda binary against a bare
//!                             lambda_runtime hello (`cargo build --release` them first)
//!   herald-bench load [N] [C] accept latency and throughput through herald-local
//!   herald-bench serve MOTO   (internal) the metering proxy and the simulator
use herald_tests::bench::{Accept, Bench, Cost, Phase};
use herald_tests::meter::Tally;
use std::io::BufRead;

#[path = "herald-bench/load.rs"]
mod load;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sub = args.first().map(String::as_str);
    // The cost run hosts the functions' handlers: one thread, as each Lambda runs them (see
    // the functions' `main`s). The proxy, the simulator and herald-local use two.
    let mut runtime = match sub {
        Some("serve" | "load" | "init") => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    runtime.enable_all().build().expect("tokio runtime").block_on(async {
        match sub {
            Some("serve") => serve(&args[1]).await,
            Some("load") => load::run(arg(&args, 1, 300), arg(&args, 2, 8)).await,
            Some("init") => init(arg(&args, 1, 20)).await,
            _ => cost(arg(&args, 0, 200)).await,
        }
    })
}

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

async fn serve(moto: &str) {
    let proxy = herald_tests::meter::start(moto.to_string()).await;
    let sim = herald_tests::sim::Simulator::start("127.0.0.1:0").await.expect("simulator");
    println!("{proxy} {}", sim.url());
    std::future::pending::<()>().await;
}

/// Starts `herald-bench serve` and reads the proxy's and the simulator's URLs.
fn child(moto: &str) -> (std::process::Child, String, String) {
    let mut c = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["serve", moto])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the proxy");
    let mut line = String::new();
    std::io::BufReader::new(c.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let mut urls = line.split_whitespace().map(String::from);
    (c, urls.next().unwrap(), urls.next().unwrap())
}

async fn cost(n: usize) {
    let moto = herald_tests::moto_endpoint();
    let (mut proc, proxy, sim) = child(&moto);
    let bench = Bench::start(proxy, sim).await;
    let key = bench.tenant().await;
    // Warm the containers (caches, connections), as a steady stream of messages finds them.
    bench.sms(&key, 10, Accept::One).await;
    let phases = bench.sms(&key, n, Accept::One).await;
    // One API Gateway request per SMS: the receipt reaches the webhooks function through its
    // own function URL (template.yaml), which has no per-request price.
    report(&format!("{n} SMS, Twilio, live key, one signed delivered receipt each"), &phases, n, 1.0, 2.1);
    let idem = bench.sms(&key, n, Accept::Keyed).await;
    report(&format!("the same {n} SMS with Idempotency-Keys"), &idem, n, 1.0, 2.1);
    // One API request and one API invocation per 100 messages.
    let batched = bench.sms(&key, n, Accept::Batch).await;
    report(&format!("the same {n} SMS through POST /v1/messages/batch (100 a request)"), &batched, n, 0.01, 1.11);
    bench.email_channel(&key).await;
    bench.email(&key, 10).await;
    let email = bench.email(&key, n).await;
    // The SES event reaches the ses-events function through SNS, not API Gateway.
    report(&format!("{n} emails through SES, one Delivery event each"), &email, n, 1.0, 2.1);
    println!("\nCPU of one request alone, this process (2,000 each; user + system ms):");
    for (what, user, sys) in bench.request_floor(2000).await {
        println!("  {what}: {:.3} ({user:.3} + {sys:.3})", user + sys);
    }
    proc.kill().ok();
}

fn report(title: &str, phases: &[Phase], n: usize, http: f64, invocations: f64) {
    let per = n as f64;
    println!("\n## {title}\n");
    println!("| per message | {} | total |", phases.iter().map(|p| p.name).collect::<Vec<_>>().join(" | "));
    println!("|---|{}---:|", "---:|".repeat(phases.len()));
    let row = |label: &str, f: &dyn Fn(&Phase) -> f64| {
        let vals: Vec<f64> = phases.iter().map(f).collect();
        let cells: Vec<String> = vals.iter().map(|v| format!("{v:.1}")).collect();
        println!("| {label} | {} | {:.1} |", cells.join(" | "), vals.iter().sum::<f64>());
    };
    row("AWS requests", &|p| p.tally.total() as f64 / per);
    row("DynamoDB WRU", &|p| p.tally.wru / per);
    row("DynamoDB RRU", &|p| p.tally.rru / per);
    row("Herald CPU ms", &|p| p.cpu_ms / per);
    row("  of which kernel", &|p| p.sys_ms / per);
    let mut all = Tally::default();
    for p in phases {
        for (op, c) in &p.tally.requests {
            *all.requests.entry(op.clone()).or_default() += c;
        }
        all.wru += p.tally.wru;
        all.rru += p.tally.rru;
    }
    let cpu: f64 = phases.iter().map(|p| p.cpu_ms).sum::<f64>() / per;
    println!("\nrequests by operation (per message): {}", ops(&all, per));
    for p in phases {
        println!("  {}: {}", p.name, ops(&p.tally, per));
        if std::env::var("HERALD_BENCH_DETAIL").is_ok() {
            let d: Vec<String> = p
                .tally
                .detail
                .iter()
                .filter(|(_, c)| **c > 0)
                .map(|(k, c)| format!("{k} {:.2}", *c as f64 / per))
                .collect();
            println!("    {}", d.join(", "));
            println!("    largest items written (bytes): {:?}", p.tally.sizes);
        }
    }
    let cost = Cost::of(&all, per, http, invocations, cpu);
    let lines: Vec<String> =
        cost.lines.iter().filter(|(_, v)| **v > 0.005).map(|(k, v)| format!("{k} {v:.2}")).collect();
    println!("\n$ per million: {:.2} ({})", cost.total(), lines.join(", "));
}

fn ops(t: &Tally, per: f64) -> String {
    t.requests
        .iter()
        .filter(|(_, c)| **c > 0)
        .map(|(op, c)| format!("{op} {:.2}", *c as f64 / per))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The environment the template gives the functions, against moto.
async fn lambda_env() -> Vec<(String, String)> {
    let prefix = format!("i{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let mut env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", herald_tests::moto_endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("HERALD_TABLE", prefix.clone()),
        ("HERALD_QUEUE_PREFIX", prefix.clone()),
        ("HERALD_SECRET_PREFIX", prefix.clone()),
        ("HERALD_ADMIN_KEY", "bench-admin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let vars: std::collections::HashMap<String, String> = env.iter().cloned().collect();
    let mut config = herald_runtime::Config::from_map(&vars).expect("config");
    herald_runtime::provision(&mut config).await.expect("provision");
    let app = herald_runtime::build(config).await.expect("build");
    for ch in herald_core::Channel::ALL {
        let pair = app.infra.queues.pair(ch).expect("queue").clone();
        let up = ch.as_str().to_ascii_uppercase();
        env.push((format!("HERALD_QUEUE_URL_{up}"), pair.url));
        env.push((format!("HERALD_DLQ_URL_{up}"), pair.dlq_url));
    }
    let cb = app.infra.queues.callbacks().expect("callbacks queue").clone();
    env.push(("HERALD_CALLBACK_QUEUE_URL".into(), cb.url));
    env.push(("HERALD_CALLBACK_DLQ_URL".into(), cb.dlq_url));
    env
}

async fn init(runs: usize) {
    let dir = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let env = lambda_env().await;
    let hello = herald_tests::coldstart::measure(&dir.join("lambda-hello"), &[], runs).await;
    let base = hello.median();
    println!("\n## Cold start: {runs} runs each, release profile, init = spawn → first request for an event\n");
    println!("| function | init ms (median) | × bare hello | peak RSS MB | binary MB |");
    println!("|---|---:|---:|---:|---:|");
    let row = |i: &herald_tests::coldstart::Init| {
        let m = i.median();
        println!(
            "| {} | {m:.1} | {:.1} | {:.1} | {:.1} |",
            i.name,
            m / base,
            i.rss_kb as f64 / 1024.0,
            i.size_bytes as f64 / 1048576.0
        );
    };
    row(&hello);
    for f in ["api", "sender", "callbacks", "webhooks", "ses-events", "jobs", "stats"] {
        let i = herald_tests::coldstart::measure(&dir.join(f), &env, runs).await;
        assert_eq!(i.init_ms.len(), runs, "{f} did not start");
        row(&i);
    }
}
