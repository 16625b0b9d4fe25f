//! SES v2 email identities: `CreateEmailIdentity` (Easy DKIM), `GetEmailIdentity` and
//! `DeleteEmailIdentity`.
use async_trait::async_trait;
use aws_sdk_sesv2::types::DkimStatus;
use aws_sdk_sesv2::Client;
use herald_core::identity::{DkimRecord, EmailIdentity, IdentityState, IdentityStatus};
use herald_core::lazy::OnFirstUse;
use herald_core::ports::{Created, EmailIdentities, IdentityCallError};

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

fn state_of(
    identity: &EmailIdentity,
    verified: bool,
    dkim: Option<&aws_sdk_sesv2::types::DkimAttributes>,
) -> IdentityState {
    let tokens = dkim.map(|d| d.tokens().to_vec()).unwrap_or_default();
    let st = status(verified, dkim.and_then(|d| d.status()));
    IdentityState { status: st, dkim_records: records(identity, &tokens) }
}

#[async_trait]
impl EmailIdentities for SesIdentities {
    async fn create_identity(&self, identity: &EmailIdentity) -> Result<Created, IdentityCallError> {
        // Asked first as well as read from the answer: an emulator may overwrite silently.
        if self.identity_state(identity).await?.is_some() {
            return Ok(Created::ExistedAlready);
        }
        match self.client.create_email_identity().email_identity(identity.as_str()).send().await {
            Ok(out) => Ok(Created::New(state_of(identity, out.verified_for_sending_status(), out.dkim_attributes()))),
            // It exists in the account already: not this claim's, so never adopted here.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {
                Ok(Created::ExistedAlready)
            }
            Err(e) => Err(call_error("CreateEmailIdentity", e)),
        }
    }

    async fn identity_state(&self, identity: &EmailIdentity) -> Result<Option<IdentityState>, IdentityCallError> {
        match self.client.get_email_identity().email_identity(identity.as_str()).send().await {
            Ok(out) => Ok(Some(state_of(identity, out.verified_for_sending_status(), out.dkim_attributes()))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(None),
            Err(e) => Err(call_error("GetEmailIdentity", e)),
        }
    }

    async fn delete_identity(&self, identity: &EmailIdentity) -> Result<(), IdentityCallError> {
        match self.client.delete_email_identity().email_identity(identity.as_str()).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(()),
            Err(e) => Err(call_error("DeleteEmailIdentity", e)),
        }
    }
}
