//! A tenant's Twilio credentials: the account SID names the account (and its breaker), the
//! auth token signs and authenticates; a previous token keeps verifying during a rotation.
use crate::common::{credentials, parse_credentials, require};
use herald_core::ports::CredentialProblem;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_auth_token: Option<String>,
}

pub fn of(secrets: &ChannelSecrets) -> Result<TwilioCredentials, ProviderFailure> {
    credentials(Provider::Twilio, secrets)
}

fn is_hex(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_auth_token(s: &str) -> bool {
    s.len() == 32 && is_hex(s)
}

pub fn check(raw: &serde_json::Value) -> Result<(), CredentialProblem> {
    let c: TwilioCredentials = parse_credentials(raw, "an account_sid and an auth_token")?;
    let sid_ok = c.account_sid.len() == 34 && c.account_sid.starts_with("AC") && is_hex(&c.account_sid[2..]);
    require(sid_ok, "account_sid", "an account SID: AC and 32 hex characters")?;
    let token = "an auth token: 32 hex characters";
    require(is_auth_token(&c.auth_token), "auth_token", token)?;
    require(c.previous_auth_token.as_deref().is_none_or(is_auth_token), "previous_auth_token", token)
}
