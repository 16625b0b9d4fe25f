//! SES v2 email identities: `CreateEmailIdentity` (Easy DKIM) and `GetEmailIdentity`.
use async_trait::async_trait;
use aws_sdk_sesv2::types::DkimStatus;
use aws_sdk_sesv2::Client;
use herald_core::identity::{DkimRecord, EmailIdentity, IdentityState, IdentityStatus};
use herald_core::lazy::OnFirstUse;
use herald_core::ports::{EmailIdentities, IdentityCallError};

#[derive(Clone)]
pub struct SesIdentities {
    client: OnFirstUse<Client>,
}

impl SesIdentities {
    pub fn new(client: Client) -> Self {
        Self { client: OnFirstUse::ready(client) }
    }

    /// The client is built with the first identity call (only the API makes them).
    pub fn on_first_use(sdk: &aws_config::SdkConfig) -> Self {
        let sdk = sdk.clone();
        Self { client: OnFirstUse::new(move || Client::new(&sdk)) }
    }
}

/// Easy DKIM: one CNAME per token, `{token}._domainkey.{domain}` → `{token}.dkim.amazonses.com`.
fn records(identity: &EmailIdentity, tokens: &[String]) -> Vec<DkimRecord> {
    let domain = identity.domain();
    tokens
        .iter()
        .map(|t| DkimRecord {
            name: format!("{t}._domainkey.{domain}"),
            kind: "CNAME".into(),
            value: format!("{t}.dkim.amazonses.com"),
        })
        .collect()
}

fn status(verified: bool, dkim: Option<&DkimStatus>) -> IdentityStatus {
    match (verified, dkim) {
        (true, _) => IdentityStatus::Verified,
        (false, Some(DkimStatus::Failed | DkimStatus::TemporaryFailure)) => IdentityStatus::Failed,
        _ => IdentityStatus::Pending,
    }
}

fn call_error<E: std::fmt::Debug>(what: &str, e: E) -> IdentityCallError {
    tracing::warn!(error = ?e, "ses {what} failed");
    IdentityCallError(format!("SES {what} failed"))
}

#[async_trait]
impl EmailIdentities for SesIdentities {
    async fn create_identity(&self, identity: &EmailIdentity) -> Result<IdentityState, IdentityCallError> {
        match self.client.create_email_identity().email_identity(identity.as_str()).send().await {
            Ok(out) => {
                let dkim = out.dkim_attributes();
                let tokens = dkim.map(|d| d.tokens().to_vec()).unwrap_or_default();
                let st = status(out.verified_for_sending_status(), dkim.and_then(|d| d.status()));
                Ok(IdentityState { status: st, dkim_records: records(identity, &tokens) })
            }
            // The identity exists in the account already (it was released and claimed again).
            Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {
                self.identity_state(identity).await
            }
            Err(e) => Err(call_error("CreateEmailIdentity", e)),
        }
    }

    async fn identity_state(&self, identity: &EmailIdentity) -> Result<IdentityState, IdentityCallError> {
        let out = self
            .client
            .get_email_identity()
            .email_identity(identity.as_str())
            .send()
            .await
            .map_err(|e| call_error("GetEmailIdentity", e))?;
        let dkim = out.dkim_attributes();
        let tokens = dkim.map(|d| d.tokens().to_vec()).unwrap_or_default();
        let st = status(out.verified_for_sending_status(), dkim.and_then(|d| d.status()));
        Ok(IdentityState { status: st, dkim_records: records(identity, &tokens) })
    }
}
