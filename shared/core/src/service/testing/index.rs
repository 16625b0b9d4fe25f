//! The WhatsApp routing index and the per-tenant claims (signing secrets, purchases) in memory.
use super::Memory;
use crate::ids::TenantId;
use crate::ports::*;
use async_trait::async_trait;

#[async_trait]
impl WhatsappIndex for Memory {
    async fn set_whatsapp_index(&self, tenant: &TenantId, pnid: &str, token_hash: &str) -> StoreResult<()> {
        self.with(|s| s.wa_index.insert(pnid.to_string(), (tenant.clone(), token_hash.to_string())));
        Ok(())
    }
    async fn whatsapp_tenant(&self, pnid: &str) -> StoreResult<Option<TenantId>> {
        Ok(self.with(|s| s.wa_index.get(pnid).map(|(t, _)| t.clone())))
    }
    async fn whatsapp_tenant_by_token(&self, hash: &str) -> StoreResult<Option<TenantId>> {
        Ok(self.with(|s| s.wa_index.values().find(|(_, h)| h == hash).map(|(t, _)| t.clone())))
    }
    async fn claim(&self, tenant: &TenantId, key: &str) -> StoreResult<bool> {
        self.with(|s| match s.wa_index.get(&format!("claim:{key}")) {
            Some((t, _)) if t != tenant => Err(StoreError::Conflict),
            Some(_) => Ok(false),
            None => Ok(s.wa_index.insert(format!("claim:{key}"), (tenant.clone(), String::new())).is_none()),
        })
    }
    async fn release(&self, tenant: &TenantId, key: &str) -> StoreResult<()> {
        self.with(|s| {
            if s.wa_index.get(&format!("claim:{key}")).is_some_and(|(t, _)| t == tenant) {
                s.wa_index.remove(&format!("claim:{key}"));
            }
        });
        Ok(())
    }
}
