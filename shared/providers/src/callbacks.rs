//! Herald's own callbacks to tenants, signed
//! `Herald-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, sent only to
//! public https endpoints: no redirects, and every address a name resolves to (at
//! configuration and again at connection) must be public, so a tenant cannot aim Herald at
//! its own network or the cloud metadata service.
use crate::common::hmac_sha256_hex;
use async_trait::async_trait;
use herald_core::ports::{CallbackSender, CallbackTargets, DeliveryError, TargetRefused};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub fn herald_signature(secret: &str, unix: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={unix},v1={}", hmac_sha256_hex(secret.as_bytes(), &signed))
}

/// Loopback, private, link-local (the metadata service among them), CGNAT, unspecified,
/// multicast and documentation ranges, in IPv4 and IPv6 (IPv4-mapped included).
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_ip(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Resolves like the system, then drops every forbidden address (none left: an error).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| !forbidden_ip(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Posts callbacks with a client of their own: short timeouts, no redirects, public addresses.
#[derive(Clone)]
pub struct HttpCallbacks {
    http: reqwest::Client,
    /// Local only (`HERALD_ALLOW_HTTP_CALLBACKS`): plain http and private addresses allowed.
    allow_private: bool,
}

impl HttpCallbacks {
    pub fn new(allow_private: bool) -> Self {
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("herald-callbacks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Self { http: builder.build().expect("callback client"), allow_private }
    }

    /// The URL's scheme and, for an address literal, the address itself.
    fn check_url(&self, raw: &str) -> Result<url::Url, TargetRefused> {
        let url = url::Url::parse(raw).map_err(|_| TargetRefused("callback_url is not a URL".into()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => return Err(TargetRefused("callback_url must be https".into())),
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(TargetRefused("callback_url has no host".into())),
        };
        if !self.allow_private && literal.is_some_and(forbidden_ip) {
            return Err(TargetRefused("callback_url points at a private or reserved address".into()));
        }
        Ok(url)
    }
}

#[async_trait]
impl CallbackTargets for HttpCallbacks {
    async fn check(&self, raw: &str) -> Result<(), TargetRefused> {
        let url = self.check_url(raw)?;
        let Some(url::Host::Domain(host)) = url.host() else { return Ok(()) };
        if self.allow_private {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| TargetRefused(format!("callback_url host {host} does not resolve")))?
            .collect();
        if addrs.is_empty() || addrs.iter().any(|a| forbidden_ip(a.ip())) {
            return Err(TargetRefused("callback_url resolves to a private or reserved address".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl CallbackSender for HttpCallbacks {
    async fn post(&self, url: &str, body: &[u8], secret: &str, unix: i64) -> Result<u16, DeliveryError> {
        // Checked again at send time: a name may resolve elsewhere now (the resolver above
        // refuses private addresses at connection), and an address literal never resolves.
        let url = self.check_url(url).map_err(|_| DeliveryError::Refused)?;
        let res = self
            .http
            .post(url)
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
    use super::*;

    #[test]
    fn herald_callback_signature_shape() {
        let s = herald_signature("whsec", 1700000000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }

    #[test]
    fn private_and_metadata_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"] {
            assert!(!forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn callback_urls_must_be_public_https() {
        let strict = HttpCallbacks::new(false);
        assert!(strict.check("http://example.com/hook").await.is_err(), "plain http");
        assert!(strict.check("https://127.0.0.1/hook").await.is_err(), "loopback literal");
        assert!(strict.check("https://[::1]/hook").await.is_err());
        assert!(strict.check("https://169.254.169.254/latest/meta-data").await.is_err(), "metadata");
        assert!(strict.check("https://localhost/hook").await.is_err(), "a name resolving to loopback");
        assert!(strict.check("https://93.184.216.34/hook").await.is_ok(), "a public address literal");
        let local = HttpCallbacks::new(true);
        assert!(local.check("http://127.0.0.1:9/hook").await.is_ok(), "the local switch");
        assert!(local.check("ftp://example.com").await.is_err());
    }
}
