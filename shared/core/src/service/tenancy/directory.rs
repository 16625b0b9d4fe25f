//! The operator's tenant directory (`GET /v1/admin/tenants?q=&cursor=`) and a tenant's keys:
//! listed (ids, mode, created, last used; never a hash or a secret) and, in a breach, all
//! revoked in one audited call.
use super::Tenancy;
use crate::ids::{KeyId, KeyMode, TenantId};
use crate::service::{Caller, HeraldError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// One tenant in the directory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantSummary {
    pub id: TenantId,
    pub name: String,
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    /// Who paused it (`admin` or a key id), when paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantPage {
    pub tenants: Vec<TenantSummary>,
    pub next_cursor: Option<String>,
}

/// One API key as the operator sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyView {
    pub key_id: KeyId,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key's last use is written at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::hours(1);

impl Tenancy {
    /// Tenants whose name or id contains `q` (any case), by id, `limit` per page.
    pub async fn list_tenants(
        &self,
        caller: &Caller,
        q: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<TenantPage, HeraldError> {
        caller.require_admin()?;
        if q.is_some_and(|q| q.len() > 200) {
            return Err(HeraldError::validation("q", "TOO_LONG", "search text up to 200 characters"));
        }
        let after = match cursor {
            Some(c) => Some(TenantId::parse(c).ok_or_else(|| {
                HeraldError::validation("cursor", "INVALID_CURSOR", "use the next_cursor of the previous page")
            })?),
            None => None,
        };
        let needle = q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        let mut all = self.tenants.all_tenants().await?;
        all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        let limit = limit.clamp(1, 200) as usize;
        let mut matching = all
            .into_iter()
            .filter(|t| after.as_ref().is_none_or(|a| t.id.as_str() > a.as_str()))
            .filter(|t| needle.as_ref().is_none_or(|n| t.name.to_lowercase().contains(n) || t.id.as_str().contains(n)));
        let tenants: Vec<TenantSummary> = matching.by_ref().take(limit).map(summary).collect();
        let next_cursor = match matching.next() {
            Some(_) => tenants.last().map(|t| t.id.to_string()),
            None => None,
        };
        Ok(TenantPage { tenants, next_cursor })
    }

    /// `GET /v1/admin/tenants/{id}/keys`.
    pub async fn list_keys(&self, caller: &Caller, tenant_id: Option<&str>) -> Result<Vec<KeyView>, HeraldError> {
        let tenant = self.key_tenant(caller, tenant_id).await?;
        let mut keys: Vec<KeyView> = self
            .keys
            .keys(&tenant.id)
            .await?
            .into_iter()
            .map(|k| KeyView { key_id: k.key_id, mode: k.mode, created_at: k.created_at, last_used_at: k.last_used_at })
            .collect();
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// `POST /v1/admin/tenants/{id}/keys/revoke-all` `{"reason"}`: every key of the tenant,
    /// live and test, stops working (at once in this container; within the key cache's
    /// recheck elsewhere). Mint new ones with `POST …/keys`.
    pub async fn revoke_all_keys(
        &self,
        caller: &Caller,
        tenant_id: &str,
        reason: Option<&str>,
    ) -> Result<u32, HeraldError> {
        let tenant = self.tenant_by_id(caller, tenant_id).await?;
        let reason = crate::service::support::require_reason(reason)?;
        let mut revoked = 0;
        for key in self.keys.keys(&tenant.id).await? {
            if self.keys.delete_key(&tenant.id, &key.key_id).await? {
                revoked += 1;
            }
        }
        tracing::warn!(tenant_id = %tenant.id, revoked, "every API key of the tenant revoked");
        let detail = json!({"revoked": revoked, "reason": reason});
        self.audit.record(caller, Some(&tenant.id), "key.revoke_all", detail).await;
        Ok(revoked)
    }

    /// Notes a key's use, at most once an hour (a write per request would double the cost).
    pub(crate) async fn touch(&self, key: &crate::tenant::ApiKeyRecord) {
        let now = self.clock.now();
        if key.last_used_at.is_some_and(|at| now - at < TOUCH_EVERY) {
            return;
        }
        if let Err(e) = self.keys.touch_key(key, now).await {
            tracing::debug!(error = %e, "could not note the key's last use");
        }
    }
}

fn summary(t: crate::tenant::Tenant) -> TenantSummary {
    TenantSummary {
        paused_by: t.paused.map(|p| p.by),
        id: t.id,
        name: t.name,
        timezone: t.timezone,
        default_country: t.default_country,
        created_at: t.created_at,
    }
}
