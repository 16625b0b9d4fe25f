//! `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=`: whether a number
//! is in the account the tenant's credentials open, and its `PN…` sid.
use super::errors::ROWS;
use crate::common::{answer, failure};
use crate::HttpProviders;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};
use serde::Deserialize;

#[derive(Deserialize)]
struct Listed {
    sid: String,
    phone_number: String,
}

#[derive(Deserialize)]
struct Page {
    incoming_phone_numbers: Vec<Listed>,
}

pub async fn in_account(p: &HttpProviders, secrets: &ChannelSecrets, number: &str) -> Result<bool, ProviderFailure> {
    Ok(number_sid(p, secrets, number).await?.is_some())
}

/// The number's IncomingPhoneNumber sid in the tenant's account, if it is there.
pub async fn number_sid(
    p: &HttpProviders,
    secrets: &ChannelSecrets,
    number: &str,
) -> Result<Option<String>, ProviderFailure> {
    let creds = super::credentials::of(secrets)?;
    let base = p.endpoints().base(herald_core::Provider::Twilio, super::API_BASE);
    let url = format!("{base}/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json", creds.account_sid);
    let sent = p
        .http()
        .get(url)
        .basic_auth(&creds.account_sid, Some(&creds.auth_token))
        .query(&[("PhoneNumber", number)])
        .send()
        .await;
    let a = answer(Provider::Twilio, sent).await?;
    if !a.status.is_success() {
        let message = format!("incoming phone numbers: HTTP {}", a.status);
        return Err(failure(Provider::Twilio, ROWS, Some(a.status.as_u16()), None, message, a.retry_after));
    }
    let page: Page =
        serde_json::from_str(&a.text).map_err(|_| crate::common::unreadable(Provider::Twilio, a.status))?;
    Ok(page.incoming_phone_numbers.into_iter().find(|n| n.phone_number == number).map(|n| n.sid))
}
