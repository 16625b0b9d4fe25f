//! Provider webhooks (CONTRACT §9), one generic handler for every path a registered
//! provider declares: find the tenant accounts the request speaks for, check the signature
//! with each account's credentials — a bad or missing one is `401` with nothing written —
//! then apply the domain events the provider's module read from it, each once.
mod handler;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use herald_http::error::ApiError;
use herald_http::{parse_json, Auth};
use herald_runtime::AppState;

pub const MAX_WEBHOOK_BODY: usize = 64 * 1024;

pub fn router(app: AppState) -> Router {
    let mut routes = Router::new();
    // Locally there is no SNS: the admin injects SES events. Never on the public function URL.
    if app.config.local {
        routes = routes.route("/v1/admin/ses-events", post(ses_event));
    }
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
        Some(e) => {
            let detail = serde_json::json!({"event": e.event_id, "kind": format!("{:?}", e.kind)});
            app.services.audit.record(&caller, e.tenant_id.as_ref(), "ses_event.inject", detail).await;
            format!("{:?}", app.services.receipts.apply_mail_event(&e).await?)
        }
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

    /// A receipt through the function URL is checked against the URL Twilio was given as the
    /// StatusCallback: the function URL (with its trailing slash) + path + Herald's id.
    #[test]
    fn a_function_url_receipt_is_checked_against_the_url_twilio_signed() {
        let req = lambda_http::request::from_str(include_str!("../../../events/webhook-twilio-status.json")).unwrap();
        let signed = "https://abc123example.lambda-url.us-east-1.on.aws/webhooks/twilio/status?herald_message_id=01KAZ0000000000000000000SM";
        assert_eq!(crate::handler::public_url(None, req.headers(), req.uri()), signed);
        // Without X-Forwarded-Proto the event is still HTTPS (function URLs and API Gateway
        // take nothing else): Lambda's absolute URI says so.
        let bare = include_str!("../../../events/webhook-twilio-status.json").replace("x-forwarded-proto", "x-other");
        let req2 = lambda_http::request::from_str(&bare).unwrap();
        assert_eq!(crate::handler::public_url(None, req2.headers(), req2.uri()), signed);
        let base = Some("https://abc123example.lambda-url.us-east-1.on.aws/");
        assert_eq!(crate::handler::public_url(base, req.headers(), req.uri()), signed);
        let custom = crate::handler::public_url(Some("https://hooks.example.org"), req.headers(), req.uri());
        assert_eq!(
            custom,
            "https://hooks.example.org/webhooks/twilio/status?herald_message_id=01KAZ0000000000000000000SM"
        );
        // Behind herald-local the URI is a path: the Host and X-Forwarded-Proto headers complete it.
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("host", "127.0.0.1:3000".parse().unwrap());
        let local = crate::handler::public_url(None, &headers, &"/webhooks/telnyx".parse().unwrap());
        assert_eq!(local, "http://127.0.0.1:3000/webhooks/telnyx");
    }
}
