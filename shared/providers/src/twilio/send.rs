//! Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form
//! encoded, HTTP Basic with the account SID and auth token.
use super::errors::ROWS;
use crate::common::{answer, failure, missing, transport, unreadable};
use crate::HttpProviders;
use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};
use serde::Deserialize;

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

pub async fn send(p: &HttpProviders, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
    let creds = super::credentials::of(out.secrets)?;
    let from = out.from.ok_or_else(|| missing(Provider::Twilio, "a From number"))?;
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        p.endpoints().base(herald_core::Provider::Twilio, super::API_BASE),
        creds.account_sid
    );
    let mut form: Vec<(&str, String)> = vec![
        ("To", out.message.to.to_string()),
        ("From", from.to_string()),
        ("Body", out.message.body.clone().unwrap_or_default()),
    ];
    if let Some(public) = &p.endpoints().public_url {
        // Herald's id rides in the callback URL: the receipt links the message even when this
        // request's answer is lost.
        let url =
            format!("{}/webhooks/twilio/status?herald_message_id={}", public.trim_end_matches('/'), out.message.id);
        form.push(("StatusCallback", url));
    }
    let sent = p
        .http()
        .post(url)
        .basic_auth(&creds.account_sid, Some(&creds.auth_token))
        .header("x-correlation-id", out.message.correlation_id.as_str())
        .form(&form)
        .send()
        .await;
    let a = answer(Provider::Twilio, sent).await?;
    if a.status.is_success() {
        let created: Created = serde_json::from_str(&a.text).map_err(|_| unreadable(Provider::Twilio, a.status))?;
        let linked = p.endpoints().public_url.is_some();
        return Ok(Accepted { provider_message_id: created.sid, delivered: false, linked });
    }
    let err: Option<TwilioError> = serde_json::from_str(&a.text).ok();
    let code = err.as_ref().and_then(|e| e.code).map(|c| c.to_string());
    let message = err.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {}", a.status));
    Err(failure(Provider::Twilio, ROWS, Some(a.status.as_u16()), code, message, a.retry_after))
}

#[derive(Deserialize)]
struct Listed {
    sid: String,
    body: Option<String>,
    status: Option<String>,
    /// RFC 2822, as Twilio writes dates.
    date_created: Option<String>,
}

impl Listed {
    /// Created at or after `since`: a message from before the claim is another message.
    fn created_since(&self, since: chrono::DateTime<chrono::Utc>) -> bool {
        let created = self.date_created.as_deref().and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok());
        created.is_some_and(|c| c >= since)
    }
}

#[derive(Deserialize)]
struct Page {
    messages: Vec<Listed>,
}

/// `GET Messages.json?To=&From=&DateSent>=`: finds a message with the same body created after
/// the attempt was claimed.
pub async fn lookup(
    p: &HttpProviders,
    out: &Outbound<'_>,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<herald_core::ports::Lookup, ProviderFailure> {
    let creds = super::credentials::of(out.secrets)?;
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        p.endpoints().base(herald_core::Provider::Twilio, super::API_BASE),
        creds.account_sid
    );
    let mut query = vec![
        ("To", out.message.to.to_string()),
        ("DateSent>", since.format("%Y-%m-%d").to_string()),
        ("PageSize", "100".into()),
    ];
    if let Some(f) = out.from {
        query.push(("From", f.to_string()));
    }
    let res = p
        .http()
        .get(url)
        .basic_auth(&creds.account_sid, Some(&creds.auth_token))
        .query(&query)
        .send()
        .await
        .map_err(|e| transport(Provider::Twilio, e))?;
    let status = res.status();
    if !status.is_success() {
        let message = format!("list messages: HTTP {status}");
        return Err(failure(Provider::Twilio, ROWS, Some(status.as_u16()), None, message, None));
    }
    let page: Page = res.json().await.map_err(|e| transport(Provider::Twilio, e))?;
    let body = out.message.body.clone().unwrap_or_default();
    let same = |m: &Listed| m.body.as_deref() == Some(body.as_str()) && m.created_since(since);
    Ok(match page.messages.into_iter().find(same) {
        Some(m) => herald_core::ports::Lookup::Found {
            delivered: m.status.as_deref() == Some("delivered"),
            provider_message_id: m.sid,
        },
        None => herald_core::ports::Lookup::NotFound,
    })
}
