use crate::error::ApiError;
use crate::responses::{BatchResult, BatchResults, InboundList, MessagesPage};
use crate::views::MessageView;
use crate::{parse_json, AppState, Auth, RequestContext};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use herald_core::ports::MessageFilter;
use herald_core::service::{HeraldError, SendRequest};
use herald_core::{Channel, Status};
use herald_http::Query;
use serde::Deserialize;
use serde_json::Value;

#[utoipa::path(post, path = "/v1/messages", tag = "messages", params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")), request_body = SendRequest, responses((status = 202, description = "Accepted (or the answer already given to this Idempotency-Key)", body = herald_core::service::Acceptance), (status = 402, description = "BUDGET_EXCEEDED", body = crate::openapi::ErrorBody), (status = 422, description = "WHATSAPP_TEMPLATE_REQUIRED and other refusals", body = crate::openapi::ErrorBody), (status = 429, description = "RATE_LIMITED", body = crate::openapi::ErrorBody), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn send(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ctx: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<herald_core::service::Acceptance>), ApiError> {
    let req: SendRequest = parse_json(&body)?;
    let key = headers.get("idempotency-key").map(|v| v.to_str().map(str::to_string)).transpose().map_err(|_| {
        HeraldError::validation("Idempotency-Key", "INVALID", "Idempotency-Key must be printable ASCII")
    })?;
    let accepted = app.services.accepting.accept(&caller, req, key, ctx.correlation_id).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

pub const MAX_BATCH: usize = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    messages: Vec<Value>,
}

/// `POST /v1/messages/batch`: up to 100 messages, each accepted or refused on its own.
#[utoipa::path(post, path = "/v1/messages/batch", tag = "messages", request_body = Batch, responses((status = 200, description = "One result per message", body = BatchResults), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn send_batch(
    State(app): State<AppState>,
    Auth(caller): Auth,
    ctx: RequestContext,
    body: Bytes,
) -> Result<Json<BatchResults>, ApiError> {
    let batch: Batch = parse_json(&body)?;
    if batch.messages.is_empty() || batch.messages.len() > MAX_BATCH {
        return Err(HeraldError::validation(
            "messages",
            "INVALID_LENGTH",
            format!("a batch holds 1 to {MAX_BATCH} messages"),
        )
        .into());
    }
    // Each message is parsed on its own; those that parse are accepted together (their jobs
    // go to SQS ten to a request). `unparsed[i]` holds message i's parse error.
    let (mut reqs, mut unparsed) = (Vec::new(), Vec::with_capacity(batch.messages.len()));
    for raw in batch.messages {
        match serde_json::from_value::<SendRequest>(raw) {
            Ok(req) => {
                reqs.push(req);
                unparsed.push(None);
            }
            Err(e) => unparsed.push(Some(crate::error::json_error(&e))),
        }
    }
    let mut accepted = app.services.accepting.accept_batch(&caller, reqs, ctx.correlation_id.clone()).await.into_iter();
    let mut results = Vec::with_capacity(unparsed.len());
    for (index, parse_error) in unparsed.into_iter().enumerate() {
        let outcome = match parse_error {
            None => {
                accepted.next().unwrap_or(Err(HeraldError::Unavailable("no result".into()))).map_err(ApiError::from)
            }
            Some(e) => Err(e),
        };
        results.push(BatchResult::of(index, outcome));
    }
    Ok(Json(BatchResults { results }))
}

#[utoipa::path(get, path = "/v1/messages/{id}", tag = "messages", params(("id" = String, Path, description = "message id")), responses((status = 200, description = "The message", body = crate::views::MessageView), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn get_one(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(MessageView::from(app.services.reading.message(&caller, &id).await?)))
}

pub fn parse_status(s: Option<&str>) -> Result<Option<Status>, HeraldError> {
    s.map(|s| {
        Status::parse(s).ok_or_else(|| HeraldError::validation("status", "INVALID", format!("unknown status {s}")))
    })
    .transpose()
}

pub fn parse_channel(c: Option<&str>) -> Result<Option<Channel>, HeraldError> {
    c.map(|c| {
        c.parse::<Channel>().map_err(|_| HeraldError::validation("channel", "INVALID", format!("unknown channel {c}")))
    })
    .transpose()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    /// The recipient (a phone number in any common format, or an email address).
    to: Option<String>,
    /// Created at or after (RFC 3339).
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Created before (RFC 3339).
    until: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/messages", tag = "messages", params(ListQuery), responses((status = 200, description = "A page of messages", body = MessagesPage), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    let status = parse_status(q.status.as_deref())?;
    let channel = parse_channel(q.channel.as_deref())?;
    let page = app
        .services
        .reading
        .messages(
            &caller,
            MessageFilter { status, channel, to: q.to, since: q.since, until: q.until, ..Default::default() },
            q.limit.unwrap_or(50),
            q.cursor.as_deref(),
        )
        .await?;
    let messages: Vec<MessageView> = page.items.into_iter().map(Into::into).collect();
    Ok(Json(MessagesPage { messages, next_cursor: page.next_cursor }))
}

#[utoipa::path(post, path = "/v1/messages/{id}/cancel", tag = "messages", params(("id" = String, Path, description = "message id")), responses((status = 200, description = "The canceled message", body = crate::views::MessageView), (status = 409, description = "Already sent", body = crate::openapi::ErrorBody), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn cancel(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(MessageView::from(app.services.reading.cancel(&caller, &id).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboundQuery {
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/inbound", tag = "messages", params(InboundQuery), responses((status = 200, description = "Inbound messages", body = InboundList), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn inbound(
    State(app): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<InboundQuery>,
) -> Result<Json<InboundList>, ApiError> {
    Ok(Json(InboundList { messages: app.services.receipts.inbound(&caller, q.since, q.limit.unwrap_or(100)).await? }))
}

#[utoipa::path(post, path = "/v1/messages/preview", tag = "messages", request_body = SendRequest, responses((status = 200, description = "Segments, encoding and estimated cost; nothing is sent", body = herald_core::service::accepting::Preview), crate::openapi::Errors))]
#[tracing::instrument(skip_all)]
pub async fn preview(
    State(app): State<AppState>,
    Auth(caller): Auth,
    body: Bytes,
) -> Result<Json<herald_core::service::accepting::Preview>, ApiError> {
    let req: SendRequest = parse_json(&body)?;
    Ok(Json(app.services.accepting.preview(&caller, &req).await?))
}
