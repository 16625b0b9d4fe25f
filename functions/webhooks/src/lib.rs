//! Provider webhooks (CONTRACT §9), one generic handler for every path a registered
//! provider declares: find the tenant accounts the request speaks for, check the signature
//! with each account's credentials — a bad or missing one is `401` with nothing written —
//! then apply the domain events the provider's module read from it, each once.
mod handler;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use herald_http::error::ApiError;
use herald_http::{parse_json, AppState, Auth};

pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;

pub fn router(app: AppState) -> Router {
    let mut routes = Router::new().route("/v1/admin/ses-events", post(ses_event));
    for (provider, webhook) in app.providers.webhooks() {
        for path in webhook.paths() {
            let mut method = post(move |s, u, h, b| handler::handle(provider, s, u, h, b));
            if webhook.has_handshake() {
                method = method.get(move |s, q| handler::handshake(provider, s, q));
            }
            routes = routes.route(path, method);
        }
    }
    herald_http::with_context(routes, MAX_WEBHOOK_BODY).with_state(app)
}

/// Test/ops route: applies an SES event as SNS would deliver it (locally there is no SNS).
async fn ses_event(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: axum::body::Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let event: serde_json::Value = parse_json(&body)?;
    let outcome = match herald_providers::ses::events::parse(&event) {
        Some(e) => format!("{:?}", app.services.receipts.apply_mail_event(&e).await?),
        None => "Ignored".to_string(),
    };
    Ok(axum::Json(serde_json::json!({"outcome": outcome})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sample_events_parse() {
        let req = lambda_http::request::from_str(include_str!("../../../events/webhook-twilio-status.json")).unwrap();
        assert_eq!(req.uri().path(), "/webhooks/twilio/status");
        for (file, path) in [
            (include_str!("../../../events/webhook-twilio-voice.json"), "/webhooks/twilio/voice"),
            (include_str!("../../../events/webhook-twilio-dial-status.json"), "/webhooks/twilio/voice/dial-status"),
        ] {
            assert_eq!(lambda_http::request::from_str(file).unwrap().uri().path(), path);
        }
        let sns: aws_lambda_events::event::sns::SnsEvent =
            serde_json::from_str(include_str!("../../../events/sns-ses-bounce.json")).unwrap();
        let ses: serde_json::Value = serde_json::from_str(&sns.records[0].sns.message).unwrap();
        assert_eq!(ses["eventType"], "Bounce");
    }
}
