//! One TLS configuration for every HTTPS client Herald builds with reqwest: Mozilla's root
//! certificates compiled in (webpki-roots, already parsed), built once per process. A cold
//! start reads no certificate files and parses no certificates.
use std::sync::{Arc, OnceLock};

pub fn client_config() -> rustls::ClientConfig {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let shared = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3 are supported")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    });
    (**shared).clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compiled_in_roots_are_there() {
        assert!(super::client_config().alpn_protocols.is_empty());
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }
}
