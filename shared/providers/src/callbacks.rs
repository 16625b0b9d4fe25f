//! Herald's own callbacks to tenants, signed
//! `Herald-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
use crate::common::hmac_sha256_hex;
use crate::HttpProviders;
use async_trait::async_trait;
use herald_core::ports::{CallbackSender, DeliveryError};
use std::time::Duration;

pub fn herald_signature(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={unix},v1={}", hmac_sha256_hex(secret.as_bytes(), &signed))
}

/// Posts callbacks with the shared HTTP client, each with a short timeout of its own.
#[derive(Clone)]
pub struct HttpCallbacks(pub HttpProviders);

#[async_trait]
impl CallbackSender for HttpCallbacks {
    async fn post(&self, url: &str, body: &[u8], secret: &str, unix: i64) -> Result<u16, DeliveryError> {
        let res = self
            .0
            .http()
            .post(url)
            .timeout(Duration::from_secs(5))
            .header("content-type", "application/json")
            .header("herald-signature", herald_signature(secret, unix, body))
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| if e.is_timeout() { DeliveryError::Timeout } else { DeliveryError::Transport })?;
        Ok(res.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn herald_callback_signature_shape() {
        let s = super::herald_signature("whsec", 1700000000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }
}
