//! Amazon SES v2 `SendEmail`, and the identities the emulator needs locally.
use super::errors::ROWS;
use crate::common::failure;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage, MessageTag};
use aws_sdk_sesv2::Client;
use herald_core::lazy::OnFirstUse;
use herald_core::{Provider, ProviderFailure};

#[derive(Clone)]
pub struct SesEmail {
    client: OnFirstUse<Client>,
    /// Bounces, complaints and deliveries are published only for mail sent with it.
    configuration_set: Option<String>,
    /// Paces sends to the account's rate (`paced`); None: unpaced.
    pacer: Option<std::sync::Arc<super::Pacer>>,
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
        Self { client: OnFirstUse::ready(client), configuration_set, pacer: None }
    }

    /// Sends paced to the account's `MaxSendRate`, this container taking `1 / share` of it.
    pub fn paced(mut self, share: u32) -> Self {
        self.pacer = Some(std::sync::Arc::new(super::Pacer::new(share)));
        self
    }

    /// `send_client` built with the first email (a container may send none).
    pub fn on_first_use(
        sdk: &aws_config::SdkConfig,
        timeout: std::time::Duration,
        configuration_set: Option<String>,
    ) -> Self {
        let sdk = sdk.clone();
        Self { client: OnFirstUse::new(move || Self::send_client(&sdk, timeout)), configuration_set, pacer: None }
    }

    /// The client `SendEmail` goes through: each call bounded by the provider timeout, and no
    /// SDK retries — the SDK would re-send a timed-out `SendEmail` blindly (a second email);
    /// Herald records the attempt as unknown instead and settles it by the SES events.
    pub fn send_client(sdk: &aws_config::SdkConfig, timeout: std::time::Duration) -> Client {
        use aws_sdk_sesv2::config::{retry::RetryConfig, timeout::TimeoutConfig, Builder};
        let timeouts = TimeoutConfig::builder().operation_attempt_timeout(timeout).operation_timeout(timeout).build();
        Client::from_conf(Builder::from(sdk).retry_config(RetryConfig::disabled()).timeout_config(timeouts).build())
    }

    pub async fn send(&self, e: &Email<'_>) -> Result<String, ProviderFailure> {
        if let Some(pacer) = &self.pacer {
            pacer.wait(&self.client).await;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    /// An endpoint that takes the request and never answers.
    async fn silent_endpoint(requests: Arc<AtomicUsize>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                requests.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    while sock.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_send_email_past_the_timeout_is_unknown_and_never_resent_by_the_sdk() {
        let requests = Arc::new(AtomicUsize::new(0));
        let url = silent_endpoint(requests.clone()).await;
        let sdk = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(aws_sdk_sesv2::config::SharedCredentialsProvider::new(
                aws_sdk_sesv2::config::Credentials::new("k", "s", None, None, "test"),
            ))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let ses = SesEmail::new(SesEmail::send_client(&sdk, std::time::Duration::from_millis(300)), None);
        let mail = Email {
            from: "a@grace.example",
            to: "b@example.com",
            subject: "s",
            text: Some("t"),
            html: None,
            message_id: "msg_1",
            tenant_id: "ten_1",
        };
        let bounded = tokio::time::timeout(std::time::Duration::from_secs(5), ses.send(&mail)).await;
        let failure = bounded.expect("the client's own timeout ends the call").expect_err("no answer");
        assert!(failure.ambiguous, "{failure:?}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(requests.load(Ordering::SeqCst), 1, "one SendEmail, no SDK retry");
    }
}
