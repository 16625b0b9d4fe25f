//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, compared in
//! constant time.
use crate::common::{ct_eq, hmac_sha256_hex};

pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_sha256_hex(app_secret.as_bytes(), body))
}

pub fn meta_valid(app_secret: &str, body: &[u8], header: &str) -> bool {
    ct_eq(meta_signature(app_secret, body).as_bytes(), header.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_vectors() {
        assert_eq!(
            meta_signature("TEST_APP_SECRET", b"test"),
            "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221"
        );
        let body = include_bytes!("../../fixtures/wa_status_body.json");
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
}
