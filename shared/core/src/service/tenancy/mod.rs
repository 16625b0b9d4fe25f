//! Tenants, their API keys, and who is calling. A new setting goes into `requests.rs`.
mod accounts;
mod channels;
mod directory;
mod identities;
mod numbers;
mod platform;
mod purchase;
mod requests;

pub use accounts::ProviderAccounts;
pub use channels::{ChannelUpdate, ChannelView, Channels, EmailChannel, SmsChannel, WhatsappChannel};
pub use directory::{KeyView, TenantPage, TenantSummary};
pub use identities::Identities;
pub(crate) use numbers::claimed;
pub use numbers::{NumberAdded, NumberRequest, Numbers};
pub use requests::{KeyCreated, NewTenant, TenantCreated, TenantPatch};

use super::support::{update_tenant, Audit};
use super::{constant_time_eq, Caller, HeraldError};
use crate::ids::{KeyId, KeyMode, NewApiKey, TenantId};
use crate::ports::{Clock, KeyStore, TenantStore};
use crate::tenant::{ApiKeyRecord, Tenant};
use requests::{check_ceilings, check_settings, clamp_to_ceilings};
use serde_json::json;
use std::sync::Arc;

pub struct Tenancy {
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) keys: Arc<dyn KeyStore>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The admin key read at start: used when it came from configuration, and as the
    /// fallback when the secret cannot be read.
    pub(crate) admin_key: String,
    /// The secret holding the admin key, re-read through the secrets cache (`HERALD_SECRET_TTL`):
    /// a rotated admin key stops working within the TTL, not when containers recycle.
    pub(crate) admin_secret: Option<(String, Arc<dyn crate::ports::SecretStore>)>,
}

impl Tenancy {
    /// Resolves a bearer token to a caller. The admin key is compared in constant time.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, HeraldError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(HeraldError::Unauthenticated)?;
        let admin_key = self.current_admin_key().await;
        if !admin_key.is_empty() && constant_time_eq(token.as_bytes(), admin_key.as_bytes()) {
            return Ok(Caller::ADMIN);
        }
        let hash = crate::ids::hash_api_key(token);
        let key = self.keys.key_by_hash(&hash).await?.ok_or(HeraldError::Unauthenticated)?;
        let tenant = self.tenants.tenant(&key.tenant_id).await?.ok_or(HeraldError::Unauthenticated)?;
        self.touch(&key).await;
        Ok(Caller::Tenant { tenant, key, user: None })
    }

    pub async fn create_tenant(&self, caller: &Caller, req: NewTenant) -> Result<TenantCreated, HeraldError> {
        caller.require_admin()?;
        let now = self.clock.now();
        let mut tenant = Tenant {
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
            max_daily_budget_cents: req.max_daily_budget_cents,
            max_monthly_budget_cents: req.max_monthly_budget_cents,
            max_rate_limit_per_minute: req.max_rate_limit_per_minute,
            callback_secret: Some(format!("whsec_{}", NewApiKey::generate(KeyMode::Live).hash)),
            test_callback_secret: None,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        clamp_to_ceilings(&mut tenant);
        check_settings(&tenant)?;
        let live = NewApiKey::generate(KeyMode::Live);
        let test = NewApiKey::generate(KeyMode::Test);
        let record = |k: &NewApiKey| ApiKeyRecord {
            key_id: k.key_id.clone(),
            tenant_id: tenant.id.clone(),
            hash: k.hash.clone(),
            mode: k.mode,
            created_at: now,
            last_used_at: None,
        };
        self.tenants.insert_tenant(&tenant, &[record(&live), record(&test)]).await?;
        self.audit.record(caller, Some(&tenant.id), "tenant.create", json!({"name": tenant.name})).await;
        Ok(TenantCreated {
            tenant,
            api_key: live.secret,
            api_key_id: live.key_id,
            test_api_key: test.secret,
            test_api_key_id: test.key_id,
        })
    }

    pub async fn tenant_by_id(&self, caller: &Caller, id: &str) -> Result<Tenant, HeraldError> {
        caller.require_admin()?;
        let id = TenantId::parse(id).ok_or(HeraldError::NotFound)?;
        self.tenants.tenant(&id).await?.ok_or(HeraldError::NotFound)
    }

    /// Whose keys: the named tenant's (admin routes), else the caller's own (a live key or
    /// an owner's session).
    pub(crate) async fn key_tenant(&self, caller: &Caller, id: Option<&str>) -> Result<Tenant, HeraldError> {
        match id {
            Some(id) => self.tenant_by_id(caller, id).await,
            None => Ok(caller.live_tenant()?.clone()),
        }
    }

    /// `PATCH /v1/admin/tenants/{id}` (admin) and `PATCH /v1/tenant` (the tenant itself).
    pub async fn patch_tenant(
        &self,
        caller: &Caller,
        id: Option<&str>,
        patch: TenantPatch,
    ) -> Result<Tenant, HeraldError> {
        let id = match id {
            Some(id) => self.tenant_by_id(caller, id).await?.id,
            None => caller.live_tenant()?.id.clone(),
        };
        let admin = matches!(caller, Caller::Admin { .. });
        if !admin && patch.sets_ceilings() {
            return Err(HeraldError::Forbidden);
        }
        // The patch is applied to the stored tenant as it is now, under its version: fields
        // the patch does not name (a pause, the operator's ceilings) are never written back stale.
        let (t, changed) = update_tenant(self.tenants.as_ref(), &id, self.clock.now(), |t| {
            let changed = patch.clone().apply(t);
            if admin {
                clamp_to_ceilings(t);
            } else {
                check_ceilings(t)?;
            }
            check_settings(t)?;
            Ok(changed)
        })
        .await?;
        // What changed, never a secret: the callback secret is not among the fields a patch sets.
        let detail = json!({
            "changed": changed, "daily_budget_cents": t.daily_budget_cents, "monthly_budget_cents": t.monthly_budget_cents,
            "rate_limit_per_minute": t.rate_limit_per_minute, "max_daily_budget_cents": t.max_daily_budget_cents,
            "max_monthly_budget_cents": t.max_monthly_budget_cents, "max_rate_limit_per_minute": t.max_rate_limit_per_minute,
        });
        self.audit.record(caller, Some(&t.id), "tenant.update", detail).await;
        Ok(t)
    }

    /// `GET /v1/tenant`: a test key sees the test callback secret, never the live one; a
    /// member's session sees neither (secrets are an owner's).
    pub async fn own_tenant(&self, caller: &Caller) -> Result<Tenant, HeraldError> {
        let t = caller.tenant()?;
        let stored = self.tenants.tenant(&t.id).await?.ok_or(HeraldError::NotFound)?;
        let mut seen = stored.seen_by(caller.mode());
        if caller.user().is_some_and(|u| u.role == crate::users::Role::Member) {
            seen.callback_secret = None;
            seen.test_callback_secret = None;
        }
        Ok(seen)
    }

    pub async fn create_key(
        &self,
        caller: &Caller,
        tenant_id: Option<&str>,
        mode: KeyMode,
    ) -> Result<KeyCreated, HeraldError> {
        let tenant = self.key_tenant(caller, tenant_id).await?;
        let key = NewApiKey::generate(mode);
        let now = self.clock.now();
        self.keys
            .insert_key(&ApiKeyRecord {
                key_id: key.key_id.clone(),
                tenant_id: tenant.id.clone(),
                hash: key.hash,
                mode,
                created_at: now,
                last_used_at: None,
            })
            .await?;
        self.audit.record(caller, Some(&tenant.id), "key.create", json!({"key_id": key.key_id, "mode": mode})).await;
        Ok(KeyCreated { key_id: key.key_id, api_key: key.secret, mode, created_at: now })
    }

    pub async fn delete_key(&self, caller: &Caller, tenant_id: Option<&str>, key_id: &str) -> Result<(), HeraldError> {
        let tenant = self.key_tenant(caller, tenant_id).await?;
        let key_id = KeyId::parse(key_id).ok_or(HeraldError::NotFound)?;
        if !self.keys.delete_key(&tenant.id, &key_id).await? {
            return Err(HeraldError::NotFound);
        }
        self.audit.record(caller, Some(&tenant.id), "key.delete", json!({"key_id": key_id})).await;
        Ok(())
    }
}

impl Tenancy {
    /// Built once per container (`Services::wire`) from the adapters and the shared services.
    pub(crate) fn new(
        sh: &crate::service::wiring::Shared,
        a: &crate::service::Adapters,
        s: &crate::service::Settings,
    ) -> Self {
        let (tenants, keys, audit, clock) = (a.config.clone(), a.config.clone(), sh.audit.clone(), sh.clock.clone());
        let admin_secret = s.admin_key_secret.clone().map(|name| (name, a.secrets.clone()));
        Tenancy { tenants, keys, audit, clock, admin_key: s.admin_key.clone(), admin_secret }
    }

    async fn current_admin_key(&self) -> String {
        let Some((name, secrets)) = &self.admin_secret else { return self.admin_key.clone() };
        match secrets.get(name).await {
            Ok(Some(key)) => key,
            // Deleted: the admin routes close.
            Ok(None) => String::new(),
            Err(e) => {
                tracing::warn!(error = %e, "could not re-read the admin key; using the one read at start");
                self.admin_key.clone()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SecretStore;
    use crate::service::testing::Harness;

    #[tokio::test]
    async fn a_rotated_admin_key_stops_working_and_the_new_one_works() {
        let h = Harness::new();
        h.mem.put("herald/admin", "adm_old").await.unwrap();
        let secrets: Arc<dyn SecretStore> = h.mem.clone();
        let tenancy = Tenancy {
            tenants: h.mem.clone(),
            keys: h.mem.clone(),
            audit: h.services.audit.clone(),
            clock: h.clock.clone(),
            admin_key: "adm_old".into(),
            admin_secret: Some(("herald/admin".into(), secrets)),
        };
        assert!(matches!(tenancy.authenticate(Some("adm_old")).await, Ok(Caller::Admin { .. })));
        h.mem.put("herald/admin", "adm_new").await.unwrap();
        assert_eq!(tenancy.authenticate(Some("adm_old")).await.err(), Some(HeraldError::Unauthenticated));
        assert!(matches!(tenancy.authenticate(Some("adm_new")).await, Ok(Caller::Admin { .. })));
    }
}
