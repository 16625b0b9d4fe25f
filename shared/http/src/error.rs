//! Contract error bodies: `{"error": {"code", "message", "request_id", "fields"?}}`.
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_core::service::HeraldError;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    Herald(HeraldError),
    PayloadTooLarge,
    RateLimited { retry_after_secs: u64, message: String },
    Coded { status: StatusCode, code: &'static str, message: String },
}

impl ApiError {
    /// A cookie-authenticated change from a page of another origin (CONTRACT §15).
    pub fn cross_origin() -> ApiError {
        ApiError::Coded {
            status: StatusCode::FORBIDDEN,
            code: "CROSS_ORIGIN",
            message: "this change must come from Herald's own console page; reload the console and try again".into(),
        }
    }
}

impl From<HeraldError> for ApiError {
    fn from(e: HeraldError) -> Self {
        ApiError::Herald(e)
    }
}

pub fn status_of(e: &HeraldError) -> StatusCode {
    match e {
        HeraldError::Unauthenticated | HeraldError::InvalidCredentials(_) | HeraldError::SessionExpired => {
            StatusCode::UNAUTHORIZED
        }
        HeraldError::Forbidden | HeraldError::TestKeyForbidden | HeraldError::OwnerOnly => StatusCode::FORBIDDEN,
        HeraldError::NotFound => StatusCode::NOT_FOUND,
        HeraldError::Validation { .. } => StatusCode::BAD_REQUEST,
        HeraldError::IdempotencyKeyReused
        | HeraldError::Conflict(_)
        | HeraldError::PausedByOperator
        | HeraldError::AlreadyClaimed(_)
        | HeraldError::IdentityExistsOutsideHerald(_) => StatusCode::CONFLICT,
        HeraldError::RecipientOptedOut
        | HeraldError::ChannelNotConfigured(_)
        | HeraldError::AboveOperatorLimit(_)
        | HeraldError::NumberNotInAccount(_)
        | HeraldError::WhatsappNumberNotAccessible(_)
        | HeraldError::IdentityNotVerified(_)
        | HeraldError::WhatsappTemplateRequired => StatusCode::UNPROCESSABLE_ENTITY,
        HeraldError::BudgetExceeded(_) => StatusCode::PAYMENT_REQUIRED,
        HeraldError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        HeraldError::ChannelDisabled(_) | HeraldError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The JSON an error gets; `request_id` is filled in by the request middleware.
pub fn error_body(e: &HeraldError) -> serde_json::Value {
    let mut err = json!({"code": e.code(), "message": e.to_string()});
    if let HeraldError::Validation { fields, .. } = e {
        if !fields.is_empty() {
            err["fields"] = json!(fields);
        }
    }
    json!({"error": err})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Herald(e) => {
                if matches!(e, HeraldError::Unavailable(_)) {
                    tracing::error!(error = %e, "request failed on a dependency");
                }
                let mut r = (status_of(&e), axum::Json(error_body(&e))).into_response();
                if let HeraldError::RateLimited { retry_after_secs, .. } = e {
                    r.headers_mut().insert("retry-after", HeaderValue::from(retry_after_secs));
                }
                r
            }
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(json!({"error": {"code": "PAYLOAD_TOO_LARGE", "message": "the request body is over the size limit (256 KiB; webhooks 64 KiB)"}})),
            )
                .into_response(),
            ApiError::RateLimited { retry_after_secs, message } => {
                let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({"error": {"code": "RATE_LIMITED", "message": message}}))).into_response();
                r.headers_mut().insert("retry-after", HeaderValue::from(retry_after_secs));
                r
            }
            ApiError::Coded { status, code, message } => (status, axum::Json(json!({"error": {"code": code, "message": message}}))).into_response(),
        }
    }
}

/// Turns a serde error into `400 VALIDATION_ERROR`, naming the field where serde does.
pub fn json_error(e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    let mut fields = std::collections::BTreeMap::new();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        if let Some(name) = rest.split('`').next() {
            fields.insert(name.to_string(), "UNKNOWN_FIELD".to_string());
        }
    } else if let Some(rest) = text.strip_prefix("missing field `") {
        if let Some(name) = rest.split('`').next() {
            fields.insert(name.to_string(), "REQUIRED".to_string());
        }
    }
    ApiError::Herald(HeraldError::Validation {
        code: "VALIDATION_ERROR",
        message: format!("invalid request body: {text}"),
        fields,
    })
}
