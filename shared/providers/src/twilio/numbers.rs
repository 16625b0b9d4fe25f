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

/// A request to `rest` under the account's API (`…/Accounts/{sid}/`), with its Basic auth.
fn account_request(
    p: &HttpProviders,
    secrets: &ChannelSecrets,
    method: reqwest::Method,
    rest: &str,
) -> Result<reqwest::RequestBuilder, ProviderFailure> {
    let creds = super::credentials::of(secrets)?;
    let req = p.http().request(method, p.account_url(&creds, rest));
    Ok(req.basic_auth(&creds.account_sid, Some(&creds.auth_token)))
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
    let req = account_request(p, secrets, reqwest::Method::GET, "IncomingPhoneNumbers.json")?;
    let sent = req.query(&[("PhoneNumber", number)]).send().await;
    let a = answer(Provider::Twilio, sent).await?;
    if !a.status.is_success() {
        let message = format!("incoming phone numbers: HTTP {}", a.status);
        return Err(failure(Provider::Twilio, ROWS, Some(a.status.as_u16()), None, message, a.retry_after));
    }
    let page: Page =
        serde_json::from_str(&a.text).map_err(|_| crate::common::unreadable(Provider::Twilio, a.status))?;
    Ok(page.incoming_phone_numbers.into_iter().find(|n| n.phone_number == number).map(|n| n.sid))
}

#[derive(Deserialize)]
struct Available {
    phone_number: String,
}

#[derive(Deserialize)]
struct AvailablePage {
    available_phone_numbers: Vec<Available>,
}

/// `GET …/AvailablePhoneNumbers/US/Local.json?AreaCode=&SmsEnabled=true`: a number that can be
/// bought in the area code.
pub async fn available(
    p: &HttpProviders,
    secrets: &ChannelSecrets,
    area_code: &str,
) -> Result<Option<String>, ProviderFailure> {
    let query = [("AreaCode", area_code), ("SmsEnabled", "true"), ("VoiceEnabled", "true"), ("PageSize", "1")];
    let req = account_request(p, secrets, reqwest::Method::GET, "AvailablePhoneNumbers/US/Local.json")?;
    let sent = req.query(&query).send().await;
    let a = answer(Provider::Twilio, sent).await?;
    if !a.status.is_success() {
        let message = format!("available phone numbers: HTTP {}", a.status);
        return Err(failure(Provider::Twilio, ROWS, Some(a.status.as_u16()), None, message, a.retry_after));
    }
    let page: AvailablePage =
        serde_json::from_str(&a.text).map_err(|_| crate::common::unreadable(Provider::Twilio, a.status))?;
    Ok(page.available_phone_numbers.into_iter().next().map(|n| n.phone_number))
}

/// Buys `number` into the account (`POST …/IncomingPhoneNumbers.json`). One already in the
/// account is taken as bought only when `adopt` (a retry of a purchase whose answer was lost);
/// otherwise it is the account's own and refused (409).
pub async fn buy(
    p: &HttpProviders,
    secrets: &ChannelSecrets,
    number: &str,
    adopt: bool,
) -> Result<String, ProviderFailure> {
    if number_sid(p, secrets, number).await?.is_some() {
        if adopt {
            return Ok(number.to_string());
        }
        let message = format!("{} is already in the account", herald_core::address::mask_phone(number));
        return Err(failure(Provider::Twilio, ROWS, Some(409), None, message, None));
    }
    let req = account_request(p, secrets, reqwest::Method::POST, "IncomingPhoneNumbers.json")?;
    let sent = req.form(&[("PhoneNumber", number)]).send().await;
    let a = answer(Provider::Twilio, sent).await?;
    if !a.status.is_success() {
        let code =
            serde_json::from_str::<serde_json::Value>(&a.text).ok().and_then(|v| v.get("code").map(|c| c.to_string()));
        let message = format!("buying {}: HTTP {}", herald_core::address::mask_phone(number), a.status);
        return Err(failure(Provider::Twilio, ROWS, Some(a.status.as_u16()), code, message, a.retry_after));
    }
    let bought: Listed =
        serde_json::from_str(&a.text).map_err(|_| crate::common::unreadable(Provider::Twilio, a.status))?;
    tracing::info!(number_sid = %bought.sid, "bought a twilio number");
    Ok(bought.phone_number)
}
