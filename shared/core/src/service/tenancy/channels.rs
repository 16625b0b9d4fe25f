//! Channel configuration: provider, backup, credentials (to the secret store, never
//! returned or logged) and the WhatsApp routing index.
use super::Identities;
use crate::address::EmailAddress;
use crate::channel::{Channel, Provider};
use crate::ids::TenantId;
use crate::ports::{ChannelStore, Clock, ProviderGateway, SecretStore, StoreError, WhatsappIndex};
use crate::service::support::{channel_secrets, Audit};
use crate::service::{Caller, HeraldError};
use crate::tenant::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum ChannelUpdate {
    Sms(SmsChannel),
    Email(EmailChannel),
    Whatsapp(WhatsappChannel),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsChannel {
    pub provider: Provider,
    #[serde(default)]
    pub backup_provider: Option<Provider>,
    #[serde(default)]
    pub credentials: Credentials,
}

/// Each provider's credentials under its name, in the shape its module reads and checks.
pub type Credentials = std::collections::BTreeMap<Provider, serde_json::Value>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    pub provider: Provider,
    #[serde(default)]
    pub backup_provider: Option<Provider>,
    pub from_address: String,
    #[serde(default)]
    pub credentials: Credentials,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappChannel {
    pub phone_number_id: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
    #[serde(default)]
    pub daily_quota: Option<u32>,
}

/// A channel as `GET /v1/channels` shows it: no secrets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ChannelView {
    pub channel: Channel,
    pub provider: Provider,
    pub backup_provider: Option<Provider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_quota: Option<u32>,
    pub configured_providers: Vec<Provider>,
    pub updated_at: DateTime<Utc>,
}

impl From<ChannelConfig> for ChannelView {
    fn from(c: ChannelConfig) -> Self {
        Self {
            channel: c.channel,
            provider: c.provider,
            backup_provider: c.backup_provider,
            from_address: c.from_address,
            phone_number_id: c.phone_number_id,
            daily_quota: c.daily_quota,
            configured_providers: c.configured_providers,
            updated_at: c.updated_at,
        }
    }
}

pub struct Channels {
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) providers: Arc<dyn ProviderGateway>,
    pub(crate) wa_index: Arc<dyn WhatsappIndex>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) secret_prefix: String,
    pub(crate) identities: Arc<Identities>,
}

impl Channels {
    pub async fn put_channel(&self, caller: &Caller, update: ChannelUpdate) -> Result<ChannelView, HeraldError> {
        let tenant = caller.live_tenant()?.id.clone();
        let parts = ChannelParts::parse(update, self.providers.as_ref())?;
        self.prove(&tenant, &parts).await?;
        self.store(caller, &tenant, parts).await
    }

    pub(super) async fn store(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        parts: ChannelParts,
    ) -> Result<ChannelView, HeraldError> {
        let (channel, provider, backup) = (parts.channel, parts.provider, parts.backup);
        let secret_name = match tenant.is_platform() {
            true => format!("{}/platform/channels/{}", self.secret_prefix, channel),
            false => format!("{}/tenants/{}/channels/{}", self.secret_prefix, tenant, channel),
        };
        let raw = serde_json::to_string(&parts.secrets).map_err(|e| HeraldError::Unavailable(e.to_string()))?;
        self.secrets.put(&secret_name, &raw).await?;
        let configured_providers = Provider::ALL
            .iter()
            .copied()
            .filter(|p| p.serves(channel) && (parts.secrets.has(*p) || *p == Provider::Ses))
            .collect();
        let cfg = ChannelConfig {
            tenant_id: tenant.clone(),
            channel,
            provider,
            backup_provider: backup,
            from_address: parts.from_address,
            phone_number_id: parts.phone_number_id,
            daily_quota: parts.daily_quota,
            configured_providers,
            secret_name,
            updated_at: self.clock.now(),
        };
        self.channels.save_channel(&cfg).await?;
        let detail = json!({"channel": channel, "provider": provider, "backup_provider": backup});
        let audited = (!tenant.is_platform()).then_some(tenant);
        self.audit.record(caller, audited, "channel.put", detail).await;
        Ok(cfg.into())
    }

    /// What the tenant must own before a channel may use it: the sender address (a verified
    /// identity) or the WhatsApp number (reachable with its token, and claimed by none other).
    async fn prove(&self, tenant: &TenantId, parts: &ChannelParts) -> Result<(), HeraldError> {
        self.claim_signing_secrets(tenant, &parts.secrets).await?;
        if let Some(from) = &parts.from_address {
            let address =
                EmailAddress::parse(from).map_err(|_| HeraldError::invalid("from_address is not an email address"))?;
            self.identities.require_verified(tenant, &address).await?;
        }
        let (Some(pnid), Some(verify_token)) = (&parts.phone_number_id, &parts.verify_token) else { return Ok(()) };
        let reachable = self.providers.whatsapp_accessible(&parts.secrets, pnid).await;
        match reachable {
            Ok(true) => {}
            Ok(false) => {
                let message = format!("phone_number_id {pnid} is not accessible with this access token");
                return Err(HeraldError::WhatsappNumberNotAccessible(message));
            }
            Err(e) => return Err(HeraldError::Unavailable(format!("whatsapp: {}", e.message))),
        }
        use sha2::{Digest, Sha256};
        let token_hash = hex::encode(Sha256::digest(verify_token.as_bytes()));
        match self.wa_index.set_whatsapp_index(tenant, pnid, &token_hash).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => {
                Err(HeraldError::AlreadyClaimed(format!("phone_number_id {pnid} is held by another tenant")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `PATCH /v1/channels/{channel}` — switch the primary (runbook: switch to backup).
    pub async fn switch_provider(
        &self,
        caller: &Caller,
        channel: Channel,
        provider: Provider,
        backup: Option<Option<Provider>>,
    ) -> Result<ChannelView, HeraldError> {
        let tenant = caller.live_tenant()?;
        let mut cfg = self.channels.channel(&tenant.id, channel).await?.ok_or(HeraldError::NotFound)?;
        if !provider.serves(channel) || provider == Provider::Simulator {
            return Err(HeraldError::validation(
                "provider",
                "UNSUPPORTED_PROVIDER",
                format!("{provider} does not carry {channel}"),
            ));
        }
        let secrets = channel_secrets(self.secrets.as_ref(), &cfg).await?;
        if !secrets.has(provider) {
            return Err(HeraldError::validation(
                "provider",
                "MISSING_CREDENTIALS",
                format!("no credentials stored for {provider}; PUT the channel with them first"),
            ));
        }
        let previous = cfg.provider;
        cfg.backup_provider = match backup {
            Some(b) => b,
            // Switching to the backup makes the old primary the backup.
            None if cfg.backup_provider == Some(provider) => Some(previous),
            None => cfg.backup_provider,
        };
        cfg.provider = provider;
        if cfg.backup_provider == Some(provider) {
            cfg.backup_provider = None;
        }
        cfg.updated_at = self.clock.now();
        self.channels.save_channel(&cfg).await?;
        tracing::warn!(tenant_id = %tenant.id, channel = %channel, from = %previous, to = %provider, "provider switched by hand");
        self.audit
            .record(
                caller,
                Some(&tenant.id),
                "channel.switch",
                json!({"channel": channel, "from": previous, "to": provider}),
            )
            .await;
        Ok(cfg.into())
    }

    pub async fn channels(&self, caller: &Caller) -> Result<Vec<ChannelView>, HeraldError> {
        let tenant = caller.tenant()?;
        Ok(self.channels.channels(&tenant.id).await?.into_iter().map(Into::into).collect())
    }
}

/// A channel update, checked: its credentials and the providers that will use them.
pub(super) struct ChannelParts {
    channel: Channel,
    provider: Provider,
    backup: Option<Provider>,
    secrets: ChannelSecrets,
    from_address: Option<String>,
    phone_number_id: Option<String>,
    daily_quota: Option<u32>,
    /// WhatsApp: the webhook handshake's token, whose digest routes the number.
    verify_token: Option<String>,
}

impl ChannelParts {
    pub(super) fn parse(update: ChannelUpdate, providers: &dyn ProviderGateway) -> Result<ChannelParts, HeraldError> {
        let parts = match update {
            ChannelUpdate::Sms(s) => {
                let secrets = checked(Channel::Sms, s.credentials, providers)?;
                Self::of(Channel::Sms, s.provider, s.backup_provider, secrets, None, None, None)
            }
            ChannelUpdate::Email(e) => {
                let from = EmailAddress::parse(&e.from_address).map_err(|_| {
                    HeraldError::validation(
                        "from_address",
                        "INVALID_EMAIL",
                        "from_address is not a valid email address",
                    )
                })?;
                let secrets = checked(Channel::Email, e.credentials, providers)?;
                let from_address = Some(from.to_string());
                Self::of(Channel::Email, e.provider, e.backup_provider, secrets, from_address, None, None)
            }
            ChannelUpdate::Whatsapp(w) => Self::whatsapp(w)?,
        };
        parts.check_providers()?;
        Ok(parts)
    }

    fn of(
        channel: Channel,
        provider: Provider,
        backup: Option<Provider>,
        secrets: ChannelSecrets,
        from_address: Option<String>,
        phone_number_id: Option<String>,
        daily_quota: Option<u32>,
    ) -> Self {
        Self { channel, provider, backup, secrets, from_address, phone_number_id, daily_quota, verify_token: None }
    }

    fn whatsapp(w: WhatsappChannel) -> Result<Self, HeraldError> {
        let missing = [&w.access_token, &w.app_secret, &w.verify_token].iter().any(|v| v.is_empty());
        if w.phone_number_id.trim().is_empty() || missing {
            return Err(HeraldError::invalid(
                "phone_number_id, access_token, app_secret and verify_token are required",
            ));
        }
        let credentials =
            json!({"access_token": w.access_token, "app_secret": w.app_secret, "verify_token": w.verify_token});
        let secrets = ChannelSecrets::default().with(Provider::Whatsapp, credentials);
        let (pnid, quota) = (Some(w.phone_number_id), w.daily_quota);
        let mut parts = Self::of(Channel::Whatsapp, Provider::Whatsapp, None, secrets, None, pnid, quota);
        parts.verify_token = Some(w.verify_token);
        Ok(parts)
    }

    /// Each named provider carries the channel and has its credentials.
    fn check_providers(&self) -> Result<(), HeraldError> {
        let channel = self.channel;
        for (field, p) in [("provider", Some(self.provider)), ("backup_provider", self.backup)] {
            let Some(p) = p else { continue };
            if !p.serves(channel) || p == Provider::Simulator {
                let message = format!("{p} does not carry {channel}");
                return Err(HeraldError::validation(field, "UNSUPPORTED_PROVIDER", message));
            }
            if !self.secrets.has(p) {
                let message = format!("credentials for {p} are required");
                return Err(HeraldError::validation("credentials", "MISSING_CREDENTIALS", message));
            }
        }
        if self.backup == Some(self.provider) {
            return Err(HeraldError::validation(
                "backup_provider",
                "INVALID",
                "backup_provider must differ from provider",
            ));
        }
        Ok(())
    }
}

/// The credentials of a channel update, each checked by its provider; a provider that does
/// not carry the channel has none here.
fn checked(
    channel: Channel,
    credentials: Credentials,
    providers: &dyn ProviderGateway,
) -> Result<ChannelSecrets, HeraldError> {
    let mut secrets = ChannelSecrets::default();
    for (provider, raw) in credentials {
        if raw.is_null() {
            continue;
        }
        let field = format!("credentials.{provider}");
        if !provider.serves(channel) || provider == Provider::Simulator {
            let message = format!("{provider} does not carry {channel}");
            return Err(HeraldError::validation(&field, "UNKNOWN_FIELD", message));
        }
        if let Err(p) = providers.check_credentials(provider, &raw) {
            let field = if p.field.is_empty() { field } else { format!("{field}.{}", p.field) };
            check_secret(false, &field, &p.what)?;
        }
        secrets = secrets.with(provider, raw);
    }
    Ok(secrets)
}

/// Empty or malformed credentials are refused at configuration, naming the field.
fn check_secret(ok: bool, field: &str, what: &str) -> Result<(), HeraldError> {
    if ok {
        Ok(())
    } else {
        Err(HeraldError::validation(field, "INVALID_CREDENTIALS", format!("{field} must be {what}")))
    }
}

impl Channels {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        Channels {
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            wa_index: a.db.clone(),
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
            secret_prefix: s.secret_prefix.clone(),
            identities: sh.identities.clone(),
        }
    }
}
