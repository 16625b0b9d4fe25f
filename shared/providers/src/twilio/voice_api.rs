//! Twilio's REST side of voice: point a number's webhooks at Herald
//! (`POST …/IncomingPhoneNumbers/{PN…}.json`), fetch a recording with the account's
//! credentials and delete it at Twilio once Herald keeps it (`DELETE …/Recordings/{RE…}.json`).
use super::credentials::TwilioCredentials;
use super::errors::ROWS;
use super::voice::{CALL_STATUS, VOICE};
use crate::common::{answer, failure, transport};
use crate::HttpProviders;
use async_trait::async_trait;
use herald_core::ports::VoiceCarrier;
use herald_core::tenant::ChannelSecrets;
use herald_core::{Provider, ProviderFailure};

/// The largest recording Herald copies to S3 (a voicemail is well under 5 MB).
const MAX_RECORDING_BYTES: usize = 50 * 1024 * 1024;

fn creds(secrets: &ChannelSecrets) -> Result<TwilioCredentials, ProviderFailure> {
    super::credentials::of(secrets)
}

fn refused(what: &str, status: reqwest::StatusCode, retry_after: Option<std::time::Duration>) -> ProviderFailure {
    let message = format!("{what}: HTTP {status}");
    failure(Provider::Twilio, ROWS, Some(status.as_u16()), None, message, retry_after)
}

impl HttpProviders {
    pub(super) fn account_url(&self, c: &TwilioCredentials, rest: &str) -> String {
        let base = self.endpoints().base(herald_core::Provider::Twilio, super::API_BASE);
        format!("{base}/2010-04-01/Accounts/{}/{rest}", c.account_sid)
    }
}

#[async_trait]
impl VoiceCarrier for HttpProviders {
    async fn point_number(&self, secrets: &ChannelSecrets, number: &str, base: &str) -> Result<(), ProviderFailure> {
        let c = creds(secrets)?;
        let not_found = || refused("number not in the account", reqwest::StatusCode::NOT_FOUND, None);
        let sid = super::numbers::number_sid(self, secrets, number).await?.ok_or_else(not_found)?;
        let base = base.trim_end_matches('/');
        let form = [
            ("VoiceUrl", format!("{base}{VOICE}")),
            ("VoiceMethod", "POST".into()),
            ("StatusCallback", format!("{base}{CALL_STATUS}")),
            ("StatusCallbackMethod", "POST".into()),
            ("SmsUrl", format!("{base}/webhooks/twilio/inbound")),
            ("SmsMethod", "POST".into()),
        ];
        let url = self.account_url(&c, &format!("IncomingPhoneNumbers/{sid}.json"));
        let req = self.http().post(url).basic_auth(&c.account_sid, Some(&c.auth_token)).form(&form);
        let a = answer(Provider::Twilio, req.send().await).await?;
        if !a.status.is_success() {
            return Err(refused("update incoming phone number", a.status, a.retry_after));
        }
        Ok(())
    }

    async fn fetch_recording(
        &self,
        secrets: &ChannelSecrets,
        media_url: &str,
    ) -> Result<(Vec<u8>, String), ProviderFailure> {
        let c = creds(secrets)?;
        // The account's credentials go to Twilio's API only, never to another host a
        // callback names.
        let base = self.endpoints().base(herald_core::Provider::Twilio, super::API_BASE);
        if !media_url.starts_with(&format!("{base}/")) {
            return Err(refused("recording URL outside the Twilio API", reqwest::StatusCode::BAD_REQUEST, None));
        }
        let res = self
            .http()
            .get(media_url)
            .basic_auth(&c.account_sid, Some(&c.auth_token))
            .send()
            .await
            .map_err(|e| transport(Provider::Twilio, e))?;
        if !res.status().is_success() {
            return Err(refused("recording", res.status(), None));
        }
        let content_type =
            res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("audio/mpeg").to_string();
        // Bounded: a recording larger than any Herald makes is refused, never read whole.
        let too_big = || refused("recording larger than 50 MB", reqwest::StatusCode::PAYLOAD_TOO_LARGE, None);
        if res.content_length().is_some_and(|n| n > MAX_RECORDING_BYTES as u64) {
            return Err(too_big());
        }
        let mut res = res;
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| transport(Provider::Twilio, e))? {
            if bytes.len() + chunk.len() > MAX_RECORDING_BYTES {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, content_type))
    }

    async fn delete_recording(&self, secrets: &ChannelSecrets, recording_sid: &str) -> Result<(), ProviderFailure> {
        let c = creds(secrets)?;
        // A recording sid names one recording: `RE` and letters or digits, nothing that
        // could steer the DELETE elsewhere in the account.
        let well_formed = recording_sid.len() <= 64
            && recording_sid.starts_with("RE")
            && recording_sid.chars().all(|ch| ch.is_ascii_alphanumeric());
        if !well_formed {
            return Err(refused("not a recording sid", reqwest::StatusCode::BAD_REQUEST, None));
        }
        let url = self.account_url(&c, &format!("Recordings/{recording_sid}.json"));
        let a = answer(
            Provider::Twilio,
            self.http().delete(url).basic_auth(&c.account_sid, Some(&c.auth_token)).send().await,
        )
        .await?;
        if !a.status.is_success() && a.status != reqwest::StatusCode::NOT_FOUND {
            return Err(refused("delete recording", a.status, a.retry_after));
        }
        Ok(())
    }
}
