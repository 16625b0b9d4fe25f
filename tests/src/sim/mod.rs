//! Provider simulator: speaks Twilio, Telnyx and the WhatsApp Cloud API on the wire (their
//! request shapes, auth schemes, success and error bodies), records what it received, and
//! injects faults. Runs in-process for tests, or as the `herald-sim` binary.
pub mod numbers;
mod purchases;
pub mod ses;
mod telnyx;
mod twilio;
mod twilio_voice;
pub mod webhooks;
mod whatsapp;

use axum::extract::{Json, State};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimProvider {
    Twilio,
    Telnyx,
    /// Telnyx's number APIs (search, linking, orders), kept apart from message sends.
    TelnyxNumbers,
    /// Twilio's IncomingPhoneNumbers API, kept apart from message sends.
    TwilioNumbers,
    /// Twilio Voice's REST side: number webhook updates, recordings.
    TwilioVoice,
    Whatsapp,
    /// The Graph API's phone number object (access checks), kept apart from message sends.
    WhatsappNumbers,
}

/// A fault to inject instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this HTTP status and, where given, the provider's own error code,
    /// in the provider's real error body.
    Status { status: u16, code: Option<String>, retry_after: Option<u64> },
    /// Hold the request longer than any sane client timeout.
    Timeout,
    /// Take the message (it is sent), but answer only after this long: past the client's
    /// timeout, the client cannot know the message went out.
    SlowAccept { delay_ms: u64 },
}

impl Fault {
    pub fn status(status: u16) -> Self {
        Fault::Status { status, code: None, retry_after: None }
    }
    pub fn code(status: u16, code: &str) -> Self {
        Fault::Status { status, code: Some(code.into()), retry_after: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub provider: SimProvider,
    pub path: String,
    /// `basic:<user>:<password>` or `bearer:<token>`.
    pub auth: Option<String>,
    pub form: BTreeMap<String, String>,
    pub json: Value,
    /// What the simulator answered with.
    pub status: u16,
    /// The provider's id for the message, when it accepted one.
    pub provider_message_id: Option<String>,
    /// When it arrived (set on recording).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Default)]
pub struct SimState {
    pub recorded: Vec<Recorded>,
    faults: HashMap<SimProvider, VecDeque<Fault>>,
    always: HashMap<SimProvider, Fault>,
    pub twilio_accounts: HashMap<String, String>,
    pub telnyx_keys: HashSet<String>,
    pub whatsapp_tokens: HashSet<String>,
    /// Telnyx numbers by E.164.
    pub numbers: HashMap<String, numbers::SimNumber>,
    /// Twilio numbers given to one account (E.164 → account SID); others are in every account.
    pub twilio_numbers: HashMap<String, String>,
    /// WhatsApp phone_number_ids reachable with one token only.
    pub whatsapp_numbers: HashMap<String, String>,
    /// Telnyx numbers in some other account: the search never finds them.
    pub telnyx_foreign: HashSet<String>,
    /// Twilio accounts that answer every send with this fault (one account's outage).
    pub twilio_account_faults: HashMap<String, Fault>,
    /// Where the simulated WhatsApp posts status webhooks, and the app secret it signs with.
    pub whatsapp_webhook: Option<(String, String)>,
    /// Provider message ids to hand out next, instead of random ones.
    pub next_ids: HashMap<SimProvider, VecDeque<String>>,
    /// IncomingPhoneNumber sid → the webhook URLs set on it.
    pub twilio_number_urls: HashMap<String, BTreeMap<String, String>>,
    /// Numbers for sale: in no account until bought (every other number is in the shared pool).
    pub twilio_for_sale: std::collections::HashSet<String>,
    /// Recording sid → (account sid, audio) until deleted.
    pub twilio_recordings: HashMap<String, (String, Vec<u8>)>,
}

#[derive(Clone)]
pub struct Simulator {
    pub state: Arc<Mutex<SimState>>,
    pub addr: SocketAddr,
}

pub const TWILIO_SID: &str = "AC00000000000000000000000000000001";
pub const TWILIO_TOKEN: &str = "5f2b0c1a9e8d7c6b5a4f3e2d1c0b9a81";
pub const TELNYX_KEY: &str = "KEYsimtelnyx";
pub const WHATSAPP_TOKEN: &str = "EAAGsimwhatsapp";

impl Simulator {
    pub async fn start(listen: &str) -> std::io::Result<Simulator> {
        let mut st = SimState::default();
        st.twilio_accounts.insert(TWILIO_SID.into(), TWILIO_TOKEN.into());
        st.telnyx_keys.insert(TELNYX_KEY.into());
        st.whatsapp_tokens.insert(WHATSAPP_TOKEN.into());
        let state = Arc::new(Mutex::new(st));
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let sim = Simulator { state, addr };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio::create_message).get(twilio::list_messages))
            .route("/v2/messages", post(telnyx::send_message))
            .route("/v2/phone_numbers", get(numbers::list))
            .route("/v2/phone_numbers/{id}/messaging", axum::routing::patch(numbers::link_direct))
            .route("/v2/messaging_phone_numbers/{id}", axum::routing::patch(numbers::link_profile))
            .route("/v2/number_orders", post(numbers::order))
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
                get(twilio::incoming_numbers).post(purchases::twilio_buy),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{country}/Local.json",
                get(purchases::twilio_available),
            )
            .route("/v2/available_phone_numbers", get(purchases::telnyx_available))
            .route("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{file}", post(twilio_voice::update_number))
            .route(
                "/2010-04-01/Accounts/{sid}/Recordings/{file}",
                get(twilio_voice::get_recording).delete(twilio_voice::delete_recording),
            )
            .route("/{version}/{phone_number_id}/messages", post(whatsapp::send_message))
            .route("/{version}/{phone_number_id}", get(whatsapp::phone_number))
            .route("/_sim/requests", get(control_requests))
            .route("/_sim/fail", post(control_fail))
            .route("/_sim/reset", post(control_reset))
            .with_state(sim.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(sim)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` calls to `provider` answer with `fault`.
    pub fn fail_next(&self, provider: SimProvider, n: usize, fault: Fault) {
        let mut st = self.state.lock().unwrap();
        let q = st.faults.entry(provider).or_default();
        for _ in 0..n {
            q.push_back(fault.clone());
        }
    }

    /// Every call to `provider` answers with `fault` until `heal`.
    pub fn fail_always(&self, provider: SimProvider, fault: Fault) {
        self.state.lock().unwrap().always.insert(provider, fault);
    }

    pub fn heal(&self, provider: SimProvider) {
        let mut st = self.state.lock().unwrap();
        st.always.remove(&provider);
        st.faults.remove(&provider);
    }

    pub fn requests(&self, provider: SimProvider) -> Vec<Recorded> {
        self.state.lock().unwrap().recorded.iter().filter(|r| r.provider == provider).cloned().collect()
    }

    /// Calls whose recipient is `to` (Twilio `To`, Telnyx/WhatsApp `to`, digits compared).
    pub fn requests_to(&self, provider: SimProvider, to: &str) -> Vec<Recorded> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let want = digits(to);
        self.requests(provider)
            .into_iter()
            .filter(|r| {
                let got = r
                    .form
                    .get("To")
                    .cloned()
                    .or_else(|| r.json.get("to").and_then(|v| v.as_str()).map(str::to_string))
                    .unwrap_or_default();
                digits(&got) == want
            })
            .collect()
    }

    /// Calls sent from `from` (Twilio `From`, Telnyx `from`), in arrival order.
    pub fn requests_from(&self, provider: SimProvider, from: &str) -> Vec<Recorded> {
        self.requests(provider)
            .into_iter()
            .filter(|r| {
                r.form.get("From").map(String::as_str).or_else(|| r.json.get("from").and_then(|v| v.as_str()))
                    == Some(from)
            })
            .collect()
    }

    /// Makes the simulator's Twilio hold a message it "received" (e.g. before Herald crashed).
    pub fn seed_twilio_message(&self, to: &str, from: &str, body: &str, sid: &str) {
        self.seed_twilio_message_at(to, from, body, sid, chrono::Utc::now());
    }

    /// The same, created at `at` (an older message with the same text, say).
    pub fn seed_twilio_message_at(
        &self,
        to: &str,
        from: &str,
        body: &str,
        sid: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let form: BTreeMap<String, String> = [("To", to), ("From", from), ("Body", body)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.record(Recorded {
            provider: SimProvider::Twilio,
            path: "seeded".into(),
            auth: None,
            form,
            json: Value::Null,
            status: 201,
            provider_message_id: Some(sid.into()),
            at: Some(at),
        });
    }

    /// Messages the provider accepted (POSTs answered 2xx and seeded ones).
    pub fn accepted(&self, provider: SimProvider) -> Vec<Recorded> {
        self.requests(provider).into_iter().filter(|r| (200..300).contains(&r.status)).collect()
    }

    /// Defines how Telnyx treats a number (indexing lag, failing linking methods).
    pub fn telnyx_number(&self, number: numbers::SimNumber) {
        self.state.lock().unwrap().numbers.insert(number.phone_number.clone(), number);
    }

    pub fn telnyx_number_state(&self, e164: &str) -> Option<numbers::SimNumber> {
        self.state.lock().unwrap().numbers.get(e164).cloned()
    }

    /// Lets both linking methods succeed from now on.
    pub fn fix_telnyx_number(&self, e164: &str) {
        if let Some(n) = self.state.lock().unwrap().numbers.get_mut(e164) {
            n.method1_fails = None;
            n.method2_fails = None;
        }
    }

    /// Puts a Twilio number in one account only (another tenant's number, say).
    /// A voicemail recording Twilio holds for the account (until Herald deletes it).
    pub fn twilio_recording(&self, sid: &str, recording_sid: &str, audio: &[u8]) {
        self.state.lock().unwrap().twilio_recordings.insert(recording_sid.into(), (sid.into(), audio.to_vec()));
    }

    pub fn twilio_recording_exists(&self, recording_sid: &str) -> bool {
        self.state.lock().unwrap().twilio_recordings.contains_key(recording_sid)
    }

    /// The webhook URLs set on a number (`VoiceUrl`, `SmsUrl`, `StatusCallback`, …).
    pub fn twilio_number_urls(&self, e164: &str) -> BTreeMap<String, String> {
        let pn = twilio_voice::pn_sid(e164);
        self.state.lock().unwrap().twilio_number_urls.get(&pn).cloned().unwrap_or_default()
    }

    /// `e164` is for sale: in no Twilio account until someone buys it.
    pub fn twilio_for_sale(&self, e164: &str) {
        self.state.lock().unwrap().twilio_for_sale.insert(e164.into());
    }

    pub fn twilio_number_in(&self, sid: &str, token: &str, e164: &str) {
        let mut st = self.state.lock().unwrap();
        st.twilio_accounts.insert(sid.into(), token.into());
        st.twilio_numbers.insert(e164.into(), sid.into());
    }

    /// Every send through this Twilio account answers with `fault` (other accounts are fine).
    pub fn fail_twilio_account(&self, sid: &str, fault: Fault) {
        self.state.lock().unwrap().twilio_account_faults.insert(sid.into(), fault);
    }

    /// Makes a WhatsApp phone_number_id reachable with `token` only.
    pub fn whatsapp_number_for(&self, token: &str, phone_number_id: &str) {
        let mut st = self.state.lock().unwrap();
        st.whatsapp_tokens.insert(token.into());
        st.whatsapp_numbers.insert(phone_number_id.into(), token.into());
    }

    /// Makes the simulated WhatsApp post a signed `sent` status webhook for every message it
    /// takes, as Meta does, echoing `biz_opaque_callback_data`.
    pub fn whatsapp_webhooks_to(&self, herald_url: &str, app_secret: &str) {
        self.state.lock().unwrap().whatsapp_webhook = Some((herald_url.into(), app_secret.into()));
    }

    /// What a provider does once it took a message: WhatsApp reports it sent.
    pub(crate) fn after_accept(&self, provider: SimProvider, id: &str, request: &Value) {
        let target = self.state.lock().unwrap().whatsapp_webhook.clone();
        let (SimProvider::Whatsapp, Some((url, secret))) = (provider, target) else { return };
        let mut status = json!({"id": id, "status": "sent", "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": request["to"]});
        if let Some(opaque) = request.get("biz_opaque_callback_data") {
            status["biz_opaque_callback_data"] = opaque.clone();
        }
        let pnid = request["phone_number_id"].as_str().unwrap_or_default();
        let body = webhooks::whatsapp_envelope(pnid, json!({"statuses": [status]}));
        tokio::spawn(async move {
            let _ = webhooks::whatsapp(&url, &body, &secret).await;
        });
    }

    /// A Telnyx number in some other account: the search never finds it.
    pub fn telnyx_foreign_number(&self, e164: &str) {
        self.state.lock().unwrap().telnyx_foreign.insert(e164.into());
    }

    /// The next message the provider accepts gets this id.
    pub fn next_message_id(&self, provider: SimProvider, id: &str) {
        self.state.lock().unwrap().next_ids.entry(provider).or_default().push_back(id.to_string());
    }

    pub(crate) fn take_id(&self, provider: SimProvider, make: impl FnOnce() -> String) -> String {
        self.state.lock().unwrap().next_ids.get_mut(&provider).and_then(|q| q.pop_front()).unwrap_or_else(make)
    }

    pub(crate) fn take_fault(&self, provider: SimProvider) -> Option<Fault> {
        let mut st = self.state.lock().unwrap();
        if let Some(f) = st.faults.get_mut(&provider).and_then(|q| q.pop_front()) {
            return Some(f);
        }
        st.always.get(&provider).cloned()
    }

    pub(crate) fn record(&self, mut r: Recorded) {
        r.at.get_or_insert_with(chrono::Utc::now);
        self.state.lock().unwrap().recorded.push(r);
    }
}

/// A form body's fields (none when it does not read as a form).
pub(crate) fn form_of(body: &str) -> BTreeMap<String, String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(body).unwrap_or_default().into_iter().collect()
}

/// The request body as JSON, or its form fields as a JSON object.
pub(crate) fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| json!(form_of(body)))
}

pub(crate) async fn timeout_fault() {
    tokio::time::sleep(Duration::from_secs(120)).await;
}

pub(crate) fn auth_header(headers: &axum::http::HeaderMap) -> Option<String> {
    use base64::Engine;
    let v = headers.get("authorization")?.to_str().ok()?;
    if let Some(b) = v.strip_prefix("Basic ") {
        let raw = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
        Some(format!("basic:{}", String::from_utf8(raw).ok()?))
    } else {
        v.strip_prefix("Bearer ").map(|t| format!("bearer:{t}"))
    }
}

async fn control_requests(State(sim): State<Simulator>) -> Json<Value> {
    Json(json!(sim.state.lock().unwrap().recorded))
}

#[derive(Deserialize)]
struct FailRequest {
    provider: SimProvider,
    count: Option<usize>,
    fault: Fault,
}

async fn control_fail(State(sim): State<Simulator>, Json(req): Json<FailRequest>) -> Json<Value> {
    match req.count {
        Some(n) => sim.fail_next(req.provider, n, req.fault),
        None => sim.fail_always(req.provider, req.fault),
    }
    Json(json!({"ok": true}))
}

async fn control_reset(State(sim): State<Simulator>) -> Json<Value> {
    let mut st = sim.state.lock().unwrap();
    st.recorded.clear();
    st.faults.clear();
    st.always.clear();
    Json(json!({"ok": true}))
}
