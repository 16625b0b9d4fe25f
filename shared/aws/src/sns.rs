//! Support alerts through SNS. Without a topic, alerts are logged only.
use crate::SetupError;
use async_trait::async_trait;
use aws_sdk_sns::Client;
use herald_core::lazy::OnFirstUse;
use herald_core::ports::{AlertError, Alerts};

#[derive(Clone)]
pub struct SnsAlerts {
    client: OnFirstUse<Client>,
    topic_arn: Option<String>,
}

impl SnsAlerts {
    pub fn new(client: Client, topic_arn: Option<String>) -> Self {
        Self { client: OnFirstUse::ready(client), topic_arn }
    }

    /// The SNS client is built with the first alert (most containers never send one).
    pub fn on_first_use(sdk: &aws_config::SdkConfig, topic_arn: Option<String>) -> Self {
        let sdk = sdk.clone();
        Self { client: OnFirstUse::new(move || Client::new(&sdk)), topic_arn }
    }

    /// Creates (or finds: CreateTopic is idempotent) the topic by name (herald-local).
    pub async fn ensure_topic(client: &Client, name: &str) -> Result<String, SetupError> {
        let out = client.create_topic().name(name).send().await.map_err(|e| format!("create topic {name}: {e:?}"))?;
        out.topic_arn.ok_or_else(|| "no topic arn".into())
    }
}

#[async_trait]
impl Alerts for SnsAlerts {
    async fn alert(&self, subject: &str, message: &serde_json::Value) -> Result<(), AlertError> {
        // The message names the number in full for support; the log line does not.
        tracing::error!(alert = subject, tenant_id = %message.get("tenant_id").and_then(|t| t.as_str()).unwrap_or(""), "support alert");
        let Some(arn) = &self.topic_arn else { return Ok(()) };
        self.client
            .publish()
            .topic_arn(arn)
            .subject(subject.chars().take(99).collect::<String>())
            .message(message.to_string())
            .send()
            .await
            .map_err(|e| AlertError(format!("sns publish: {:?}", e.as_service_error().map(|s| s.to_string()))))?;
        Ok(())
    }
}
