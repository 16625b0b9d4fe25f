//! Telnyx number linking (the linking runbook, made a system): validation, error
//! categories, the per-number state and its retry schedule.
use crate::ids::TenantId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    Pending,
    Linked,
    Failed,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Pending => "pending",
            LinkStatus::Linked => "linked",
            LinkStatus::Failed => "failed",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkMethod {
    /// `PATCH /v2/phone_numbers/{id}/messaging`
    Direct,
    /// `PATCH /v2/messaging_phone_numbers/{id}`
    Profile,
}

/// The runbook's error categories.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkErrorCategory {
    UnprocessableEntityPhoneNumber,
    BadRequestInvalidFormat,
    RateLimitExceeded,
    AuthenticationError,
    NotFound,
    TelnyxServiceError,
}

impl LinkErrorCategory {
    pub fn from_status(status: Option<u16>) -> Self {
        match status {
            Some(422) => Self::UnprocessableEntityPhoneNumber,
            Some(400) => Self::BadRequestInvalidFormat,
            Some(429) => Self::RateLimitExceeded,
            Some(401 | 403) => Self::AuthenticationError,
            Some(404) => Self::NotFound,
            _ => Self::TelnyxServiceError,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnprocessableEntityPhoneNumber => "UNPROCESSABLE_ENTITY_PHONE_NUMBER",
            Self::BadRequestInvalidFormat => "BAD_REQUEST_INVALID_FORMAT",
            Self::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Self::AuthenticationError => "AUTHENTICATION_ERROR",
            Self::NotFound => "NOT_FOUND",
            Self::TelnyxServiceError => "TELNYX_SERVICE_ERROR",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkError {
    pub category: LinkErrorCategory,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkingState {
    pub tenant_id: TenantId,
    pub phone_number: String,
    pub messaging_profile_id: String,
    pub status: LinkStatus,
    #[serde(default)]
    pub method: Option<LinkMethod>,
    #[serde(default)]
    pub number_id: Option<String>,
    #[serde(default)]
    pub last_attempt: Option<DateTime<Utc>>,
    pub retry_count: u32,
    #[serde(default)]
    pub error: Option<LinkError>,
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// An attempt in progress holds the number until then (overlapping job runs skip it).
    #[serde(default)]
    pub claimed_until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub alerted: bool,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const MAX_RETRIES: u32 = 3;

impl LinkingState {
    /// Whether the recovery job (or a manual retry) may still try this number.
    pub fn can_retry(&self) -> bool {
        self.status != LinkStatus::Linked && self.retry_count < MAX_RETRIES
    }

    /// The view of CONTRACT §8.
    pub fn view(&self) -> LinkingView {
        LinkingView {
            phone_number: self.phone_number.clone(),
            status: self.status,
            method: self.method,
            last_attempt: self.last_attempt,
            retry_count: self.retry_count,
            error: self.error.clone(),
            can_retry: self.can_retry(),
            next_attempt_at: self.next_attempt_at,
            messaging_profile_id: self.messaging_profile_id.clone(),
            tenant_id: None,
        }
    }
}

/// A number's linking state as CONTRACT §8 shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkingView {
    pub phone_number: String,
    pub status: LinkStatus,
    pub method: Option<LinkMethod>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub retry_count: u32,
    pub error: Option<LinkError>,
    pub can_retry: bool,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub messaging_profile_id: String,
    /// In the operator's list only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
}

pub type Invalid = (&'static str, &'static str, &'static str);

/// A sending number as registered: present, a string, and already in E.164.
pub fn validate_phone(phone: Option<&serde_json::Value>) -> Result<String, Invalid> {
    let phone = match phone {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(("phone_number", "INVALID_PHONE_NUMBER_TYPE", "phone_number is required (a string)")),
    };
    match crate::address::E164::parse(&phone, None) {
        Ok(e) if e.as_str() == phone => Ok(phone),
        _ => Err(("phone_number", "INVALID_PHONE_NUMBER_FORMAT", "phone_number must be E.164, e.g. +14155550100")),
    }
}

/// Validation before any Telnyx call: `(field, code, message)` on failure.
pub fn validate(
    phone: Option<&serde_json::Value>,
    profile: Option<&serde_json::Value>,
) -> Result<(String, String), Invalid> {
    let phone = validate_phone(phone)?;
    let profile = match profile {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err((
                "messaging_profile_id",
                "INVALID_PROFILE_ID_TYPE",
                "messaging_profile_id is required (a string)",
            ))
        }
    };
    if !is_uuid(&profile) {
        return Err(("messaging_profile_id", "INVALID_PROFILE_ID_FORMAT", "messaging_profile_id must be a UUID"));
    }
    Ok((phone, profile))
}

pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct TelnyxCallError {
    pub status: Option<u16>,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation_codes() {
        let ok = json!("40019a80-d883-4618-953b-dad1610b39f4");
        assert_eq!(validate(None, Some(&ok)).unwrap_err().1, "INVALID_PHONE_NUMBER_TYPE");
        assert_eq!(validate(Some(&json!(14155550100u64)), Some(&ok)).unwrap_err().1, "INVALID_PHONE_NUMBER_TYPE");
        assert_eq!(validate(Some(&json!("4155550100")), Some(&ok)).unwrap_err().1, "INVALID_PHONE_NUMBER_FORMAT");
        assert_eq!(validate(Some(&json!("+1 415 555 0100")), Some(&ok)).unwrap_err().1, "INVALID_PHONE_NUMBER_FORMAT");
        assert_eq!(validate(Some(&json!("+14155550100")), None).unwrap_err().1, "INVALID_PROFILE_ID_TYPE");
        assert_eq!(
            validate(Some(&json!("+14155550100")), Some(&json!("profile-1"))).unwrap_err().1,
            "INVALID_PROFILE_ID_FORMAT"
        );
        assert!(validate(Some(&json!("+14155550100")), Some(&ok)).is_ok());
    }

    #[test]
    fn categories_follow_the_runbook_table() {
        assert_eq!(LinkErrorCategory::from_status(Some(422)).as_str(), "UNPROCESSABLE_ENTITY_PHONE_NUMBER");
        assert_eq!(LinkErrorCategory::from_status(Some(400)).as_str(), "BAD_REQUEST_INVALID_FORMAT");
        assert_eq!(LinkErrorCategory::from_status(Some(429)).as_str(), "RATE_LIMIT_EXCEEDED");
        assert_eq!(LinkErrorCategory::from_status(Some(401)).as_str(), "AUTHENTICATION_ERROR");
        assert_eq!(LinkErrorCategory::from_status(Some(403)).as_str(), "AUTHENTICATION_ERROR");
        assert_eq!(LinkErrorCategory::from_status(Some(404)).as_str(), "NOT_FOUND");
        assert_eq!(LinkErrorCategory::from_status(Some(503)).as_str(), "TELNYX_SERVICE_ERROR");
        assert_eq!(LinkErrorCategory::from_status(None).as_str(), "TELNYX_SERVICE_ERROR");
    }
}
