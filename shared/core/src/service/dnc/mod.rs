//! Each tenant's do-not-contact list (CONTRACT §6): phone numbers normalised to E.164,
//! emails lower-cased; a phone entry blocks SMS and WhatsApp alike.
use super::{Caller, HeraldError};
use crate::address::Address;
use crate::guards::DncEntry;
use crate::ids::TenantId;
use crate::ports::{Clock, DncStore, Page};
use crate::tenant::Tenant;
use std::sync::Arc;

pub struct DoNotContact {
    dnc: Arc<dyn DncStore>,
    clock: Arc<dyn Clock>,
    /// Every change is audited with who or what made it (TCPA evidence).
    audit: Arc<super::support::Audit>,
}

/// A DNC reason is short text: at most this many characters.
const MAX_REASON: usize = 200;

fn dnc_address(tenant: &Tenant, raw: &str) -> Result<String, HeraldError> {
    Address::parse(raw, tenant.default_country.as_deref()).map(|a| a.as_str().to_string()).map_err(|_| {
        HeraldError::validation("address", "INVALID_PHONE_NUMBER_FORMAT", "not a valid phone number or email address")
    })
}

impl DoNotContact {
    pub fn new(dnc: Arc<dyn DncStore>, clock: Arc<dyn Clock>, audit: Arc<super::support::Audit>) -> Self {
        Self { dnc, clock, audit }
    }

    pub async fn put(&self, caller: &Caller, raw: &str, reason: Option<String>) -> Result<DncEntry, HeraldError> {
        let tenant = caller.live_tenant()?;
        let address = dnc_address(tenant, raw)?;
        if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON) {
            return Err(HeraldError::validation("reason", "TOO_LONG", format!("at most {MAX_REASON} characters")));
        }
        let reason = reason.unwrap_or_else(|| "MANUAL".into());
        self.add_as(&caller.actor(), &tenant.id, &address, reason, "api").await
    }

    /// Adds a normalised address (from an inbound STOP or a bounce; `source` says which).
    pub async fn add(
        &self,
        tenant: &TenantId,
        address: &str,
        reason: String,
        source: &str,
    ) -> Result<DncEntry, HeraldError> {
        self.add_as(source, tenant, address, reason, source).await
    }

    async fn add_as(
        &self,
        actor: &str,
        tenant: &TenantId,
        address: &str,
        reason: String,
        source: &str,
    ) -> Result<DncEntry, HeraldError> {
        let entry = DncEntry {
            tenant_id: tenant.clone(),
            address: address.to_string(),
            reason,
            source: source.into(),
            created_at: self.clock.now(),
        };
        self.dnc.put_dnc(&entry).await?;
        tracing::info!(tenant_id = %tenant, source, "address added to do-not-contact");
        let detail = serde_json::json!({"address": address, "reason": entry.reason, "source": source});
        self.audit.record_as(actor, Some(tenant), "dnc.add", detail).await;
        Ok(entry)
    }

    /// Takes a normalised address off the list (an inbound START: `source` says which);
    /// false when absent.
    pub async fn remove(&self, tenant: &TenantId, address: &str, source: &str) -> Result<bool, HeraldError> {
        self.remove_as(source, tenant, address, source).await
    }

    async fn remove_as(
        &self,
        actor: &str,
        tenant: &TenantId,
        address: &str,
        source: &str,
    ) -> Result<bool, HeraldError> {
        let removed = self.dnc.delete_dnc(tenant, address).await?;
        if removed {
            tracing::info!(tenant_id = %tenant, source, "address taken off do-not-contact");
            let detail = serde_json::json!({"address": address, "source": source});
            self.audit.record_as(actor, Some(tenant), "dnc.remove", detail).await;
        }
        Ok(removed)
    }

    pub async fn get(&self, caller: &Caller, raw: &str) -> Result<DncEntry, HeraldError> {
        let tenant = caller.tenant()?;
        let address = dnc_address(tenant, raw).map_err(|_| HeraldError::NotFound)?;
        self.dnc.dnc(&tenant.id, &address).await?.ok_or(HeraldError::NotFound)
    }

    pub async fn delete(&self, caller: &Caller, raw: &str) -> Result<(), HeraldError> {
        let tenant = caller.live_tenant()?;
        let address = dnc_address(tenant, raw).map_err(|_| HeraldError::NotFound)?;
        if !self.remove_as(&caller.actor(), &tenant.id, &address, "api").await? {
            return Err(HeraldError::NotFound);
        }
        Ok(())
    }

    pub async fn list(&self, caller: &Caller, limit: u32, cursor: Option<&str>) -> Result<Page<DncEntry>, HeraldError> {
        Ok(self.dnc.list_dnc(&caller.tenant()?.id, limit, cursor).await?)
    }
}
