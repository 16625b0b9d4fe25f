//! Buying a number (`POST /v1/numbers` with `purchase: true`, CONTRACT §15): into the
//! tenant's own provider account, or the platform's when the tenant has none, then
//! registered to the tenant. A purchase whose answer never came is not repeated blindly.
use super::numbers::{NumberAdded, NumberRequest, Numbers};
use crate::channel::Channel;
use crate::service::support::channel_secrets;
use crate::service::{Caller, HeraldError};
use crate::tenant::{SendingNumber, Tenant};
use crate::ProviderFailure;
use serde_json::json;

pub(super) fn check_field(ok: bool, field: &str, message: &str) -> Result<(), HeraldError> {
    if ok {
        return Ok(());
    }
    Err(HeraldError::validation(field, "INVALID", message))
}

fn bought_failure(e: ProviderFailure, number: &str) -> HeraldError {
    if e.ambiguous {
        return HeraldError::Unavailable(format!(
            "{}: the purchase of {number} got no answer and may have gone through; retry with \"phone_number\": \"{number}\" (it is not bought twice)",
            e.provider
        ));
    }
    match e.http_status {
        Some(409) => HeraldError::AlreadyClaimed(format!(
            "{} is not for sale: it is the account's own",
            crate::address::mask_phone(number)
        )),
        Some(400 | 404 | 422) => {
            HeraldError::validation("phone_number", "NOT_AVAILABLE", format!("{}: {}", e.provider, e.message))
        }
        _ => HeraldError::Unavailable(format!("{}: {}", e.provider, e.message)),
    }
}

impl Numbers {
    /// `purchase: true` for a provider Herald buys from: the number named, or the first for
    /// sale in the area code; claimed for the tenant before the provider is asked, so a retry
    /// after a lost answer finishes the same purchase instead of buying another.
    pub(super) async fn buy(
        &self,
        caller: &Caller,
        tenant: &Tenant,
        req: NumberRequest,
    ) -> Result<NumberAdded, HeraldError> {
        if !self.providers.registers_numbers(req.provider) {
            let message = format!("{} numbers are not bought through Herald", req.provider);
            return Err(HeraldError::validation("provider", "UNSUPPORTED_PROVIDER", message));
        }
        let named = match req.phone_number.as_ref().filter(|p| !p.is_null()) {
            Some(p) => Some(
                crate::linking::validate_phone(Some(p)).map_err(|(f, code, m)| HeraldError::validation(f, code, m))?,
            ),
            None => None,
        };
        check_field(
            named.is_some() || req.area_code.is_some(),
            "area_code",
            "a phone_number or an area_code to buy in",
        )?;
        let cfg = self.channels.effective_channel(&tenant.id, Channel::Sms).await?;
        let cfg = cfg.ok_or(HeraldError::ChannelNotConfigured(Channel::Sms))?;
        let secrets = channel_secrets(self.secrets.as_ref(), &cfg).await?;
        if !secrets.has(req.provider) {
            let message = format!(
                "no {} account to buy from: configure the channel, or ask the operator for platform credentials",
                req.provider
            );
            return Err(HeraldError::validation("provider", "MISSING_CREDENTIALS", message));
        }
        let number = match (named, req.area_code.as_deref()) {
            (Some(n), _) => n,
            (None, area) => self.for_sale(req.provider, &secrets, area.unwrap_or_default()).await?,
        };
        // Never buy a number another tenant holds; a purchase is one tenant's.
        if self.numbers.number(&number).await?.is_some_and(|x| x.tenant_id != tenant.id) {
            return Err(super::claimed());
        }
        let key = format!("buy#{number}");
        let retry = match self.claims.claim(&tenant.id, &key).await {
            Ok(first) => !first,
            Err(crate::ports::StoreError::Conflict) => return Err(super::claimed()),
            Err(e) => return Err(e.into()),
        };
        let e164 = match self.providers.buy_number(req.provider, &secrets, &number, retry).await {
            Ok(e164) => e164,
            // A sure refusal gives the claim up: only a lost answer is finished by a retry.
            Err(e) if !e.ambiguous => {
                self.claims.release(&tenant.id, &key).await?;
                return Err(bought_failure(e, &number));
            }
            Err(e) => return Err(bought_failure(e, &number)),
        };
        let number = SendingNumber {
            tenant_id: tenant.id.clone(),
            phone_number: e164.clone(),
            provider: req.provider,
            messaging_profile_id: None,
            daily_cap: req.daily_cap,
            created_at: self.clock.now(),
        };
        let pointed = self.register(&number).await?;
        let platform = cfg.tenant_id.is_platform();
        let detail = json!({"phone_number": crate::address::mask_phone(&e164), "provider": req.provider, "platform_account": platform});
        self.audit.record(caller, Some(&tenant.id), "number.purchase", detail).await;
        Ok(NumberAdded { number, linking: None, webhooks_pointed: Some(pointed) })
    }

    async fn for_sale(
        &self,
        provider: crate::Provider,
        secrets: &crate::tenant::ChannelSecrets,
        area: &str,
    ) -> Result<String, HeraldError> {
        match self.providers.available_number(provider, secrets, area).await {
            Ok(Some(n)) => Ok(n),
            Ok(None) => Err(HeraldError::validation(
                "area_code",
                "NO_NUMBER_AVAILABLE",
                format!("no number is available in area code {area}; try a neighbouring one"),
            )),
            Err(e) => Err(HeraldError::Unavailable(format!("{}: number search failed: {}", e.provider, e.message))),
        }
    }
}
