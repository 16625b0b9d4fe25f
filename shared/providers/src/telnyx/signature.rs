//! `telnyx-signature-ed25519`: Ed25519 over `"{telnyx-timestamp}|{raw body}"` with the
//! tenant's webhook public key, the timestamp within 300 s of Herald's clock.
use base64::Engine;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
