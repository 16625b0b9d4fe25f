//! Tenants, keys, channels, numbers and reading messages back.
use super::{Caller, Herald, HeraldError};
use crate::address::{EmailAddress, E164};
use crate::channel::{Channel, Provider};
use crate::ids::{KeyId, KeyMode, MessageId, NewApiKey, TenantId};
use crate::message::Message;
use crate::ports::{MessageFilter, Page, StoreError};
use crate::tenant::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub default_country: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    #[serde(default)]
    pub daily_budget_cents: Option<u64>,
    #[serde(default)]
    pub monthly_budget_cents: Option<u64>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default)]
    pub help_text: Option<String>,
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub default_country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(default, deserialize_with = "double_option")]
    pub daily_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub monthly_budget_cents: Option<Option<u64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub rate_limit_per_minute: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    pub help_text: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantCreated {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub api_key: String,
    pub api_key_id: KeyId,
    pub test_api_key: String,
    pub test_api_key_id: KeyId,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyCreated {
    pub key_id: KeyId,
    pub api_key: String,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
}

/// The body of `PUT /v1/channels/{channel}`; the shape depends on the channel.
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
    pub credentials: SmsCredentials,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsCredentials {
    #[serde(default)]
    pub twilio: Option<TwilioCredentials>,
    #[serde(default)]
    pub telnyx: Option<TelnyxCredentials>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    pub provider: Provider,
    #[serde(default)]
    pub backup_provider: Option<Provider>,
    pub from_address: String,
    #[serde(default)]
    pub credentials: EmailCredentials,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailCredentials {
    #[serde(default)]
    pub smtp: Option<SmtpCredentials>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRequest {
    pub phone_number: Option<serde_json::Value>,
    pub provider: Provider,
    #[serde(default)]
    pub messaging_profile_id: Option<serde_json::Value>,
    #[serde(default)]
    pub purchase: Option<bool>,
    #[serde(default)]
    pub daily_cap: Option<u32>,
}

fn tenant_of(caller: &Caller) -> Result<&Tenant, HeraldError> {
    match caller {
        Caller::Tenant { tenant, .. } => Ok(tenant),
        Caller::Admin => Err(HeraldError::Forbidden),
    }
}

fn require_admin(caller: &Caller) -> Result<(), HeraldError> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Tenant { .. } => Err(HeraldError::Forbidden),
    }
}

fn check_settings(t: &Tenant) -> Result<(), HeraldError> {
    if t.name.trim().is_empty() || t.name.len() > 200 {
        return Err(HeraldError::validation("name", "REQUIRED", "name must be 1 to 200 characters"));
    }
    if t.timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(HeraldError::validation(
            "timezone",
            "INVALID_TIMEZONE",
            "timezone must be an IANA zone such as America/Chicago",
        ));
    }
    if let Some(c) = &t.default_country {
        if c.len() != 2 || c.to_ascii_uppercase().parse::<phonenumber::country::Id>().is_err() {
            return Err(HeraldError::validation(
                "default_country",
                "INVALID_COUNTRY",
                "default_country must be an ISO 3166 alpha-2 code",
            ));
        }
    }
    if let Some(q) = &t.quiet_hours {
        if q.bounds().is_none() {
            return Err(HeraldError::validation("quiet_hours", "INVALID_TIME", "quiet_hours start and end are HH:MM"));
        }
    }
    if t.rate_limit_per_minute == Some(0) {
        return Err(HeraldError::validation(
            "rate_limit_per_minute",
            "INVALID",
            "rate_limit_per_minute must be positive",
        ));
    }
    Ok(())
}

impl Herald {
    pub async fn create_tenant(&self, caller: &Caller, req: NewTenant) -> Result<TenantCreated, HeraldError> {
        require_admin(caller)?;
        let now = self.now();
        let tenant = Tenant {
            id: TenantId::generate(),
            name: req.name,
            timezone: req.timezone,
            default_country: req.default_country.map(|c| c.to_ascii_uppercase()),
            quiet_hours: req.quiet_hours,
            daily_budget_cents: req.daily_budget_cents,
            monthly_budget_cents: req.monthly_budget_cents,
            rate_limit_per_minute: req.rate_limit_per_minute,
            paused: None,
            help_text: req.help_text,
            callback_secret: Some(format!("whsec_{}", NewApiKey::generate(KeyMode::Live).hash)),
            created_at: now,
            updated_at: now,
        };
        check_settings(&tenant)?;
        let live = NewApiKey::generate(KeyMode::Live);
        let test = NewApiKey::generate(KeyMode::Test);
        let record = |k: &NewApiKey| ApiKeyRecord {
            key_id: k.key_id.clone(),
            tenant_id: tenant.id.clone(),
            hash: k.hash.clone(),
            mode: k.mode,
            created_at: now,
        };
        self.ports.tenants.insert_tenant(&tenant, &[record(&live), record(&test)]).await?;
        self.audit(caller, Some(&tenant.id), "tenant.create", json!({"name": tenant.name})).await;
        Ok(TenantCreated {
            tenant,
            api_key: live.secret,
            api_key_id: live.key_id,
            test_api_key: test.secret,
            test_api_key_id: test.key_id,
        })
    }

    pub async fn tenant_by_id(&self, caller: &Caller, id: &str) -> Result<Tenant, HeraldError> {
        require_admin(caller)?;
        let id = TenantId::parse(id).ok_or(HeraldError::NotFound)?;
        self.ports.tenants.tenant(&id).await?.ok_or(HeraldError::NotFound)
    }

    /// `PATCH /v1/admin/tenants/{id}` (admin) and `PATCH /v1/tenant` (the tenant itself).
    pub async fn patch_tenant(
        &self,
        caller: &Caller,
        id: Option<&str>,
        patch: TenantPatch,
    ) -> Result<Tenant, HeraldError> {
        let mut t = match id {
            Some(id) => self.tenant_by_id(caller, id).await?,
            None => self.ports.tenants.tenant(&tenant_of(caller)?.id).await?.ok_or(HeraldError::NotFound)?,
        };
        if let Some(v) = patch.name {
            t.name = v
        }
        if let Some(v) = patch.timezone {
            t.timezone = v
        }
        if let Some(v) = patch.default_country {
            t.default_country = v.map(|c| c.to_ascii_uppercase())
        }
        if let Some(v) = patch.quiet_hours {
            t.quiet_hours = v
        }
        if let Some(v) = patch.daily_budget_cents {
            t.daily_budget_cents = v
        }
        if let Some(v) = patch.monthly_budget_cents {
            t.monthly_budget_cents = v
        }
        if let Some(v) = patch.rate_limit_per_minute {
            t.rate_limit_per_minute = v
        }
        if let Some(v) = patch.help_text {
            t.help_text = v
        }
        check_settings(&t)?;
        t.updated_at = self.now();
        self.ports.tenants.save_tenant(&t).await?;
        self.audit(caller, Some(&t.id), "tenant.update", serde_json::to_value(&t).unwrap_or_default()).await;
        Ok(t)
    }

    pub async fn own_tenant(&self, caller: &Caller) -> Result<Tenant, HeraldError> {
        let t = tenant_of(caller)?;
        self.ports.tenants.tenant(&t.id).await?.ok_or(HeraldError::NotFound)
    }

    pub async fn create_key(&self, caller: &Caller, tenant_id: &str, mode: KeyMode) -> Result<KeyCreated, HeraldError> {
        let tenant = self.tenant_by_id(caller, tenant_id).await?;
        let key = NewApiKey::generate(mode);
        let now = self.now();
        self.ports
            .tenants
            .insert_key(&ApiKeyRecord {
                key_id: key.key_id.clone(),
                tenant_id: tenant.id.clone(),
                hash: key.hash,
                mode,
                created_at: now,
            })
            .await?;
        self.audit(caller, Some(&tenant.id), "key.create", json!({"key_id": key.key_id, "mode": mode})).await;
        Ok(KeyCreated { key_id: key.key_id, api_key: key.secret, mode, created_at: now })
    }

    pub async fn delete_key(&self, caller: &Caller, tenant_id: &str, key_id: &str) -> Result<(), HeraldError> {
        let tenant = self.tenant_by_id(caller, tenant_id).await?;
        let key_id = KeyId::parse(key_id).ok_or(HeraldError::NotFound)?;
        if !self.ports.tenants.delete_key(&tenant.id, &key_id).await? {
            return Err(HeraldError::NotFound);
        }
        self.audit(caller, Some(&tenant.id), "key.delete", json!({"key_id": key_id})).await;
        Ok(())
    }

    pub async fn put_channel(&self, caller: &Caller, update: ChannelUpdate) -> Result<ChannelView, HeraldError> {
        let tenant = tenant_of(caller)?;
        let now = self.now();
        let (channel, provider, backup, secrets, from_address, phone_number_id, daily_quota) = match update {
            ChannelUpdate::Sms(s) => {
                let secrets =
                    ChannelSecrets { twilio: s.credentials.twilio, telnyx: s.credentials.telnyx, ..Default::default() };
                if let Some(t) = &secrets.telnyx {
                    if let Some(k) = &t.webhook_public_key {
                        use base64::Engine;
                        let ok = base64::engine::general_purpose::STANDARD.decode(k).is_ok_and(|b| b.len() == 32);
                        if !ok {
                            return Err(HeraldError::validation(
                                "credentials.telnyx.webhook_public_key",
                                "INVALID_KEY",
                                "webhook_public_key must be a base64 Ed25519 public key (32 bytes)",
                            ));
                        }
                    }
                }
                (Channel::Sms, s.provider, s.backup_provider, secrets, None, None, None)
            }
            ChannelUpdate::Email(e) => {
                let from = EmailAddress::parse(&e.from_address).map_err(|_| {
                    HeraldError::validation(
                        "from_address",
                        "INVALID_EMAIL",
                        "from_address is not a valid email address",
                    )
                })?;
                let secrets = ChannelSecrets { smtp: e.credentials.smtp, ..Default::default() };
                (Channel::Email, e.provider, e.backup_provider, secrets, Some(from.to_string()), None, None)
            }
            ChannelUpdate::Whatsapp(w) => {
                if w.phone_number_id.trim().is_empty()
                    || w.access_token.is_empty()
                    || w.app_secret.is_empty()
                    || w.verify_token.is_empty()
                {
                    return Err(HeraldError::invalid(
                        "phone_number_id, access_token, app_secret and verify_token are required",
                    ));
                }
                let secrets = ChannelSecrets {
                    whatsapp: Some(WhatsappCredentials {
                        access_token: w.access_token,
                        app_secret: w.app_secret,
                        verify_token: w.verify_token,
                    }),
                    ..Default::default()
                };
                (Channel::Whatsapp, Provider::Whatsapp, None, secrets, None, Some(w.phone_number_id), w.daily_quota)
            }
        };
        for (field, p) in [("provider", Some(provider)), ("backup_provider", backup)] {
            let Some(p) = p else { continue };
            if !p.serves(channel) || p == Provider::Simulator {
                return Err(HeraldError::validation(
                    field,
                    "UNSUPPORTED_PROVIDER",
                    format!("{p} does not carry {channel}"),
                ));
            }
            if !secrets.has(p) {
                return Err(HeraldError::validation(
                    "credentials",
                    "MISSING_CREDENTIALS",
                    format!("credentials for {p} are required"),
                ));
            }
        }
        if backup == Some(provider) {
            return Err(HeraldError::validation(
                "backup_provider",
                "INVALID",
                "backup_provider must differ from provider",
            ));
        }
        let secret_name = format!("{}/tenants/{}/channels/{}", self.settings.secret_prefix, tenant.id, channel);
        let raw = serde_json::to_string(&secrets).map_err(|e| HeraldError::Unavailable(e.to_string()))?;
        self.ports.secrets.put(&secret_name, &raw).await?;
        let configured_providers =
            [Provider::Twilio, Provider::Telnyx, Provider::Ses, Provider::Smtp, Provider::Whatsapp]
                .into_iter()
                .filter(|p| {
                    p.serves(channel)
                        && (secrets.has(*p) && *p != Provider::Ses || *p == Provider::Ses && channel == Channel::Email)
                })
                .collect();
        let cfg = ChannelConfig {
            tenant_id: tenant.id.clone(),
            channel,
            provider,
            backup_provider: backup,
            from_address,
            phone_number_id,
            daily_quota,
            configured_providers,
            secret_name,
            updated_at: now,
        };
        if let Some(from) = &cfg.from_address {
            if provider == Provider::Ses || backup == Some(Provider::Ses) {
                if let Err(e) = self.ports.providers.prepare_email_identity(from).await {
                    tracing::warn!(error = %e, "could not prepare the SES identity");
                }
            }
        }
        if let (Some(pnid), Some(wa)) = (&cfg.phone_number_id, &secrets.whatsapp) {
            use sha2::{Digest, Sha256};
            let token_hash = hex::encode(Sha256::digest(wa.verify_token.as_bytes()));
            self.ports.events.set_whatsapp_index(&tenant.id, pnid, &token_hash).await?;
        }
        self.ports.tenants.save_channel(&cfg).await?;
        self.audit(
            caller,
            Some(&tenant.id),
            "channel.put",
            json!({"channel": channel, "provider": provider, "backup_provider": backup}),
        )
        .await;
        Ok(cfg.into())
    }

    /// `PATCH /v1/channels/{channel}` — switch the primary (runbook: switch to backup).
    pub async fn switch_provider(
        &self,
        caller: &Caller,
        channel: Channel,
        provider: Provider,
        backup: Option<Option<Provider>>,
    ) -> Result<ChannelView, HeraldError> {
        let tenant = tenant_of(caller)?;
        let mut cfg = self.ports.tenants.channel(&tenant.id, channel).await?.ok_or(HeraldError::NotFound)?;
        if !provider.serves(channel) || provider == Provider::Simulator {
            return Err(HeraldError::validation(
                "provider",
                "UNSUPPORTED_PROVIDER",
                format!("{provider} does not carry {channel}"),
            ));
        }
        let secrets = self.channel_secrets(&cfg).await?;
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
        cfg.updated_at = self.now();
        self.ports.tenants.save_channel(&cfg).await?;
        tracing::warn!(tenant_id = %tenant.id, channel = %channel, from = %previous, to = %provider, "provider switched by hand");
        self.audit(
            caller,
            Some(&tenant.id),
            "channel.switch",
            json!({"channel": channel, "from": previous, "to": provider}),
        )
        .await;
        Ok(cfg.into())
    }

    pub async fn channels(&self, caller: &Caller) -> Result<Vec<ChannelView>, HeraldError> {
        let tenant = tenant_of(caller)?;
        Ok(self.ports.tenants.channels(&tenant.id).await?.into_iter().map(Into::into).collect())
    }

    /// Registers a sending number. A Telnyx number is linked to the messaging profile now
    /// (and by the recovery job if that fails); the answer carries the linking state.
    pub async fn add_number(&self, caller: &Caller, req: NumberRequest) -> Result<serde_json::Value, HeraldError> {
        let tenant = tenant_of(caller)?;
        if req.provider == Provider::Telnyx {
            let (number, state) = self
                .add_telnyx_number(
                    tenant,
                    req.phone_number.as_ref(),
                    req.messaging_profile_id.as_ref(),
                    req.purchase.unwrap_or(false),
                    req.daily_cap,
                )
                .await?;
            self.audit(caller, Some(&tenant.id), "number.add", json!({"phone_number": crate::address::mask_phone(&number.phone_number), "provider": "telnyx", "linking": state.status})).await;
            let mut v = serde_json::to_value(&number).unwrap_or_default();
            v["linking"] = state.view();
            return Ok(v);
        }
        let e164 = crate::linking::validate_phone(req.phone_number.as_ref())
            .map(E164::from_stored)
            .map_err(|(field, code, message)| HeraldError::validation(field, code, message))?;
        if req.provider != Provider::Twilio {
            return Err(HeraldError::validation("provider", "UNSUPPORTED_PROVIDER", "numbers are twilio or telnyx"));
        }
        let profile = match &req.messaging_profile_id {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(HeraldError::validation(
                    "messaging_profile_id",
                    "INVALID_PROFILE_ID_TYPE",
                    "messaging_profile_id must be a string",
                ))
            }
        };
        let number = SendingNumber {
            tenant_id: tenant.id.clone(),
            phone_number: e164.to_string(),
            provider: req.provider,
            messaging_profile_id: profile,
            daily_cap: req.daily_cap,
            created_at: self.now(),
        };
        match self.ports.tenants.save_number(&number).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(HeraldError::Conflict("this number is registered to another tenant".into()))
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            caller,
            Some(&tenant.id),
            "number.add",
            json!({"phone_number": e164.masked(), "provider": req.provider}),
        )
        .await;
        Ok(serde_json::to_value(&number).unwrap_or_default())
    }

    pub async fn numbers(&self, caller: &Caller) -> Result<Vec<SendingNumber>, HeraldError> {
        Ok(self.ports.tenants.numbers(&tenant_of(caller)?.id).await?)
    }

    pub async fn delete_number(&self, caller: &Caller, e164: &str) -> Result<(), HeraldError> {
        let tenant = tenant_of(caller)?;
        let e = E164::parse(e164, tenant.default_country.as_deref()).map_err(|_| HeraldError::NotFound)?;
        if !self.ports.tenants.delete_number(&tenant.id, e.as_str()).await? {
            return Err(HeraldError::NotFound);
        }
        self.audit(caller, Some(&tenant.id), "number.delete", json!({"phone_number": e.masked()})).await;
        Ok(())
    }

    /// Another tenant's message answers exactly as a missing one does.
    pub async fn message(&self, caller: &Caller, id: &str) -> Result<Message, HeraldError> {
        let tenant = tenant_of(caller)?;
        let id = MessageId::parse(id).ok_or(HeraldError::NotFound)?;
        match self.ports.messages.message(&id).await? {
            Some(m) if m.tenant_id == tenant.id => Ok(m),
            _ => Err(HeraldError::NotFound),
        }
    }

    pub async fn messages(
        &self,
        caller: &Caller,
        filter: MessageFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Message>, HeraldError> {
        let tenant = tenant_of(caller)?;
        Ok(self.ports.messages.list(&tenant.id, &filter, limit.clamp(1, 100), cursor).await?)
    }
}
