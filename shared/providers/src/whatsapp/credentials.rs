//! A tenant's WhatsApp Cloud API credentials: the access token sends, the app secret
//! verifies webhooks, the verify token answers Meta's subscription handshake.
use crate::common::{credentials, parse_credentials, require};
use herald_core::ports::CredentialProblem;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappCredentials {
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

pub fn of(secrets: &ChannelSecrets) -> Result<WhatsappCredentials, ProviderFailure> {
    credentials(Provider::Whatsapp, secrets)
}

pub fn check(raw: &serde_json::Value) -> Result<(), CredentialProblem> {
    let c: WhatsappCredentials = parse_credentials(raw, "an access_token, an app_secret and a verify_token")?;
    let ok = [&c.access_token, &c.app_secret, &c.verify_token].iter().all(|v| !v.is_empty());
    require(ok, "", "an access_token, an app_secret and a verify_token")
}
