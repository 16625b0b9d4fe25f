//! A metering proxy in front of the AWS emulator: it forwards every request unchanged and
//! counts, per phase, the AWS requests by operation and the DynamoDB capacity units they
//! would cost in AWS. moto answers `ReturnConsumedCapacity` with fixed numbers, so units are
//! computed here from DynamoDB's published rules: item size = attribute names + values;
//! a write costs ⌈max(before, after) / 1 KB⌉ on the table plus, per GSI, a put, a delete or an
//! update of the projected item (only when its key or projected attributes change); reads
//! ⌈size / 4 KB⌉, halved when eventually consistent; transactions double. The item before
//! and after each write is read from the emulator directly (not counted).
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// Requests by `service:Operation`.
    pub requests: BTreeMap<String, u64>,
    pub wru: f64,
    pub rru: f64,
    /// Requests by operation and the kind of item (the key's prefix), for finding waste.
    #[serde(default)]
    pub detail: BTreeMap<String, u64>,
    /// The largest item written, by kind (bytes, DynamoDB's size rules).
    #[serde(default)]
    pub sizes: BTreeMap<String, usize>,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
}

#[derive(Clone)]
enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Clone)]
struct Gsi {
    keys: Vec<String>,
    projection: Projection,
}

struct State {
    moto: String,
    http: reqwest::Client,
    phase: Mutex<String>,
    tallies: Mutex<BTreeMap<String, Tally>>,
    schemas: Mutex<HashMap<String, Vec<Gsi>>>,
}

/// Starts the proxy on a free port; returns its URL. `POST /__meter/phase/{name}` switches the
/// phase, `GET /__meter` returns the tallies by phase.
pub async fn start(moto: String) -> String {
    let state = Arc::new(State {
        moto,
        http: reqwest::Client::new(),
        phase: Mutex::new("setup".into()),
        tallies: Mutex::default(),
        schemas: Mutex::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

/// Switches the phase the following requests are counted under.
pub async fn set_phase(proxy: &str, phase: &str) {
    reqwest::Client::new().post(format!("{proxy}/__meter/phase/{phase}")).send().await.unwrap();
}

pub async fn tallies(proxy: &str) -> BTreeMap<String, Tally> {
    reqwest::get(format!("{proxy}/__meter")).await.unwrap().json().await.unwrap()
}

async fn handle(
    axum::extract::State(st): axum::extract::State<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let path = uri.path();
    if let Some(phase) = path.strip_prefix("/__meter/phase/") {
        *st.phase.lock().unwrap() = phase.to_string();
        return (StatusCode::OK, HeaderMap::new(), Bytes::new());
    }
    if path == "/__meter" {
        let t = serde_json::to_vec(&*st.tallies.lock().unwrap()).unwrap();
        return (StatusCode::OK, HeaderMap::new(), Bytes::from(t));
    }
    let op = operation(&method, path, &headers, &body);
    let phase = st.phase.lock().unwrap().clone();
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let dynamo_write = op.starts_with("dynamodb:") && is_write(&op);
    let before = if dynamo_write { st.snapshot(&op, &req, &headers).await } else { Vec::new() };
    let (status, resp_headers, resp) = st.forward(&method, &uri, &headers, body).await;
    let mut units = (0.0, 0.0);
    let mut written_size = None;
    if op.starts_with("dynamodb:") {
        let resp_json: Value = serde_json::from_slice(&resp).unwrap_or(Value::Null);
        units = if dynamo_write {
            let after = st.snapshot(&op, &req, &headers).await;
            written_size = after.iter().map(item_size).max();
            if std::env::var("HERALD_BENCH_DUMP").is_ok_and(|k| k == item_kind(&req)) {
                eprintln!("{phase} {op}: {}", after.first().cloned().unwrap_or_default());
            }
            let failed = !status.is_success();
            (st.write_units(&op, &req, &headers, &before, &after, failed).await, 0.0)
        } else {
            (0.0, read_units(&op, &req, &resp_json))
        };
    }
    let mut tallies = st.tallies.lock().unwrap();
    let t = tallies.entry(phase).or_default();
    *t.detail.entry(format!("{op} {}", item_kind(&req))).or_default() += 1;
    if let Some(size) = written_size {
        let max = t.sizes.entry(item_kind(&req)).or_default();
        *max = (*max).max(size);
    }
    *t.requests.entry(op).or_default() += 1;
    t.wru += units.0;
    t.rru += units.1;
    (status, resp_headers, resp)
}

fn operation(method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(t) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (svc, op) = t.split_once('.').unwrap_or(("?", t));
        let svc = match svc {
            s if s.starts_with("DynamoDB") => "dynamodb",
            "AmazonSQS" => "sqs",
            "secretsmanager" => "secretsmanager",
            s => s,
        };
        return format!("{svc}:{op}");
    }
    let text = String::from_utf8_lossy(body);
    if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return format!("query:{action}");
    }
    if path.starts_with("/v2/email/outbound-emails") {
        return "ses:SendEmail".into();
    }
    format!("rest:{method} {}", path.split('/').take(4).collect::<Vec<_>>().join("/"))
}

/// The kind of item a DynamoDB request is about: its key's prefix (`MSG`, `TEN`, …) and index.
fn item_kind(req: &Value) -> String {
    let prefix = |v: &Value| v.as_str().map(|s| s.split('#').next().unwrap_or(s).to_string());
    let key = prefix(&req["Key"]["pk"]["S"]).or_else(|| prefix(&req["Item"]["pk"]["S"]));
    let key = key.or_else(|| prefix(&req["ExpressionAttributeValues"][":pk"]["S"])).unwrap_or_default();
    match req["IndexName"].as_str() {
        Some(i) => format!("{i}:{key}"),
        None => key,
    }
}

fn is_write(op: &str) -> bool {
    ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"].iter().any(|w| op.ends_with(w))
}

/// (table, key) of every item a write touches, and whether it is transactional.
fn written_keys(op: &str, req: &Value) -> Vec<(String, Value)> {
    let table = |v: &Value| v["TableName"].as_str().unwrap_or_default().to_string();
    let key_of = |item: &Value| json!({"pk": item["pk"], "sk": item["sk"]});
    match op.rsplit(':').next().unwrap_or_default() {
        "PutItem" => vec![(table(req), key_of(&req["Item"]))],
        "UpdateItem" | "DeleteItem" => vec![(table(req), req["Key"].clone())],
        "TransactWriteItems" => req["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ti| {
                let (kind, inner) = ti.as_object()?.iter().next()?;
                let key = if kind == "Put" { key_of(&inner["Item"]) } else { inner["Key"].clone() };
                Some((table(inner), key))
            })
            .collect(),
        "BatchWriteItem" => req["RequestItems"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(t, reqs)| {
                reqs.as_array().into_iter().flatten().filter_map(move |r| {
                    let key = r
                        .pointer("/PutRequest/Item")
                        .map(key_of)
                        .or_else(|| r.pointer("/DeleteRequest/Key").cloned())?;
                    Some((t.clone(), key))
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl State {
    async fn forward(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let url = format!("{}{}", self.moto, uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let mut req = self.http.request(method.clone(), url).body(body);
        for (k, v) in headers {
            if k != "host" && k != "content-length" {
                req = req.header(k, v);
            }
        }
        let resp = req.send().await.expect("emulator reachable");
        let status = resp.status();
        let mut out = HeaderMap::new();
        for (k, v) in resp.headers() {
            if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                out.insert(k, v.clone());
            }
        }
        (status, out, resp.bytes().await.unwrap_or_default())
    }

    async fn raw(&self, target: &str, headers: &HeaderMap, body: Value) -> Value {
        let mut req = self
            .http
            .post(&self.moto)
            .header("x-amz-target", format!("DynamoDB_20120810.{target}"))
            .header("content-type", "application/x-amz-json-1.0");
        if let Some(a) = headers.get("authorization") {
            req = req.header("authorization", a);
        }
        let resp = req.body(body.to_string()).send().await.expect("emulator reachable");
        resp.json().await.unwrap_or(Value::Null)
    }

    /// The items a write touches as they are now (Null when absent).
    async fn snapshot(&self, op: &str, req: &Value, headers: &HeaderMap) -> Vec<Value> {
        let mut items = Vec::new();
        for (table, key) in written_keys(op, req) {
            let got =
                self.raw("GetItem", headers, json!({"TableName": table, "Key": key, "ConsistentRead": true})).await;
            items.push(got["Item"].clone());
        }
        items
    }

    async fn gsis(&self, table: &str, headers: &HeaderMap) -> Vec<Gsi> {
        if let Some(g) = self.schemas.lock().unwrap().get(table) {
            return g.clone();
        }
        let d = self.raw("DescribeTable", headers, json!({"TableName": table})).await;
        let gsis: Vec<Gsi> = d
            .pointer("/Table/GlobalSecondaryIndexes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|g| Gsi {
                keys: g["KeySchema"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k["AttributeName"].as_str())
                    .map(String::from)
                    .collect(),
                projection: match g.pointer("/Projection/ProjectionType").and_then(Value::as_str) {
                    Some("KEYS_ONLY") => Projection::KeysOnly,
                    Some("INCLUDE") => Projection::Include(
                        g.pointer("/Projection/NonKeyAttributes")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect(),
                    ),
                    _ => Projection::All,
                },
            })
            .collect();
        self.schemas.lock().unwrap().insert(table.to_string(), gsis.clone());
        gsis
    }

    async fn write_units(
        &self,
        op: &str,
        req: &Value,
        headers: &HeaderMap,
        before: &[Value],
        after: &[Value],
        failed: bool,
    ) -> f64 {
        let factor = if op.ends_with("TransactWriteItems") { 2.0 } else { 1.0 };
        let mut total = 0.0;
        for (i, (table, _)) in written_keys(op, req).into_iter().enumerate() {
            let (b, a) = (&before[i], &after[i]);
            let size = item_size(b).max(item_size(a));
            total += kb_units(size, 1024);
            if failed {
                continue;
            }
            for g in self.gsis(&table, headers).await {
                total += index_units(&g, b, a);
            }
        }
        total * factor
    }
}

fn kb_units(size: usize, unit: usize) -> f64 {
    size.div_ceil(unit).max(1) as f64
}

fn index_units(g: &Gsi, b: &Value, a: &Value) -> f64 {
    let key = |item: &Value| -> Option<Vec<Value>> {
        let obj = item.as_object()?;
        g.keys.iter().map(|k| obj.get(k).cloned()).collect()
    };
    let projected = |item: &Value| -> Value {
        let Some(obj) = item.as_object() else { return Value::Null };
        let keep = |name: &str| match &g.projection {
            Projection::All => true,
            Projection::KeysOnly => ["pk", "sk"].contains(&name) || g.keys.iter().any(|k| k == name),
            Projection::Include(list) => {
                ["pk", "sk"].contains(&name) || g.keys.iter().any(|k| k == name) || list.iter().any(|k| k == name)
            }
        };
        Value::Object(obj.iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    let units = |item: &Value| kb_units(item_size(&projected(item)), 1024);
    match (key(b), key(a)) {
        (None, None) => 0.0,
        (Some(_), None) => units(b),
        (None, Some(_)) => units(a),
        (Some(kb), Some(ka)) if kb != ka => units(b) + units(a),
        _ if projected(b) != projected(a) => units(b).max(units(a)),
        _ => 0.0,
    }
}

fn read_units(op: &str, req: &Value, resp: &Value) -> f64 {
    let eventual = |consistent: &Value| if consistent.as_bool() == Some(true) { 1.0 } else { 0.5 };
    match op.rsplit(':').next().unwrap_or_default() {
        "GetItem" => kb_units(item_size(&resp["Item"]), 4096) * eventual(&req["ConsistentRead"]),
        "Query" | "Scan" => {
            let total: usize = resp["Items"].as_array().into_iter().flatten().map(item_size).sum();
            kb_units(total, 4096) * eventual(&req["ConsistentRead"])
        }
        "BatchGetItem" => resp["Responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(table, items)| {
                let e = eventual(&req["RequestItems"][table]["ConsistentRead"]);
                items.as_array().into_iter().flatten().map(|i| kb_units(item_size(i), 4096) * e).sum::<f64>()
            })
            .sum(),
        "TransactGetItems" => {
            2.0 * resp["Responses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| kb_units(item_size(&r["Item"]), 4096))
                .sum::<f64>()
        }
        _ => 0.0,
    }
}

/// DynamoDB's item size: attribute names plus values (numbers ≈ 1 byte per 2 digits + 1).
pub fn item_size(item: &Value) -> usize {
    item.as_object().map_or(0, |o| o.iter().map(|(k, v)| k.len() + value_size(v)).sum())
}

fn value_size(v: &Value) -> usize {
    let Some((t, inner)) = v.as_object().and_then(|o| o.iter().next()) else { return 0 };
    match t.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, |n| n.trim_start_matches('-').replace('.', "").len().div_ceil(2) + 1),
        "B" => inner.as_str().map_or(0, |b| b.len() * 3 / 4),
        "BOOL" | "NULL" => 1,
        "SS" | "NS" | "BS" => inner.as_array().map_or(0, |a| a.iter().map(|s| s.as_str().map_or(0, str::len)).sum()),
        "L" => 3 + inner.as_array().map_or(0, |a| a.iter().map(|e| 1 + value_size(e)).sum()),
        "M" => 3 + inner.as_object().map_or(0, |o| o.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum()),
        _ => 0,
    }
}
