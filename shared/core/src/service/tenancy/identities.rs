//! Email identities (CONTRACT §12): claimed once across tenants, created at SES with Easy
//! DKIM, refreshed from SES, and required to cover every address a tenant sends from.
use crate::address::EmailAddress;
use crate::identity::{EmailIdentity, IdentityRecord, IdentityStatus};
use crate::ids::TenantId;
use crate::ports::{Clock, Created, EmailIdentities, IdentityStore, StoreError};
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

fn exists_outside(identity: &EmailIdentity) -> HeraldError {
    HeraldError::IdentityExistsOutsideHerald(format!(
        "{identity} already exists in the email account outside Herald; ask the operator to assign it to you"
    ))
}

/// Pending identities a tenant may hold at once (each is an SES identity; the account's
/// quota is 10,000 per region).
pub const MAX_PENDING: usize = 10;
/// An identity not verified within this long is released and deleted at SES.
pub const PENDING_EXPIRY: chrono::Duration = chrono::Duration::hours(72);

impl Identities {
    /// `POST /v1/email/identities`. Verified only by a proof tied to this claim: an
    /// identity that already exists at SES (or under a parent domain there) is refused.
    pub async fn create(&self, caller: &Caller, raw: &str) -> Result<IdentityRecord, HeraldError> {
        let tenant = caller.live_tenant()?;
        let identity = parse(raw)?;
        let held = self.store.identities(&tenant.id).await?;
        if held.iter().filter(|r| r.status == IdentityStatus::Pending).count() >= MAX_PENDING {
            return Err(HeraldError::validation(
                "identity",
                "TOO_MANY_PENDING_IDENTITIES",
                format!("at most {MAX_PENDING} identities may wait for verification; verify or delete one first"),
            ));
        }
        self.claim(&tenant.id, &identity).await?;
        let refused = match self.parent_outside_herald(&held, &identity).await {
            Ok(None) => None,
            Ok(Some(parent)) => Some(exists_outside(&parent)),
            Err(e) => Some(e),
        };
        if let Some(e) = refused {
            return Err(self.unclaim(&tenant.id, &identity, e).await);
        }
        let state = match self.ses.create_identity(&identity).await {
            Ok(Created::New(state)) => state,
            Ok(Created::ExistedAlready) => {
                return Err(self.unclaim(&tenant.id, &identity, exists_outside(&identity)).await);
            }
            Err(e) => return Err(self.unclaim(&tenant.id, &identity, unavailable(e)).await),
        };
        let record = self.record(&tenant.id, identity, state).await?;
        self.audit
            .record(caller, Some(&tenant.id), "email_identity.create", json!({"identity": record.identity}))
            .await;
        Ok(record)
    }

    /// `POST /v1/admin/tenants/{id}/email/identities`: the operator assigns an identity,
    /// one that exists at SES already included (its state is taken as SES reports it).
    pub async fn assign(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        raw: &str,
        reason: Option<&str>,
    ) -> Result<IdentityRecord, HeraldError> {
        caller.require_admin()?;
        crate::service::support::require_reason(reason)?;
        let identity = parse(raw)?;
        self.claim(tenant, &identity).await?;
        let state = match self.ses.create_identity(&identity).await {
            Ok(Created::New(state)) => Ok(state),
            Ok(Created::ExistedAlready) => match self.ses.identity_state(&identity).await {
                Ok(Some(state)) => Ok(state),
                Ok(None) => Err(unavailable("the identity disappeared at SES; try again")),
                Err(e) => Err(unavailable(e)),
            },
            Err(e) => Err(unavailable(e)),
        };
        let state = match state {
            Ok(s) => s,
            Err(e) => return Err(self.unclaim(tenant, &identity, e).await),
        };
        let record = self.record(tenant, identity, state).await?;
        let details = json!({"identity": record.identity, "reason": reason});
        self.audit.record(caller, Some(tenant), "email_identity.assign", details).await;
        Ok(record)
    }

    async fn claim(&self, tenant: &TenantId, identity: &EmailIdentity) -> Result<(), HeraldError> {
        match self.store.claim_identity(tenant, identity).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => {
                Err(HeraldError::AlreadyClaimed(format!("{identity} (or its domain) is held by another tenant")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the claim back after a refusal or failure; answers the error to return.
    async fn unclaim(&self, tenant: &TenantId, identity: &EmailIdentity, e: HeraldError) -> HeraldError {
        if let Err(err) = self.store.release_identity(tenant, identity).await {
            tracing::error!(error = %err, "an identity claim could not be given back");
        }
        e
    }

    /// A parent domain that exists at SES but is not this tenant's in Herald: SES counts a
    /// subdomain of a verified domain as verified, so the claim would inherit another's proof.
    async fn parent_outside_herald(
        &self,
        held: &[IdentityRecord],
        identity: &EmailIdentity,
    ) -> Result<Option<EmailIdentity>, HeraldError> {
        for parent in identity.enclosing() {
            if held.iter().any(|r| r.identity == parent) {
                continue;
            }
            if self.ses.identity_state(&parent).await.map_err(unavailable)?.is_some() {
                return Ok(Some(parent));
            }
        }
        Ok(None)
    }

    async fn record(
        &self,
        tenant: &TenantId,
        identity: EmailIdentity,
        state: crate::identity::IdentityState,
    ) -> Result<IdentityRecord, HeraldError> {
        let now = self.clock.now();
        let record = IdentityRecord {
            tenant_id: tenant.clone(),
            identity,
            status: self.status(state.status),
            dkim_records: state.dkim_records,
            created_at: now,
            updated_at: now,
        };
        self.store.save_identity(&record).await?;
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
        let state = self.current(&identity).await?;
        let status = self.status(state.status);
        if status != record.status || state.dkim_records != record.dkim_records {
            record.status = status;
            record.dkim_records = state.dkim_records;
            record.updated_at = self.clock.now();
            self.store.save_identity(&record).await?;
        }
        Ok(record)
    }

    /// `DELETE /v1/email/identities/{identity}`: deleted at SES first, so a released
    /// identity never stays verified there for the next claimant.
    pub async fn delete(&self, caller: &Caller, raw: &str) -> Result<(), HeraldError> {
        let tenant = caller.live_tenant()?;
        let identity = parse(raw).map_err(|_| HeraldError::NotFound)?;
        self.store.identity(&tenant.id, &identity).await?.ok_or(HeraldError::NotFound)?;
        self.release(&tenant.id, &identity).await?;
        self.audit.record(caller, Some(&tenant.id), "email_identity.delete", json!({"identity": identity})).await;
        Ok(())
    }

    /// Deleted at SES, then the record and the claim; false when another run got there first.
    async fn release(&self, tenant: &TenantId, identity: &EmailIdentity) -> Result<bool, HeraldError> {
        self.ses.delete_identity(identity).await.map_err(unavailable)?;
        let mine = self.store.delete_identity(tenant, identity).await?;
        self.store.release_identity(tenant, identity).await?;
        Ok(mine)
    }

    /// Claims still unverified after `PENDING_EXPIRY` are released and deleted at SES, so
    /// nobody squats a domain (the dispatch job runs this). Answers how many expired.
    pub async fn expire_pending(&self) -> Result<u32, HeraldError> {
        let before = self.clock.now() - PENDING_EXPIRY;
        let mut expired = 0;
        for (tenant, identity) in self.store.pending_identities(before, 25).await? {
            let Some(r) = self.store.identity(&tenant, &identity).await? else { continue };
            if r.status != IdentityStatus::Pending {
                continue;
            }
            // Read, not refreshed: a refresh would write the record back after a concurrent
            // run released it.
            if self.status(self.current(&identity).await?.status) == IdentityStatus::Verified {
                self.verified_now(&r).await?;
                continue;
            }
            if !self.release(&tenant, &identity).await? {
                continue;
            }
            tracing::warn!(tenant_id = %tenant, identity = %identity, "an unverified email identity expired");
            let details = json!({"identity": identity, "reason": "not verified within 72 h"});
            self.audit.record_as("system:identity-expiry", Some(&tenant), "email_identity.expire", details).await;
            expired += 1;
        }
        Ok(expired)
    }

    /// SES's view; an identity SES no longer has counts as failed.
    async fn current(&self, identity: &EmailIdentity) -> Result<crate::identity::IdentityState, HeraldError> {
        let state = self.ses.identity_state(identity).await.map_err(unavailable)?;
        Ok(state.unwrap_or(crate::identity::IdentityState { status: IdentityStatus::Failed, dkim_records: vec![] }))
    }

    /// `address` is covered by a verified identity of the tenant: its own, its domain's or a
    /// parent domain's.
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
        let state = self.current(&record.identity).await?;
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
