//! Secrets Manager adapter: channel credentials and the admin key.
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use herald_core::ports::{SecretStore, StoreError, StoreResult};

#[derive(Clone)]
pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

fn unavailable<E: std::fmt::Debug>(e: E) -> StoreError {
    // The error text never includes secret values; keep it short anyway.
    let text = format!("{e:?}");
    tracing::error!(error = %text.chars().take(300).collect::<String>(), "secrets manager call failed");
    StoreError::Unavailable("secretsmanager".into())
}

#[async_trait]
impl SecretStore for SecretsManager {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => Ok(out.secret_string),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        match self.client.put_secret_value().secret_id(name).secret_string(value).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
                self.client.create_secret().name(name).secret_string(value).send().await.map_err(unavailable)?;
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
