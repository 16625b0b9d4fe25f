//! Webhook signatures: Twilio (HMAC-SHA1 over URL + sorted params), Telnyx (Ed25519 over
//! `timestamp|body`), Meta (HMAC-SHA256 over the raw body), and Herald's own callbacks.
//! Every comparison is constant-time.
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    crate::service::constant_time_eq(a, b)
}

/// Twilio: base64(HMAC-SHA1(token, url + for each name sorted: name + each sorted value)).
pub fn twilio_signature(url: &str, params: &[(String, String)], token: &str) -> String {
    let mut sorted: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    sorted.sort();
    sorted.dedup();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("hmac accepts any key");
    mac.update(data.as_bytes());
    b64().encode(mac.finalize().into_bytes())
}

/// The URL with its port removed, and with the scheme's default port added.
fn url_variants(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else { return vec![url.to_string()] };
    let mut without = parsed.clone();
    let _ = without.set_port(None);
    let default = match parsed.scheme() {
        "https" => 443,
        _ => 80,
    };
    // url::Url drops a port equal to the default, so the ":443" form is built by hand.
    let host = parsed.host_str().unwrap_or_default();
    let with_port = format!(
        "{}://{}:{}{}",
        parsed.scheme(),
        host,
        default,
        &without.as_str()[without.origin().ascii_serialization().len()..]
    );
    let mut out = vec![url.to_string(), without.to_string(), with_port];
    out.dedup();
    out
}

/// Validates against any of `tokens` (current and previous during a rotation), and both URL
/// forms (without its port, with the default port).
pub fn twilio_valid(url: &str, params: &[(String, String)], signature: &str, tokens: &[&str]) -> bool {
    let variants = url_variants(url);
    tokens.iter().any(|token| {
        variants.iter().any(|u| ct_eq(twilio_signature(u, params, token).as_bytes(), signature.as_bytes()))
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelnyxSignatureError {
    #[error("missing or malformed signature headers")]
    Malformed,
    #[error("timestamp outside the 300 s tolerance")]
    Stale,
    #[error("signature does not verify")]
    Invalid,
}

pub const TELNYX_TOLERANCE_SECS: i64 = 300;

/// Telnyx: Ed25519 over `"{timestamp}|{raw body}"`, timestamp within 300 s of `now`.
pub fn telnyx_verify(
    public_key_b64: &str,
    timestamp: &str,
    signature_b64: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<(), TelnyxSignatureError> {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TelnyxSignatureError::Malformed);
    }
    let ts: i64 = timestamp.parse().map_err(|_| TelnyxSignatureError::Malformed)?;
    if (now_unix - ts).abs() > TELNYX_TOLERANCE_SECS {
        return Err(TelnyxSignatureError::Stale);
    }
    let key: [u8; 32] =
        b64().decode(public_key_b64).ok().and_then(|k| k.try_into().ok()).ok_or(TelnyxSignatureError::Malformed)?;
    let sig: [u8; 64] =
        b64().decode(signature_b64).ok().and_then(|s| s.try_into().ok()).ok_or(TelnyxSignatureError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| TelnyxSignatureError::Malformed)?;
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'|');
    signed.extend_from_slice(body);
    key.verify(&signed, &Signature::from_bytes(&sig)).map_err(|_| TelnyxSignatureError::Invalid)
}

fn hmac_sha256_hex(secret: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac accepts any key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Meta: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_sha256_hex(app_secret.as_bytes(), body))
}

pub fn meta_valid(app_secret: &str, body: &[u8], header: &str) -> bool {
    ct_eq(meta_signature(app_secret, body).as_bytes(), header.trim().as_bytes())
}

/// Herald's callbacks to tenants: `Herald-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn herald_signature(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={unix},v1={}", hmac_sha256_hex(secret.as_bytes(), &signed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn official() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    /// twilio-python tests/unit/test_request_validator.py, as in providers.md §1.
    #[test]
    fn twilio_official_vectors() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature(url, &official(), "12345"), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(twilio_valid(url, &official(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=", &["12345"]));
        assert!(twilio_valid(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &official(),
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &official(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &official(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            &["12345"]
        ));
        assert!(twilio_valid(
            "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            &official(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            &["12345"]
        ));
        assert!(
            twilio_valid(
                "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
                &official(),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                &["12345"]
            ),
            "any port validates the port-less form"
        );
        let dup = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(twilio_signature(url, &dup, "12345"), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        let body_url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(twilio_signature(body_url, &[], "12345"), "a9nBmqA0ju/hNViExpshrM61xv4=");
    }

    #[test]
    fn twilio_status_callback_vector_and_rotation() {
        let body = "AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B15005550006&MessageSid=SM00000000000000000000000000000001&MessageStatus=undelivered&SmsSid=SM00000000000000000000000000000001&SmsStatus=undelivered&To=%2B15005550001";
        let p: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        assert_eq!(twilio_signature("https://example.com/twilio/status", &p, "12345"), "uJqQ+EZfS9hgNqCtCgH+l8taFOA=");
        assert!(twilio_valid(
            "https://example.com/twilio/status",
            &p,
            "uJqQ+EZfS9hgNqCtCgH+l8taFOA=",
            &["new-token", "12345"]
        ));
        assert!(!twilio_valid("https://example.com/twilio/status", &p, "uJqQ+EZfS9hgNqCtCgH+l8taFOA=", &["new-token"]));
        let mut altered = p.clone();
        altered.push(("Body".into(), "x".into()));
        assert!(!twilio_valid(
            "https://example.com/twilio/status",
            &altered,
            "uJqQ+EZfS9hgNqCtCgH+l8taFOA=",
            &["12345"]
        ));
    }

    const TELNYX_BODY: &str = r#"{"data":{"event_type":"message.finalized","id":"4ee8c3a6-4995-4309-a3c6-38e3db9ea4be","occurred_at":"2023-11-14T22:13:20.000+00:00","payload":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6","to":[{"phone_number":"+18665550001","status":"delivered"}]},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks"}}"#;
    const TELNYX_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    const TELNYX_SIG: &str = "lbHLnwFQsesN6O9mbmI9tBAPtZ2t67AfeNXHuioVpBaPWezNcZW3hjoDzArIUfMQN2or4Naf5fDhK4EDxckmAg==";

    #[test]
    fn telnyx_deterministic_vector() {
        assert_eq!(telnyx_verify(TELNYX_KEY, "1700000000", TELNYX_SIG, TELNYX_BODY.as_bytes(), 1_700_000_100), Ok(()));
        assert_eq!(
            telnyx_verify(TELNYX_KEY, "1700000000", TELNYX_SIG, TELNYX_BODY.as_bytes(), 1_700_000_301),
            Err(TelnyxSignatureError::Stale)
        );
        assert_eq!(
            telnyx_verify(TELNYX_KEY, "1700000000", TELNYX_SIG, TELNYX_BODY.as_bytes(), 1_699_999_699),
            Err(TelnyxSignatureError::Stale),
            "future too"
        );
        let altered = TELNYX_BODY.replace("delivered\"}", "failed\"}");
        assert_eq!(
            telnyx_verify(TELNYX_KEY, "1700000000", TELNYX_SIG, altered.as_bytes(), 1_700_000_000),
            Err(TelnyxSignatureError::Invalid)
        );
        assert_eq!(
            telnyx_verify(TELNYX_KEY, "1700000001", TELNYX_SIG, TELNYX_BODY.as_bytes(), 1_700_000_000),
            Err(TelnyxSignatureError::Invalid)
        );
        assert_eq!(
            telnyx_verify(TELNYX_KEY, "17e8", TELNYX_SIG, TELNYX_BODY.as_bytes(), 1_700_000_000),
            Err(TelnyxSignatureError::Malformed)
        );
    }

    #[test]
    fn meta_vectors() {
        assert_eq!(
            meta_signature("TEST_APP_SECRET", b"test"),
            "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"
        );
        let body = include_bytes!("../fixtures/wa_status_body.json");
        let body = if body.ends_with(b"\n") { &body[..body.len() - 1] } else { &body[..] };
        assert!(meta_valid(
            "TEST_APP_SECRET",
            body,
            "sha256=06fc4d2a4a3967fa84f722f0cfbed524e6e2c9f78175a64b293a672be038c5f2"
        ));
        assert!(!meta_valid(
            "TEST_APP_SECRET",
            b"tesT",
            "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"
        ));
    }

    #[test]
    fn herald_callback_signature_shape() {
        let s = herald_signature("whsec", 1700000000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }
}
