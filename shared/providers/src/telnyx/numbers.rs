//! The Telnyx number APIs used to link a number to a messaging profile.
use crate::HttpProviders;
use herald_core::linking::TelnyxCallError;
use herald_core::ports::TelnyxNumbers;
use serde_json::{json, Value};

fn err(e: reqwest::Error) -> TelnyxCallError {
    TelnyxCallError { status: None, detail: if e.is_timeout() { "timeout".into() } else { "transport error".into() } }
}

async fn check(res: reqwest::Response) -> Result<Value, TelnyxCallError> {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let first = body.pointer("/errors/0");
    let code = first
        .and_then(|e| e.get("code"))
        .map(|c| c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string()))
        .unwrap_or_default();
    let detail = first
        .and_then(|e| e.get("detail").or_else(|| e.get("title")))
        .and_then(|d| d.as_str())
        .unwrap_or("")
        .to_string();
    Err(TelnyxCallError {
        status: Some(status.as_u16()),
        detail: format!("HTTP {} {code} {detail}", status.as_u16()).trim().to_string(),
    })
}

/// `PATCH {path}` with the messaging profile: both ways of linking a number.
async fn set_profile(http: &HttpProviders, api_key: &str, path: &str, profile: &str) -> Result<(), TelnyxCallError> {
    let url = format!("{}{path}", http.endpoints().base(herald_core::Provider::Telnyx, super::API_BASE));
    let body = json!({"messaging_profile_id": profile});
    let res = http.http().patch(url).bearer_auth(api_key).json(&body).send().await.map_err(err)?;
    check(res).await.map(|_| ())
}

#[async_trait::async_trait]
impl TelnyxNumbers for HttpProviders {
    fn access(&self, secrets: &herald_core::tenant::ChannelSecrets) -> Option<herald_core::ports::TelnyxAccess> {
        super::credentials::access(secrets)
    }

    async fn order(&self, api_key: &str, e164: &str, profile: &str) -> Result<(), TelnyxCallError> {
        let url = format!("{}/v2/number_orders", self.endpoints().base(herald_core::Provider::Telnyx, super::API_BASE));
        let res = self
            .http()
            .post(url)
            .bearer_auth(api_key)
            .json(&json!({"phone_numbers": [{"phone_number": e164}], "messaging_profile_id": profile}))
            .send()
            .await
            .map_err(err)?;
        check(res).await.map(|_| ())
    }

    async fn available(&self, api_key: &str, area_code: &str) -> Result<Option<String>, TelnyxCallError> {
        let base = self.endpoints().base(herald_core::Provider::Telnyx, super::API_BASE);
        let query = [
            ("filter[country_code]", "US"),
            ("filter[national_destination_code]", area_code),
            ("filter[features][]", "sms"),
            ("filter[limit]", "1"),
        ];
        let url = format!("{base}/v2/available_phone_numbers");
        let res = self.http().get(url).bearer_auth(api_key).query(&query).send().await.map_err(err)?;
        let body = check(res).await?;
        Ok(body.pointer("/data/0/phone_number").and_then(|v| v.as_str()).map(str::to_string))
    }

    async fn find(&self, api_key: &str, e164: &str) -> Result<Option<String>, TelnyxCallError> {
        // The filter wants digits: "Non-numerical characters will result in no values".
        let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
        let url = format!("{}/v2/phone_numbers", self.endpoints().base(herald_core::Provider::Telnyx, super::API_BASE));
        let res = self
            .http()
            .get(url)
            .bearer_auth(api_key)
            .query(&[("filter[phone_number]", digits.as_str())])
            .send()
            .await
            .map_err(err)?;
        let body = check(res).await?;
        Ok(body
            .get("data")
            .and_then(|d| d.as_array())
            .and_then(|d| d.iter().find(|n| n.get("phone_number").and_then(|p| p.as_str()) == Some(e164)))
            .and_then(|n| n.get("id"))
            .map(|id| id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string())))
    }

    async fn link_direct(&self, api_key: &str, number_id: &str, profile: &str) -> Result<(), TelnyxCallError> {
        set_profile(self, api_key, &format!("/v2/phone_numbers/{number_id}/messaging"), profile).await
    }

    /// Addressed by the number's id, never the number string (the runbook's 400 bug).
    async fn link_profile(&self, api_key: &str, number_id: &str, profile: &str) -> Result<(), TelnyxCallError> {
        set_profile(self, api_key, &format!("/v2/messaging_phone_numbers/{number_id}"), profile).await
    }
}
