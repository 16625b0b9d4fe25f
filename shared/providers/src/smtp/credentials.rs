//! A tenant's SMTP relay: host, port and login. The relay names the account (its breaker):
//! host, port and user.
use crate::common::{credentials, parse_credentials, require};
use herald_core::ports::CredentialProblem;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpCredentials {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
}

pub fn of(secrets: &ChannelSecrets) -> Result<SmtpCredentials, ProviderFailure> {
    credentials(Provider::Smtp, secrets)
}

/// The breaker's account: one tenant's login at a relay, never the relay host alone (one
/// tenant's misconfiguration must not open the circuit for every tenant on that relay).
pub fn account(secrets: &ChannelSecrets) -> Option<String> {
    of(secrets).ok().map(|s| format!("{}:{}:{}", s.host.to_ascii_lowercase(), s.port, s.username))
}

pub fn check(raw: &serde_json::Value) -> Result<(), CredentialProblem> {
    let c: SmtpCredentials = parse_credentials(raw, "a host, a port, a username and a password")?;
    let ok = !c.host.trim().is_empty() && !c.username.is_empty() && !c.password.is_empty();
    require(ok, "", "a host, a username and a password")?;
    // AWS blocks outbound port 25 from Lambda, and nothing can lift that.
    let port_ok = c.port != 25 && c.port != 0;
    require(port_ok, "port", "port 587 (STARTTLS) or 465 (TLS); port 25 is blocked from AWS Lambda")
}
