//! The simulator's side of webhooks: it signs exactly as the providers do, with its own
//! implementation (independent of Herald's verifier), and POSTs to Herald.
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// RFC 8032 test-1 seed: the key of providers.md's deterministic Telnyx vector.
const TELNYX_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
pub const TELNYX_PUBLIC_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn twilio_sign(url: &str, params: &[(&str, &str)], token: &str) -> String {
    let mut sorted: Vec<_> = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    b64(&mac.finalize().into_bytes())
}

pub fn telnyx_sign(timestamp: i64, body: &str) -> String {
    let seed: [u8; 32] = hex::decode(TELNYX_SEED).unwrap().try_into().unwrap();
    let key = SigningKey::from_bytes(&seed);
    b64(&key.sign(format!("{timestamp}|{body}").as_bytes()).to_bytes())
}

pub fn meta_sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs a form-encoded Twilio webhook signed with `token` (None: no signature header).
pub async fn twilio(base: &str, path: &str, params: &[(&str, &str)], token: Option<&str>) -> reqwest::Response {
    twilio_via(base, base, path, params, token).await
}

/// As `twilio`, signed over the public URL Twilio was given (`HERALD_PUBLIC_URL`) while
/// posted to `base`.
pub async fn twilio_via(
    public: &str,
    base: &str,
    path: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> reqwest::Response {
    let body = serde_urlencoded::to_string(params).unwrap();
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(t) = token {
        req = req.header("X-Twilio-Signature", twilio_sign(&format!("{public}{path}"), params, t));
    }
    req.send().await.unwrap()
}

/// POSTs a Telnyx webhook signed at `timestamp`; `tamper` alters the body after signing.
pub async fn telnyx(base: &str, body: &Value, timestamp: i64, tamper: bool) -> reqwest::Response {
    let raw = body.to_string();
    let sig = telnyx_sign(timestamp, &raw);
    let sent = if tamper { raw.replace("delivered", "delivery_failed") } else { raw };
    reqwest::Client::new()
        .post(format!("{base}/webhooks/telnyx"))
        .header("content-type", "application/json")
        .header("telnyx-signature-ed25519", sig)
        .header("telnyx-timestamp", timestamp.to_string())
        .body(sent)
        .send()
        .await
        .unwrap()
}

pub async fn whatsapp(base: &str, body: &Value, secret: &str) -> reqwest::Response {
    let raw = body.to_string();
    reqwest::Client::new()
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", meta_sign(secret, &raw))
        .body(raw)
        .send()
        .await
        .unwrap()
}

pub fn telnyx_event(event_type: &str, event_id: &str, payload: Value) -> Value {
    json!({"data": {"event_type": event_type, "id": event_id, "occurred_at": chrono::Utc::now().to_rfc3339(), "payload": payload, "record_type": "event"}, "meta": {"attempt": 1, "delivered_to": "https://herald.example/webhooks/telnyx"}})
}

pub fn whatsapp_envelope(phone_number_id: &str, value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": "15550783881", "phone_number_id": phone_number_id});
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]})
}

/// A Twilio message status callback's form, as Twilio posts it from `+14155550001`.
pub fn twilio_status<'a>(sid: &'a str, status: &'a str, to: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", super::TWILIO_SID),
        ("ApiVersion", "2010-04-01"),
        ("From", "+14155550001"),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", to),
    ]
}
