//! Sending numbers: registered per tenant (Telnyx numbers are linked to their messaging
//! profile on registration).
use super::purchase::check_field;
use crate::address::E164;
use crate::channel::Channel;
use crate::channel::Provider;
use crate::ids::TenantId;
use crate::ports::{ChannelStore, Clock, NumberStore, ProviderGateway, SecretStore, StoreError};
use crate::service::linking::Linking;
use crate::service::support::channel_secrets;
use crate::service::support::Audit;
use crate::service::{Caller, HeraldError};
use crate::tenant::SendingNumber;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRequest {
    pub phone_number: Option<serde_json::Value>,
    pub provider: Provider,
    #[serde(default)]
    pub messaging_profile_id: Option<serde_json::Value>,
    #[serde(default)]
    pub purchase: Option<bool>,
    /// With `purchase`: buy any number in this (US/Canada) area code.
    #[serde(default)]
    pub area_code: Option<String>,
    #[serde(default)]
    pub daily_cap: Option<u32>,
}

pub struct Numbers {
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) channels: Arc<dyn ChannelStore>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) providers: Arc<dyn ProviderGateway>,
    /// Purchases in flight, claimed per tenant (`buy#+1…`).
    pub(crate) claims: Arc<dyn crate::ports::WhatsappIndex>,
    pub(crate) linking: Arc<Linking>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Points a Twilio number's voice and SMS webhooks at Herald when it is registered.
    pub(crate) voice: Arc<crate::service::voice::Voice>,
    pub(crate) public_url: Option<String>,
}

/// A number just registered: a Telnyx number with its linking state, a Twilio one with
/// whether its webhooks were pointed at Herald.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, serde::Serialize)]
pub struct NumberAdded {
    #[serde(flatten)]
    pub number: SendingNumber,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linking: Option<crate::linking::LinkingView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhooks_pointed: Option<bool>,
}

impl Numbers {
    /// Registers a sending number the tenant proves is in its provider account. A Telnyx
    /// number is linked to the messaging profile now (and by the recovery job if that fails);
    /// the answer carries the linking state.
    pub async fn add_number(&self, caller: &Caller, req: NumberRequest) -> Result<NumberAdded, HeraldError> {
        let tenant = caller.live_tenant()?;
        if let Some(area) = &req.area_code {
            let ok = req.purchase == Some(true) && area.len() == 3 && area.bytes().all(|b| b.is_ascii_digit());
            let message = "three digits, with purchase: true (the number is bought in that area code)";
            check_field(ok, "area_code", message)?;
        }
        if req.purchase == Some(true) && req.provider != Provider::Telnyx {
            return self.buy(caller, tenant, req).await;
        }
        if req.provider == Provider::Telnyx {
            let (phone, profile) = (req.phone_number.as_ref(), req.messaging_profile_id.as_ref());
            let purchase = req.purchase.unwrap_or(false);
            let (number, state) = self
                .linking
                .add_telnyx_number(tenant, (phone, req.area_code.as_deref()), profile, purchase, req.daily_cap)
                .await?;
            let masked = crate::address::mask_phone(&number.phone_number);
            let detail = json!({"phone_number": masked, "provider": "telnyx", "linking": state.status});
            self.audit.record(caller, Some(&tenant.id), "number.add", detail).await;
            return Ok(NumberAdded { number, linking: Some(state.view()), webhooks_pointed: None });
        }
        let e164 = crate::linking::validate_phone(req.phone_number.as_ref())
            .map(E164::from_stored)
            .map_err(|(field, code, message)| HeraldError::validation(field, code, message))?;
        if !self.providers.registers_numbers(req.provider) {
            let message = format!("{} numbers are not registered with Herald", req.provider);
            return Err(HeraldError::validation("provider", "UNSUPPORTED_PROVIDER", message));
        }
        let profile = match &req.messaging_profile_id {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                let message = "messaging_profile_id must be a string";
                return Err(HeraldError::validation("messaging_profile_id", "INVALID_PROFILE_ID_TYPE", message));
            }
        };
        self.prove_in_account(&tenant.id, req.provider, &e164).await?;
        let number = SendingNumber {
            tenant_id: tenant.id.clone(),
            phone_number: e164.to_string(),
            provider: req.provider,
            messaging_profile_id: profile,
            daily_cap: req.daily_cap,
            created_at: self.clock.now(),
        };
        let pointed = self.register(&number).await?;
        let detail = json!({"phone_number": e164.masked(), "provider": req.provider, "webhooks_pointed": pointed});
        self.audit.record(caller, Some(&tenant.id), "number.add", detail).await;
        Ok(NumberAdded { number, linking: None, webhooks_pointed: Some(pointed) })
    }

    /// The number's calls and messages come to Herald (CONTRACT §14), then it is the
    /// tenant's (or `ALREADY_CLAIMED`).
    pub(super) async fn register(&self, number: &SendingNumber) -> Result<bool, HeraldError> {
        if let Some(base) = &self.public_url {
            self.voice.point_number(&number.tenant_id, &number.phone_number, base).await?;
        }
        match self.numbers.save_number(number).await {
            Ok(()) => Ok(self.public_url.is_some()),
            Err(StoreError::Conflict) => Err(claimed()),
            Err(e) => Err(e.into()),
        }
    }

    /// The provider, asked with the tenant's own credentials, has the number in that account.
    async fn prove_in_account(&self, tenant: &TenantId, provider: Provider, e164: &E164) -> Result<(), HeraldError> {
        let Some(cfg) = self.channels.effective_channel(tenant, Channel::Sms).await? else {
            return Err(HeraldError::ChannelNotConfigured(Channel::Sms));
        };
        if cfg.tenant_id.is_platform() {
            // The platform's account holds the operator's numbers too: a tenant gets one of
            // them only by buying it (or the operator assigning it), never by naming it.
            let message =
                "numbers of the platform's account are bought through Herald: POST /v1/numbers with purchase: true";
            return Err(HeraldError::NumberNotInAccount(message.into()));
        }
        let secrets = channel_secrets(self.secrets.as_ref(), &cfg).await?;
        if !secrets.has(provider) {
            return Err(HeraldError::validation(
                "provider",
                "MISSING_CREDENTIALS",
                format!("no {provider} credentials configured"),
            ));
        }
        match self.providers.owns_number(provider, &secrets, e164.as_str()).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                Err(HeraldError::NumberNotInAccount(format!("{} is not in this {provider} account", e164.masked())))
            }
            Err(e) => Err(HeraldError::Unavailable(format!("{provider}: {}", e.message))),
        }
    }

    pub async fn numbers(&self, caller: &Caller) -> Result<Vec<SendingNumber>, HeraldError> {
        Ok(self.numbers.numbers(&caller.tenant()?.id).await?)
    }

    pub async fn delete_number(&self, caller: &Caller, e164: &str) -> Result<(), HeraldError> {
        let tenant = caller.live_tenant()?;
        let e = E164::parse(e164, tenant.default_country.as_deref()).map_err(|_| HeraldError::NotFound)?;
        if !self.numbers.delete_number(&tenant.id, e.as_str()).await? {
            return Err(HeraldError::NotFound);
        }
        self.audit.record(caller, Some(&tenant.id), "number.delete", json!({"phone_number": e.masked()})).await;
        Ok(())
    }
}

pub(crate) fn claimed() -> HeraldError {
    HeraldError::AlreadyClaimed("this number is registered to another tenant".into())
}

impl Numbers {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
        (linking, voice): (Arc<crate::service::linking::Linking>, Arc<crate::service::voice::Voice>),
    ) -> Self {
        Self {
            numbers: a.config.clone(),
            channels: a.config.clone(),
            secrets: a.secrets.clone(),
            providers: a.providers.clone(),
            claims: a.db.clone(),
            linking,
            audit: sh.audit.clone(),
            clock: sh.clock.clone(),
            voice,
            public_url: s.public_url.clone(),
        }
    }
}
