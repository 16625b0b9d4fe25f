//! The `ProviderGateway` port: routes a send to the HTTP providers, SES, or the built-in
//! simulator used by test keys.
use async_trait::async_trait;
use herald_aws::ses::{Email, SesEmail};
use herald_core::ports::{Accepted, Outbound, ProviderGateway};
use herald_core::{Provider, ProviderFailure};
use herald_providers::HttpProviders;

pub struct Gateway {
    pub http: HttpProviders,
    pub ses: SesEmail,
    pub create_identities: bool,
}

#[async_trait]
impl ProviderGateway for Gateway {
    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        match out.provider {
            Provider::Twilio | Provider::Telnyx | Provider::Whatsapp | Provider::Smtp => self.http.send(out).await,
            Provider::Ses => {
                let m = out.message;
                let from =
                    out.from.ok_or_else(|| ProviderFailure::transport(Provider::Ses, "no from_address configured"))?;
                let id = self
                    .ses
                    .send(&Email {
                        from,
                        to: &m.to,
                        subject: m.subject.as_deref().unwrap_or_default(),
                        text: m.body.as_deref(),
                        html: m.html.as_deref(),
                        message_id: m.id.as_str(),
                        tenant_id: m.tenant_id.as_str(),
                    })
                    .await?;
                Ok(Accepted { provider_message_id: id, delivered: false })
            }
            // Test keys: the whole pipeline runs, no provider is called, delivery is recorded.
            Provider::Simulator => Ok(Accepted {
                provider_message_id: format!("sim_{}", ulid::Ulid::new().to_string().to_lowercase()),
                delivered: true,
            }),
        }
    }

    async fn lookup(
        &self,
        out: &Outbound<'_>,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<herald_core::ports::Lookup, ProviderFailure> {
        match out.provider {
            Provider::Twilio => self.http.twilio_lookup(out, since).await,
            _ => Ok(herald_core::ports::Lookup::Unsupported),
        }
    }

    async fn prepare_email_identity(&self, from: &str) -> Result<(), String> {
        if self.create_identities {
            self.ses.ensure_identity(from).await
        } else {
            Ok(())
        }
    }
}
