//! SMTP (the email backup) through lettre: STARTTLS to the configured relay (implicit TLS
//! on port 465) with the tenant's credentials. Only a loopback host (a local relay or test
//! sink) may skip TLS.
use super::errors::ROWS;
use crate::common::failure;
use herald_core::ports::{Accepted, Outbound};
use herald_core::{Provider, ProviderFailure};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

fn bad(message: impl Into<String>) -> ProviderFailure {
    failure(Provider::Smtp, ROWS, Some(400), None, message.into(), None)
}

pub async fn send(out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
    let creds = super::credentials::of(out.secrets)?;
    let m = out.message;
    let from: Mailbox =
        out.from.ok_or_else(|| bad("no from_address"))?.parse().map_err(|_| bad("from_address is not a mailbox"))?;
    let to: Mailbox = m.to.parse().map_err(|_| bad("recipient is not a mailbox"))?;
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone().unwrap_or_default())
        .message_id(Some(format!("<{}@herald>", m.id)));
    let email = match (&m.body, &m.html) {
        (Some(text), Some(html)) => builder.multipart(MultiPart::alternative_plain_html(text.clone(), html.clone())),
        (None, Some(html)) => {
            builder.singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone()))
        }
        (text, None) => builder
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text.clone().unwrap_or_default())),
    }
    .map_err(|e| bad(format!("could not build the email: {e}")))?;
    let loopback = matches!(creds.host.as_str(), "localhost" | "127.0.0.1" | "::1");
    let transport = if loopback {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&creds.host)
    } else if creds.port == 465 {
        // Port 465 speaks TLS from the first byte (implicit TLS), not STARTTLS.
        AsyncSmtpTransport::<Tokio1Executor>::relay(&creds.host).map_err(|e| bad(format!("smtp relay: {e}")))?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&creds.host)
            .map_err(|e| bad(format!("smtp relay: {e}")))?
    }
    .port(creds.port)
    .credentials(Credentials::new(creds.username.clone(), creds.password.clone()))
    .timeout(Some(Duration::from_secs(10)))
    .build();
    match transport.send(email).await {
        Ok(resp) => {
            let id = resp.message().collect::<Vec<_>>().join(" ");
            let id = id
                .rsplit(' ')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("smtp_{}", ulid::Ulid::new()));
            Ok(Accepted { provider_message_id: id, delivered: false, linked: false })
        }
        Err(e) => {
            let code = e.status().map(|c| c.to_string());
            if e.is_permanent() {
                Err(failure(Provider::Smtp, ROWS, Some(400), code, "the SMTP server refused the message".into(), None))
            } else {
                // Transient replies (4xx), connection and TLS failures: retry, and count them
                // against the relay's circuit breaker.
                Err(failure(Provider::Smtp, ROWS, None, code, "SMTP relay unavailable".into(), None))
            }
        }
    }
}
