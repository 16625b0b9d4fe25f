//! The route table. A new route: one line here, one handler calling one domain function.
pub(crate) mod channels;
pub(crate) mod dlq;
pub(crate) mod guards;
pub(crate) mod identities;
pub(crate) mod messages;
pub(crate) mod operations;
pub(crate) mod session;
pub(crate) mod system;
pub(crate) mod tenants;
pub(crate) mod users;
pub(crate) mod voice;

use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(system::health))
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/v1/admin/tenants", post(tenants::create).get(tenants::list))
        .route("/v1/admin/tenants/{id}", get(tenants::get_by_id).patch(tenants::patch_by_id))
        .route("/v1/admin/tenants/{id}/keys", post(tenants::create_key).get(tenants::list_keys))
        .route("/v1/admin/tenants/{id}/keys/revoke-all", post(tenants::revoke_all_keys))
        .route("/v1/admin/tenants/{id}/keys/{key_id}", axum::routing::delete(tenants::delete_key))
        .route("/v1/admin/tenants/{id}/pause", post(guards::admin_pause))
        .route("/v1/admin/tenants/{id}/resume", post(guards::admin_resume))
        .route("/v1/admin/tenants/{id}/whatsapp-window", post(guards::open_window))
        .route("/v1/admin/features", get(guards::features).patch(guards::set_feature))
        .route("/v1/tenant/pause", post(guards::pause))
        .route("/v1/tenant/resume", post(guards::resume))
        .route("/v1/tenant/budget", get(guards::budget))
        .route("/v1/dnc", get(guards::dnc_list))
        .route("/v1/dnc/{address}", put(guards::dnc_put).get(guards::dnc_get).delete(guards::dnc_delete))
        .route("/v1/messages/{id}/cancel", post(messages::cancel))
        .route("/v1/inbound", get(messages::inbound))
        .route("/v1/dlq", get(dlq::tenant_list))
        .route("/v1/dlq/stats", get(dlq::tenant_stats))
        .route("/v1/dlq/retry", post(dlq::tenant_retry))
        .route("/v1/dlq/archive", post(dlq::tenant_archive).get(dlq::tenant_archive_list))
        .route("/v1/admin/dlq", get(dlq::admin_list))
        .route("/v1/admin/dlq/stats", get(dlq::admin_stats))
        .route("/v1/admin/dlq/retry", post(dlq::admin_retry))
        .route("/v1/admin/dlq/archive", post(dlq::admin_archive).get(dlq::admin_archive_list))
        .route("/v1/admin/audit", get(system::audit))
        .route("/v1/admin/messages", get(operations::messages))
        .route("/v1/admin/messages/retry-now", post(operations::retry_now))
        .route("/v1/admin/messages/{id}", get(operations::message))
        .route("/v1/admin/circuits/{provider}/{account}/{action}", post(operations::circuit))
        .route("/v1/admin/tenants/{id}/budget", get(operations::budget))
        .route("/v1/admin/tenants/{id}/budget/reset", post(operations::reset_budget))
        .route("/v1/admin/whatsapp/quota", get(operations::whatsapp_quota))
        .route("/v1/admin/stats", get(system::stats))
        .route("/v1/voice", get(voice::settings).put(voice::put_settings))
        .route("/v1/calls", get(voice::calls))
        .route("/v1/calls/{call_sid}", get(voice::call))
        .route("/v1/calls/{call_sid}/recording", get(voice::recording))
        .route("/v1/admin/jobs/{job}/run", post(system::run_job))
        .route("/v1/system/queues", get(system::queues))
        .route("/v1/system/health/providers", get(system::provider_health))
        .route("/v1/tenant", get(tenants::own).patch(tenants::patch_own))
        .route("/v1/channels", get(channels::list))
        .route("/v1/channels/{channel}", put(channels::put_channel).patch(channels::patch_channel))
        .route("/v1/admin/platform/channels", get(channels::platform_channels))
        .route("/v1/admin/platform/channels/{channel}", put(channels::put_platform_channel))
        .route("/v1/email/identities", post(identities::create).get(identities::list))
        .route("/v1/email/identities/{identity}", get(identities::get).delete(identities::delete))
        .route("/v1/admin/tenants/{id}/email/identities", post(identities::assign))
        .route("/v1/numbers", post(channels::add_number).get(channels::list_numbers))
        .route("/v1/numbers/{e164}", axum::routing::delete(channels::delete_number))
        .route("/v1/numbers/{e164}/linking", get(channels::linking))
        .route("/v1/numbers/{e164}/linking/retry", post(channels::retry_linking))
        .route("/v1/admin/linking", get(channels::admin_linking))
        .route("/v1/messages", post(messages::send).get(messages::list))
        .route("/v1/messages/batch", post(messages::send_batch))
        .route("/v1/messages/preview", post(messages::preview))
        .route("/v1/messages/{id}", get(messages::get_one))
        .merge(console_routes())
        .fallback(system::not_found)
}

/// What the console uses beyond the API's other routes: sessions, users, own keys, numbers.
fn console_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/session", post(session::sign_in).get(session::me).delete(session::sign_out))
        .route("/v1/session/password", post(session::new_password))
        .route("/v1/users", post(users::invite).get(users::list))
        .route("/v1/users/{id}", axum::routing::delete(users::disable))
        .route("/v1/admin/users", post(users::admin_invite).get(users::admin_list))
        .route("/v1/tenant/stats", get(users::dashboard))
        .route("/v1/tenant/usage", get(users::usage))
        .route("/v1/keys", get(users::own_keys).post(users::create_own_key))
        .route("/v1/keys/{key_id}", axum::routing::delete(users::delete_own_key))
}
