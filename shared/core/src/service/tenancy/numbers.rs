//! Sending numbers: registered per tenant (Telnyx numbers are linked to their messaging
//! profile on registration).
use crate::address::E164;
use crate::channel::Provider;
use crate::ports::{Clock, NumberStore, StoreError};
use crate::service::linking::Linking;
use crate::service::support::Audit;
use crate::service::{Caller, HeraldError};
use crate::tenant::SendingNumber;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

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

pub struct Numbers {
    pub(crate) numbers: Arc<dyn NumberStore>,
    pub(crate) linking: Arc<Linking>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Numbers {
    /// Registers a sending number. A Telnyx number is linked to the messaging profile now
    /// (and by the recovery job if that fails); the answer carries the linking state.
    pub async fn add_number(&self, caller: &Caller, req: NumberRequest) -> Result<serde_json::Value, HeraldError> {
        let tenant = caller.tenant()?;
        if req.provider == Provider::Telnyx {
            let (number, state) = self
                .linking
                .add_telnyx_number(
                    tenant,
                    req.phone_number.as_ref(),
                    req.messaging_profile_id.as_ref(),
                    req.purchase.unwrap_or(false),
                    req.daily_cap,
                )
                .await?;
            self.audit.record(caller, Some(&tenant.id), "number.add", json!({"phone_number": crate::address::mask_phone(&number.phone_number), "provider": "telnyx", "linking": state.status})).await;
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
            created_at: self.clock.now(),
        };
        match self.numbers.save_number(&number).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(HeraldError::Conflict("this number is registered to another tenant".into()))
            }
            Err(e) => return Err(e.into()),
        }
        self.audit
            .record(
                caller,
                Some(&tenant.id),
                "number.add",
                json!({"phone_number": e164.masked(), "provider": req.provider}),
            )
            .await;
        Ok(serde_json::to_value(&number).unwrap_or_default())
    }

    pub async fn numbers(&self, caller: &Caller) -> Result<Vec<SendingNumber>, HeraldError> {
        Ok(self.numbers.numbers(&caller.tenant()?.id).await?)
    }

    pub async fn delete_number(&self, caller: &Caller, e164: &str) -> Result<(), HeraldError> {
        let tenant = caller.tenant()?;
        let e = E164::parse(e164, tenant.default_country.as_deref()).map_err(|_| HeraldError::NotFound)?;
        if !self.numbers.delete_number(&tenant.id, e.as_str()).await? {
            return Err(HeraldError::NotFound);
        }
        self.audit.record(caller, Some(&tenant.id), "number.delete", json!({"phone_number": e.masked()})).await;
        Ok(())
    }
}
