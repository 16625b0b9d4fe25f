//! Email identity claims. All claims in one domain live in one item (`EMAILDOM#domain`):
//! the domain's holder and the address holders, changed together under a version check,
//! so a domain claim and an address claim in it can never both win a race.
use super::*;
use async_trait::async_trait;
use herald_core::identity::{EmailIdentity, IdentityRecord, IdentityStatus};
use herald_core::ids::TenantId;
use herald_core::ports::{IdentityStore, StoreResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Default, Serialize, Deserialize)]
struct DomainClaims {
    #[serde(default)]
    domain_owner: Option<String>,
    #[serde(default)]
    addresses: BTreeMap<String, String>,
    #[serde(default)]
    version: u64,
}

impl DomainClaims {
    /// Applies a claim (or release) for `tenant`; false when another tenant is in the way.
    fn change(&mut self, tenant: &str, identity: &EmailIdentity, claim: bool) -> bool {
        let other = |holder: &String| holder != tenant;
        if !claim {
            match identity.is_domain() {
                true if self.domain_owner.as_deref() == Some(tenant) => self.domain_owner = None,
                false if self.addresses.get(identity.as_str()).is_some_and(|h| !other(h)) => {
                    self.addresses.remove(identity.as_str());
                }
                _ => {}
            }
            return true;
        }
        if self.domain_owner.as_ref().is_some_and(other) {
            return false;
        }
        if identity.is_domain() {
            if self.addresses.values().any(other) {
                return false;
            }
            self.domain_owner = Some(tenant.to_string());
        } else {
            if self.addresses.get(identity.as_str()).is_some_and(other) {
                return false;
            }
            self.addresses.insert(identity.as_str().to_string(), tenant.to_string());
        }
        true
    }
}

fn record_pk(tenant: &TenantId) -> String {
    format!("EIDENT#{tenant}")
}

impl DynamoStore {
    /// A domain claim covers its subdomains: a claim under a parent domain another tenant
    /// holds is refused.
    async fn parent_held_by_another(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<bool> {
        for parent in identity.parents() {
            let Some(item) = self.get(&format!("EMAILDOM#{parent}"), "CLAIMS").await? else { continue };
            let claims: DomainClaims = from_item(item)?;
            if claims.domain_owner.is_some_and(|o| o != tenant.as_str()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn change_claims(&self, tenant: &TenantId, identity: &EmailIdentity, claim: bool) -> StoreResult<()> {
        if claim && self.parent_held_by_another(tenant, identity).await? {
            return Err(StoreError::Conflict);
        }
        let pk = format!("EMAILDOM#{}", identity.domain());
        for _ in 0..8 {
            let current = self.get(&pk, "CLAIMS").await?;
            let exists = current.is_some();
            let mut claims: DomainClaims = current.map(from_item).transpose()?.unwrap_or_default();
            let read_version = claims.version;
            if !claims.change(tenant.as_str(), identity, claim) {
                return Err(StoreError::Conflict);
            }
            claims.version += 1;
            let put =
                self.client.put_item().table_name(&self.table).set_item(Some(keyed(&claims, pk.clone(), "CLAIMS")?));
            let put = match exists {
                true => put.condition_expression("version = :v").expression_attribute_values(":v", n(read_version)),
                false => put.condition_expression("attribute_not_exists(pk)"),
            };
            if conditional(put.send().await)?.is_some() {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("identity claims are changing concurrently".into()))
    }
}

#[async_trait]
impl IdentityStore for DynamoStore {
    async fn claim_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()> {
        self.change_claims(tenant, identity, true).await
    }

    async fn release_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()> {
        self.change_claims(tenant, identity, false).await
    }

    async fn save_identity(&self, record: &IdentityRecord) -> StoreResult<()> {
        let mut item = keyed(record, record_pk(&record.tenant_id), record.identity.as_str())?;
        // Pending claims are in a sparse index by age: the expiry reads it, never a scan.
        if record.status == IdentityStatus::Pending {
            item.insert("gsi2pk".into(), s(PENDING));
            let sk = format!("{}#{}#{}", ts(&record.created_at), record.tenant_id, record.identity);
            item.insert("gsi2sk".into(), s(sk));
        }
        self.put(item).await
    }

    async fn identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<Option<IdentityRecord>> {
        self.get(&record_pk(tenant), identity.as_str()).await?.map(from_item).transpose()
    }

    async fn identities(&self, tenant: &TenantId) -> StoreResult<Vec<IdentityRecord>> {
        self.query_prefix(&record_pk(tenant), "").await?.into_iter().map(from_item).collect()
    }

    async fn delete_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(record_pk(tenant)))
            .key("sk", s(identity.as_str()))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        // Conditional: of two concurrent releases, exactly one is told it deleted the record.
        Ok(conditional(out)?.is_some())
    }

    async fn pending_identities(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, EmailIdentity)>> {
        let mut out = Vec::new();
        for item in self.query_due(PENDING, &before, limit).await? {
            let sk = item.get("gsi2sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let mut parts = sk.splitn(3, '#').skip(1);
            let tenant = parts.next().and_then(TenantId::parse);
            let identity = parts.next().and_then(|i| EmailIdentity::parse(i).ok());
            match (tenant, identity) {
                (Some(t), Some(i)) => out.push((t, i)),
                _ => {
                    super::events::poison("pending_identity", &sk, &"an index entry that does not read");
                    let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    self.set_aside(&key("pk"), &key("sk")).await?;
                }
            }
        }
        Ok(out)
    }
}

const PENDING: &str = "IDENTPENDING";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_holder_excludes_everyone_else_in_the_domain() {
        let id = |s: &str| EmailIdentity::parse(s).unwrap();
        let mut c = DomainClaims::default();
        assert!(c.change("A", &id("brand.example.com"), true));
        assert!(!c.change("B", &id("brand.example.com"), true), "the domain");
        assert!(!c.change("B", &id("news@brand.example.com"), true), "an address in it");
        assert!(c.change("A", &id("news@brand.example.com"), true), "its holder's own address");
        let mut shared = DomainClaims::default();
        assert!(shared.change("A", &id("a@mail.example"), true));
        assert!(shared.change("B", &id("b@mail.example"), true), "addresses of a shared domain");
        assert!(!shared.change("A", &id("mail.example"), true), "not the domain once others hold addresses");
        assert!(!shared.change("B", &id("a@mail.example"), true), "nor another's address");
    }
}
