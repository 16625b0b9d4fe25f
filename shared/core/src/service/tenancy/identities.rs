//! Email identities (CONTRACT §12): claimed once across tenants, created at SES with Easy
//! DKIM, refreshed from SES, and required to cover every address a tenant sends from.
use crate::address::EmailAddress;
use crate::identity::{EmailIdentity, IdentityRecord, IdentityStatus};
use crate::ids::TenantId;
use crate::ports::{Clock, EmailIdentities, IdentityStore, StoreError};
use crate::service::support::Audit;
use crate::service::{Caller, HeraldError};
use serde_json::json;
use std::sync::Arc;

pub struct Identities {
    pub(crate) store: Arc<dyn IdentityStore>,
    pub(crate) ses: Arc<dyn EmailIdentities>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Locally the emulator never verifies an identity: `HERALD_SES_ASSUME_VERIFIED`.
    pub(crate) assume_verified: bool,
}

fn parse(raw: &str) -> Result<EmailIdentity, HeraldError> {
    EmailIdentity::parse(raw).map_err(|_| {
        HeraldError::validation("identity", "INVALID_IDENTITY", "identity must be a domain or an email address")
    })
}

fn unavailable(e: impl std::fmt::Display) -> HeraldError {
    HeraldError::Unavailable(e.to_string())
}

impl Identities {
    /// `POST /v1/email/identities`.
    pub async fn create(&self, caller: &Caller, raw: &str) -> Result<IdentityRecord, HeraldError> {
        let tenant = caller.live_tenant()?;
        let identity = parse(raw)?;
        match self.store.claim_identity(&tenant.id, &identity).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(HeraldError::AlreadyClaimed(format!("{identity} is held by another tenant")));
            }
            Err(e) => return Err(e.into()),
        }
        let state = match self.ses.create_identity(&identity).await {
            Ok(s) => s,
            Err(e) => {
                // Nothing at SES: the claim goes back.
                let _ = self.store.release_identity(&tenant.id, &identity).await;
                return Err(unavailable(e));
            }
        };
        let now = self.clock.now();
        let status = self.status(state.status);
        let record = IdentityRecord {
            tenant_id: tenant.id.clone(),
            identity,
            status,
            dkim_records: state.dkim_records,
            created_at: now,
            updated_at: now,
        };
        self.store.save_identity(&record).await?;
        self.audit
            .record(caller, Some(&tenant.id), "email_identity.create", json!({"identity": record.identity}))
            .await;
        Ok(record)
    }

    pub async fn list(&self, caller: &Caller) -> Result<Vec<IdentityRecord>, HeraldError> {
        Ok(self.store.identities(&caller.tenant()?.id).await?)
    }

    /// `GET /v1/email/identities/{identity}`: refreshed from SES.
    pub async fn get(&self, caller: &Caller, raw: &str) -> Result<IdentityRecord, HeraldError> {
        let tenant = caller.tenant()?;
        let identity = parse(raw).map_err(|_| HeraldError::NotFound)?;
        let mut record = self.store.identity(&tenant.id, &identity).await?.ok_or(HeraldError::NotFound)?;
        let state = self.ses.identity_state(&identity).await.map_err(unavailable)?;
        let status = self.status(state.status);
        if status != record.status || state.dkim_records != record.dkim_records {
            record.status = status;
            record.dkim_records = state.dkim_records;
            record.updated_at = self.clock.now();
            self.store.save_identity(&record).await?;
        }
        Ok(record)
    }

    pub async fn delete(&self, caller: &Caller, raw: &str) -> Result<(), HeraldError> {
        let tenant = caller.live_tenant()?;
        let identity = parse(raw).map_err(|_| HeraldError::NotFound)?;
        if !self.store.delete_identity(&tenant.id, &identity).await? {
            return Err(HeraldError::NotFound);
        }
        self.store.release_identity(&tenant.id, &identity).await?;
        self.audit.record(caller, Some(&tenant.id), "email_identity.delete", json!({"identity": identity})).await;
        Ok(())
    }

    /// `address` is covered by a verified identity of the tenant (its own, or its domain's).
    pub async fn require_verified(&self, tenant: &TenantId, address: &EmailAddress) -> Result<(), HeraldError> {
        for identity in EmailIdentity::covering(address) {
            if let Some(r) = self.store.identity(tenant, &identity).await? {
                if r.status == IdentityStatus::Verified || self.verified_now(&r).await? {
                    return Ok(());
                }
            }
        }
        Err(HeraldError::IdentityNotVerified(format!(
            "{address} is not covered by a verified email identity of this tenant"
        )))
    }

    /// A pending identity may have been verified at SES since it was last read.
    async fn verified_now(&self, record: &IdentityRecord) -> Result<bool, HeraldError> {
        if record.status != IdentityStatus::Pending {
            return Ok(false);
        }
        let state = self.ses.identity_state(&record.identity).await.map_err(unavailable)?;
        let status = self.status(state.status);
        if status != record.status {
            let updated = IdentityRecord { status, updated_at: self.clock.now(), ..record.clone() };
            self.store.save_identity(&updated).await?;
        }
        Ok(status == IdentityStatus::Verified)
    }

    fn status(&self, at_provider: IdentityStatus) -> IdentityStatus {
        match at_provider {
            IdentityStatus::Pending if self.assume_verified => IdentityStatus::Verified,
            other => other,
        }
    }
}
