//! A tenant's Telnyx credentials: the API key (whose digest names the account: the key itself
//! is a secret), the default messaging profile, and the key that verifies its webhooks.
use crate::common::{credentials, parse_credentials, require};
use herald_core::ports::{CredentialProblem, TelnyxAccess};
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelnyxCredentials {
    pub api_key: String,
    #[serde(default)]
    pub messaging_profile_id: Option<String>,
    #[serde(default)]
    pub webhook_public_key: Option<String>,
}

pub fn of(secrets: &ChannelSecrets) -> Result<TelnyxCredentials, ProviderFailure> {
    credentials(Provider::Telnyx, secrets)
}

pub fn access(secrets: &ChannelSecrets) -> Option<TelnyxAccess> {
    let c = of(secrets).ok()?;
    Some(TelnyxAccess { api_key: c.api_key, messaging_profile_id: c.messaging_profile_id })
}

/// The account a key opens, named by the key's digest.
pub fn account(secrets: &ChannelSecrets) -> Option<String> {
    use sha2::{Digest, Sha256};
    of(secrets).ok().map(|c| hex::encode(&Sha256::digest(c.api_key.as_bytes())[..8]))
}

pub fn check(raw: &serde_json::Value) -> Result<(), CredentialProblem> {
    let c: TelnyxCredentials = parse_credentials(raw, "an api_key")?;
    require(!c.api_key.trim().is_empty(), "api_key", "an API key")?;
    use base64::Engine;
    let key_ok = c
        .webhook_public_key
        .as_ref()
        .is_none_or(|k| base64::engine::general_purpose::STANDARD.decode(k).is_ok_and(|b| b.len() == 32));
    require(key_ok, "webhook_public_key", "a base64 Ed25519 public key (32 bytes)")
}
