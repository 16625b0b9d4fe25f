//! Amazon SES v2 `SendEmail`, and the identities the emulator needs locally.
use super::errors::ROWS;
use crate::common::failure;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage, MessageTag};
use aws_sdk_sesv2::Client;
use herald_core::{Provider, ProviderFailure};

#[derive(Clone)]
pub struct SesEmail {
    client: Client,
    /// Bounces, complaints and deliveries are published only for mail sent with it.
    configuration_set: Option<String>,
}

pub struct Email<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: Option<&'a str>,
    pub html: Option<&'a str>,
    pub message_id: &'a str,
    pub tenant_id: &'a str,
}

impl SesEmail {
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        Self { client, configuration_set }
    }

    pub async fn send(&self, e: &Email<'_>) -> Result<String, ProviderFailure> {
        let content = |s: &str| Content::builder().data(s).charset("UTF-8").build();
        let mut body = Body::builder();
        if let Some(t) = e.text {
            body = body.text(content(t).map_err(|x| ProviderFailure::transport(Provider::Ses, x.to_string()))?);
        }
        if let Some(h) = e.html {
            body = body.html(content(h).map_err(|x| ProviderFailure::transport(Provider::Ses, x.to_string()))?);
        }
        let subject = content(e.subject).map_err(|x| ProviderFailure::transport(Provider::Ses, x.to_string()))?;
        let tag = |k: &str, v: &str| MessageTag::builder().name(k).value(v).build().ok();
        let out = self
            .client
            .send_email()
            .set_configuration_set_name(self.configuration_set.clone())
            .from_email_address(e.from)
            .destination(Destination::builder().to_addresses(e.to).build())
            .content(
                EmailContent::builder()
                    .simple(SesMessage::builder().subject(subject).body(body.build()).build())
                    .build(),
            )
            .set_email_tags(Some(
                [tag("herald_message_id", e.message_id), tag("herald_tenant_id", e.tenant_id)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ))
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.message_id.unwrap_or_default()),
            // Sent, but no answer in time (or a broken answer): SES may have the mail.
            Err(err @ (SdkError::TimeoutError(_) | SdkError::ResponseError(_))) => {
                tracing::warn!(error = ?err, "SES SendEmail outcome unknown");
                Err(ProviderFailure::ambiguous(Provider::Ses, "SES timeout after the request was sent"))
            }
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                let code = err
                    .as_service_error()
                    .and_then(|s| aws_sdk_sesv2::error::ProvideErrorMetadata::code(s).map(str::to_string));
                let message = err
                    .as_service_error()
                    .and_then(|s| aws_sdk_sesv2::error::ProvideErrorMetadata::message(s).map(str::to_string));
                let message = message.unwrap_or_else(|| "SES call failed".into());
                Err(failure(Provider::Ses, ROWS, status, code, message, None))
            }
        }
    }
}
