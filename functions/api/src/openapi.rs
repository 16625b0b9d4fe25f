//! The OpenAPI 3.1 document (`GET /openapi.json`), generated from the handlers' own
//! annotations and the request/response types (utoipa): a route added without its
//! annotation is missing here, and `openapi_lists_every_routed_path` fails.
use crate::routes::*;
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error: a stable code, a message, and per-field codes on validation errors.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. VALIDATION_ERROR, UNAUTHORIZED, FORBIDDEN, TEST_KEY_FORBIDDEN, NOT_FOUND,
    /// BUDGET_EXCEEDED, RATE_LIMITED, CONFLICT, PAYLOAD_TOO_LARGE, SERVICE_UNAVAILABLE.
    pub code: String,
    pub message: String,
    /// Field → code (`REQUIRED`, `INVALID`, `UNKNOWN_FIELD`, …) on validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The errors every authenticated route may answer.
#[derive(utoipa::IntoResponses)]
pub enum Errors {
    /// VALIDATION_ERROR (with `fields`), or a malformed body.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// UNAUTHORIZED: no or an unknown bearer key.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// FORBIDDEN (admin route with a tenant key, or the reverse), TEST_KEY_FORBIDDEN.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// NOT_FOUND (another tenant's resources answer the same).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// CONFLICT: a concurrent change, a resource already claimed, a state that forbids it.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// PAYLOAD_TOO_LARGE: over 256 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// RATE_LIMITED, with Retry-After.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
            "An API key: `hk_live_…` / `hk_test_…` for tenant routes, the admin key for `/v1/admin/…` and `/v1/system/…`.",
        ));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme.build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald", description = "Multi-channel outbound messaging (SMS, email, WhatsApp) on AWS Lambda. See CONTRACT.md."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    paths(
        system::health, openapi_json,
        tenants::create, tenants::get_by_id, tenants::patch_by_id, tenants::create_key, tenants::delete_key,
        tenants::own, tenants::patch_own, tenants::list, tenants::list_keys, tenants::revoke_all_keys,
        guards::admin_pause, guards::admin_resume, guards::open_window, guards::features, guards::set_feature,
        guards::pause, guards::resume, guards::budget,
        guards::dnc_list, guards::dnc_put, guards::dnc_get, guards::dnc_delete,
        messages::send, messages::send_batch, messages::preview, messages::list, messages::get_one, messages::cancel, messages::inbound,
        dlq::tenant_list, dlq::tenant_stats, dlq::tenant_retry, dlq::tenant_archive, dlq::tenant_archive_list,
        dlq::admin_list, dlq::admin_stats, dlq::admin_retry, dlq::admin_archive, dlq::admin_archive_list,
        channels::list, channels::put_channel, channels::patch_channel, channels::put_platform_channel, channels::platform_channels,
        channels::add_number, channels::list_numbers, channels::delete_number,
        channels::linking, channels::retry_linking, channels::admin_linking,
        identities::create, identities::list, identities::get, identities::delete, identities::assign,
        system::audit, system::run_job, system::queues, system::provider_health, system::stats,
        operations::message, operations::messages, operations::retry_now, operations::circuit,
        operations::budget, operations::reset_budget, operations::whatsapp_quota,
        voice::settings, voice::put_settings, voice::calls, voice::call, voice::recording,
        session::sign_in, session::new_password, session::me, session::sign_out,
        users::invite, users::admin_invite, users::list, users::admin_list, users::disable,
        users::own_keys, users::create_own_key, users::delete_own_key, users::dashboard, users::usage,
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// The provider webhooks (CONTRACT §9), from the provider registry: each registered
/// provider's paths, signed by the provider instead of a bearer key.
fn webhook_paths(doc: &mut utoipa::openapi::OpenApi, app: &crate::AppState) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, SecurityRequirement};
    let refused = ResponseBuilder::new()
        .description("INVALID_SIGNATURE: missing, wrong or stale signature; nothing is written")
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build();
    for (provider, webhook) in app.providers.webhooks() {
        for path in webhook.paths() {
            let op = |summary: String| {
                OperationBuilder::new()
                    .tag("webhooks")
                    .summary(Some(summary))
                    .security(SecurityRequirement::default())
                    .response("200", ResponseBuilder::new().description("Applied (each event once)").build())
                    .response("400", ResponseBuilder::new().description("Malformed request").build())
                    .response("401", refused.clone())
                    .response(
                        "403",
                        ResponseBuilder::new().description("Handshake: the verify token does not match").build(),
                    )
                    .response("404", ResponseBuilder::new().description("Unknown provider path").build())
                    .response("413", ResponseBuilder::new().description("Over 64 KiB").build())
                    .build()
            };
            let summary =
                format!("{} webhook, signed with the tenant's {} credentials", provider.as_str(), provider.as_str());
            doc.paths.add_path_operation(*path, vec![HttpMethod::Post], op(summary));
            if webhook.has_handshake() {
                let summary = format!("{} subscription handshake (verify token)", provider.as_str());
                doc.paths.add_path_operation(*path, vec![HttpMethod::Get], op(summary));
            }
        }
    }
}

/// The document itself: the annotated routes plus the registered providers' webhooks.
#[utoipa::path(get, path = "/openapi.json", security(()), responses((status = 200, description = "This OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json(
    axum::extract::State(app): axum::extract::State<crate::AppState>,
) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    webhook_paths(&mut doc, &app);
    Json(doc)
}
