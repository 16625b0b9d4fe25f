//! `herald`, the operators' command line: each runbook procedure is one command, each
//! command one call to Herald's API (or, for a DLQ retry of thousands, as many calls as it
//! takes, with progress). `--url/--key` or `HERALD_URL`/`HERALD_KEY`; `--json` for the
//! API's own JSON, a table otherwise.
pub mod cli;
pub mod commands;
pub mod table;

use clap::Parser;
use cli::{Cli, Command, Dlq};
use commands::{call_for, Call};
use serde_json::Value;
use std::io::Write;

/// Exit codes: 0 success, 1 the API refused (4xx/5xx), 2 usage or connection error.
pub async fn run(args: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<i32> {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let text = e.render().to_string();
            if code == 0 {
                write!(out, "{text}")?;
            } else {
                write!(err, "{text}")?;
            }
            return Ok(code);
        }
    };
    let call = match call_for(&cli.command) {
        Ok(c) => c,
        Err(e) => {
            writeln!(err, "herald: {e}")?;
            return Ok(2);
        }
    };
    if let Err(e) = safe_url(&cli.url) {
        writeln!(err, "herald: {e}")?;
        return Ok(2);
    }
    let client = Client { http: reqwest::Client::new(), url: cli.url.trim_end_matches('/').to_string(), key: cli.key };
    let (status, body) = match &cli.command {
        Command::Dlq(Dlq::Retry(r)) => {
            let pause = herald_core::retry::parse_duration(&r.pause)
                .ok_or_else(|| anyhow::anyhow!("--pause {}: a duration such as 2s", r.pause))?;
            client.until_done(&call, pause, err).await?
        }
        _ => client.send(&call).await?,
    };
    if cli.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
    } else if status < 400 {
        write!(out, "{}", table::render(&body))?;
    } else {
        let e = &body["error"];
        writeln!(err, "error {status} {}: {}", e["code"].as_str().unwrap_or("-"), e["message"].as_str().unwrap_or(""))?;
    }
    Ok(if status < 400 { 0 } else { 1 })
}

struct Client {
    http: reqwest::Client,
    url: String,
    key: Option<String>,
}

impl Client {
    async fn send(&self, call: &Call) -> anyhow::Result<(u16, Value)> {
        let method = reqwest::Method::from_bytes(call.method.as_bytes())?;
        let mut req = self.http.request(method, format!("{}{}", self.url, call.path)).query(&call.query);
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", self.url))?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok((status, body))
    }

    /// A call that works in rounds (`done: false` → call again; a batch or the call's time
    /// box ended it), with progress, pausing between rounds.
    async fn until_done(
        &self,
        call: &Call,
        pause: std::time::Duration,
        err: &mut dyn Write,
    ) -> anyhow::Result<(u16, Value)> {
        let (mut total, mut batches) = (0u64, 0u32);
        loop {
            let (status, body) = self.send(call).await?;
            if status >= 400 {
                return Ok((status, body));
            }
            let n = body["requeued"].as_u64().unwrap_or(0);
            (total, batches) = (total + n, batches + 1);
            let done = body["done"].as_bool().unwrap_or(true);
            writeln!(err, "batch {batches}: requeued {n}, {total} in all{}", if done { ", done" } else { "…" })?;
            if done {
                return Ok((status, serde_json::json!({"requeued": total, "batches": batches, "done": true})));
            }
            tokio::time::sleep(pause).await;
        }
    }
}

/// The admin key never crosses a network in clear: plain http is for this machine only.
fn safe_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("--url {url}: {e}"))?;
    let local = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(format!("--url {url}: use https:// (plain http only to 127.0.0.1 or localhost)")),
    }
}
