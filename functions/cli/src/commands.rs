//! Each command as the HTTP call it makes.
use crate::cli::*;
use serde_json::{json, Map, Value};

/// One API call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Call {
    fn get(path: impl Into<String>) -> Call {
        Call { method: "GET", path: path.into(), query: Vec::new(), body: None }
    }
    fn post(path: impl Into<String>, body: Value) -> Call {
        Call { method: "POST", path: path.into(), query: Vec::new(), body: Some(body) }
    }
    fn q(mut self, name: &str, v: Option<impl ToString>) -> Call {
        if let Some(v) = v {
            self.query.push((name.to_string(), v.to_string()));
        }
        self
    }
}

/// A JSON object of the fields that are set.
fn fields(pairs: &[(&str, Option<Value>)]) -> Value {
    let map: Map<String, Value> = pairs.iter().filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))).collect();
    Value::Object(map)
}

fn messages(m: &Messages) -> Call {
    match m {
        Messages::Get { id } => Call::get(format!("/v1/admin/messages/{id}")),
        Messages::List(f) => Call::get("/v1/admin/messages")
            .q("tenant_id", f.tenant.as_ref())
            .q("status", f.status.as_ref())
            .q("channel", f.channel.as_ref())
            .q("min_attempts", f.min_attempts)
            .q("older_than", f.older_than.as_ref())
            .q("correlation_id", f.correlation_id.as_ref())
            .q("limit", f.limit)
            .q("cursor", f.cursor.as_ref()),
        Messages::Stuck { older_than, tenant } => Call::get("/v1/admin/messages")
            .q("status", Some("sending"))
            .q("older_than", Some(older_than))
            .q("tenant_id", tenant.as_ref()),
        Messages::RetryNow { tenant, channel, reason } => Call::post(
            "/v1/admin/messages/retry-now",
            fields(&[
                ("tenant_id", tenant.clone().map(Value::from)),
                ("channel", channel.clone().map(Value::from)),
                ("reason", reason.clone().map(Value::from)),
            ]),
        ),
    }
}

fn tenants(t: &Tenants) -> Call {
    let base = |id: &str| format!("/v1/admin/tenants/{id}");
    match t {
        Tenants::Create { name, daily_budget_cents, monthly_budget_cents } => Call::post(
            "/v1/admin/tenants",
            fields(&[
                ("name", Some(json!(name))),
                ("daily_budget_cents", daily_budget_cents.map(Value::from)),
                ("monthly_budget_cents", monthly_budget_cents.map(Value::from)),
            ]),
        ),
        Tenants::List { q, cursor, limit } => {
            Call::get("/v1/admin/tenants").q("q", q.as_ref()).q("cursor", cursor.as_ref()).q("limit", *limit)
        }
        Tenants::Get { id } => Call::get(base(id)),
        Tenants::Pause { id, reason } => Call::post(format!("{}/pause", base(id)), json!({"reason": reason})),
        Tenants::Resume { id } => Call::post(format!("{}/resume", base(id)), json!({})),
        Tenants::Budget { id } => Call::get(format!("{}/budget", base(id))),
        Tenants::BudgetReset { id, period, reason } => {
            Call::post(format!("{}/budget/reset", base(id)), json!({"period": period, "reason": reason}))
        }
        Tenants::KeyCreate { id, mode } => Call::post(format!("{}/keys", base(id)), json!({"mode": mode})),
        Tenants::KeyRevoke { id, key_id } => {
            Call { method: "DELETE", path: format!("{}/keys/{key_id}", base(id)), query: Vec::new(), body: None }
        }
    }
}

fn keys(k: &Keys) -> Call {
    let base = |id: &str| format!("/v1/admin/tenants/{id}/keys");
    match k {
        Keys::List { tenant } => Call::get(base(tenant)),
        Keys::Create { tenant, mode } => Call::post(base(tenant), json!({"mode": mode})),
        Keys::Revoke { tenant, key_id } => {
            Call { method: "DELETE", path: format!("{}/{key_id}", base(tenant)), query: Vec::new(), body: None }
        }
        Keys::RevokeAll { tenant, reason } => {
            Call::post(format!("{}/revoke-all", base(tenant)), json!({"reason": reason}))
        }
    }
}

/// RFC 3339 as given, or a duration ago (`24h`) as RFC 3339.
pub fn since(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    if chrono::DateTime::parse_from_rfc3339(raw).is_ok() {
        return Ok(raw.to_string());
    }
    let ago = herald_core::retry::parse_duration(raw)
        .ok_or_else(|| format!("--since {raw}: RFC 3339 (2026-12-01T00:00:00Z) or a duration ago (24h)"))?;
    let ago = chrono::Duration::from_std(ago).map_err(|e| e.to_string())?;
    Ok((now - ago).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn dlq_retry_body(r: &DlqRetry) -> Result<Value, String> {
    let since = r.since.as_deref().map(|s| since(s, chrono::Utc::now())).transpose()?;
    let ids = (!r.ids.is_empty()).then(|| json!(r.ids));
    Ok(fields(&[
        ("tenant_id", r.filter.tenant.clone().map(Value::from)),
        ("channel", r.filter.channel.clone().map(Value::from)),
        ("error_code", r.filter.error_code.clone().map(Value::from)),
        ("since", since.map(Value::from)),
        ("ids", ids),
        ("limit", r.batch_size.map(Value::from)),
    ]))
}

fn dlq(d: &Dlq) -> Result<Call, String> {
    Ok(match d {
        Dlq::Stats { tenant } => Call::get("/v1/admin/dlq/stats").q("tenant_id", tenant.as_ref()),
        Dlq::List(l) => Call::get("/v1/admin/dlq")
            .q("tenant_id", l.filter.tenant.as_ref())
            .q("channel", l.filter.channel.as_ref())
            .q("error_code", l.filter.error_code.as_ref())
            .q("since", l.since.as_deref().map(|s| since(s, chrono::Utc::now())).transpose()?)
            .q("limit", l.limit)
            .q("cursor", l.cursor.as_ref()),
        Dlq::Retry(r) => Call::post("/v1/admin/dlq/retry", dlq_retry_body(r)?),
        Dlq::Archive { tenant, older_than_days } => Call::post(
            "/v1/admin/dlq/archive",
            fields(&[
                ("tenant_id", tenant.clone().map(Value::from)),
                ("older_than_days", Some(json!(older_than_days))),
            ]),
        ),
    })
}

/// The call a command makes (`None` for `call` with a bad body, reported by the caller).
pub fn call_for(c: &Command) -> Result<Call, String> {
    Ok(match c {
        Command::Health => Call::get("/health"),
        Command::Messages(m) => messages(m),
        Command::Stats(s) => Call::get("/v1/admin/stats")
            .q("window", Some(&s.window))
            .q("tenant_id", s.tenant.as_ref())
            .q("channel", s.channel.as_ref()),
        Command::Queues => Call::get("/v1/system/queues"),
        Command::Providers => Call::get("/v1/system/health/providers"),
        Command::Circuit(Circuit::Open { provider, account, reason }) => {
            Call::post(format!("/v1/admin/circuits/{provider}/{account}/open"), json!({"reason": reason}))
        }
        Command::Circuit(Circuit::Close { provider, account, reason }) => {
            Call::post(format!("/v1/admin/circuits/{provider}/{account}/close"), json!({"reason": reason}))
        }
        Command::Tenants(t) => tenants(t),
        Command::Keys(k) => keys(k),
        Command::Dlq(d) => dlq(d)?,
        Command::Features(Features::List) => Call::get("/v1/admin/features"),
        Command::Features(Features::Set { feature, state, reason }) => {
            let enabled = match state.as_str() {
                "on" | "true" | "enabled" => true,
                "off" | "false" | "disabled" => false,
                other => return Err(format!("state must be on or off, not {other}")),
            };
            Call {
                method: "PATCH",
                ..Call::post(
                    "/v1/admin/features",
                    fields(&[
                        ("feature", Some(json!(feature))),
                        ("enabled", Some(json!(enabled))),
                        ("reason", reason.clone().map(Value::from)),
                    ]),
                )
            }
        }
        Command::Job { name } => Call::post(format!("/v1/admin/jobs/{name}/run"), json!({})),
        Command::Linking(Linking::Failed) => Call::get("/v1/admin/linking").q("status", Some("failed")),
        Command::Linking(Linking::List { status }) => Call::get("/v1/admin/linking").q("status", status.as_ref()),
        Command::Calls(Calls::List { since }) => Call::get("/v1/calls").q("since", since.as_ref()),
        Command::Calls(Calls::Get { call_sid }) => Call::get(format!("/v1/calls/{call_sid}")),
        Command::Calls(Calls::Settings) => Call::get("/v1/voice"),
        Command::Quota { tenant } => Call::get("/v1/admin/whatsapp/quota").q("tenant_id", tenant.as_ref()),
        Command::Audit(a) => Call::get("/v1/admin/audit")
            .q("tenant_id", a.tenant.as_ref())
            .q("action", a.action.as_ref())
            .q("since", a.since.as_ref())
            .q("limit", a.limit)
            .q("cursor", a.cursor.as_ref()),
        Command::Call { method, path, data } => {
            let body = data.as_deref().map(serde_json::from_str).transpose().map_err(|e| format!("--data: {e}"))?;
            let method = match method.to_ascii_uppercase().as_str() {
                "GET" => "GET",
                "POST" => "POST",
                "PUT" => "PUT",
                "PATCH" => "PATCH",
                "DELETE" => "DELETE",
                other => return Err(format!("unknown method {other}")),
            };
            Call { method, path: path.clone(), query: Vec::new(), body }
        }
    })
}
