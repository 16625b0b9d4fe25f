//! An in-memory implementation of every store port, for fast unit tests of the services.
//! It keeps the adapters' semantics that the services rely on: versioned replace, the
//! conditional counters, the sparse indexes.
use crate::guards::*;
use crate::identity::{EmailIdentity, IdentityRecord};
use crate::ids::{KeyId, KeyMode, MessageId, TenantId};
use crate::inbound::{InboundMessage, Receipt};
use crate::linking::LinkingState;
use crate::message::{Message, StatusStep};
use crate::ports::*;
use crate::tenant::*;
use crate::{Channel, Provider};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Default)]
pub struct State {
    pub tenants: HashMap<TenantId, Tenant>,
    pub keys: Vec<ApiKeyRecord>,
    pub channels: HashMap<(TenantId, Channel), ChannelConfig>,
    pub numbers: HashMap<String, SendingNumber>,
    pub messages: HashMap<MessageId, Message>,
    pub idempotency: HashMap<(TenantId, String), IdempotencyRecord>,
    pub dnc: BTreeMap<(TenantId, String), DncEntry>,
    pub spend: HashMap<(TenantId, String), i64>,
    pub counters: HashMap<String, u32>,
    pub windows: HashMap<(TenantId, String), DateTime<Utc>>,
    pub quotas: HashMap<TenantId, QuotaState>,
    pub features: BTreeMap<String, bool>,
    pub releases: BTreeSet<String>,
    pub events: BTreeSet<String>,
    pub inbound: Vec<InboundMessage>,
    pub orphans: Vec<Receipt>,
    pub wa_index: HashMap<String, (TenantId, String)>,
    pub breakers: HashMap<ProviderAccount, BreakerRecord>,
    pub linking: HashMap<String, LinkingState>,
    pub audit: Vec<AuditEntry>,
    pub secrets: HashMap<String, String>,
    pub identity_claims: HashMap<EmailIdentity, TenantId>,
    pub identities: HashMap<(TenantId, EmailIdentity), IdentityRecord>,
    pub stats: crate::stats::Tally,
    pub voice_settings: HashMap<TenantId, crate::voice::VoiceSettings>,
    pub calls: HashMap<String, crate::voice::Call>,
    pub cooldowns: HashMap<(TenantId, String), (String, DateTime<Utc>)>,
    pub recordings: Vec<String>,
}

#[derive(Default)]
pub struct Memory(pub Mutex<State>);

impl Memory {
    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }
}

#[async_trait]
impl TenantStore for Memory {
    async fn insert_tenant(&self, tenant: &Tenant, keys: &[ApiKeyRecord]) -> StoreResult<()> {
        self.with(|s| {
            s.tenants.insert(tenant.id.clone(), tenant.clone());
            s.keys.extend(keys.iter().cloned());
        });
        Ok(())
    }
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        Ok(self.with(|s| s.tenants.get(id).cloned()))
    }
    async fn all_tenants(&self) -> StoreResult<Vec<Tenant>> {
        Ok(self.with(|s| s.tenants.values().cloned().collect()))
    }
    async fn save_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.with(|s| match s.tenants.get(&tenant.id) {
            Some(stored) if stored.version != tenant.version => Err(StoreError::Conflict),
            _ => {
                let next = Tenant { version: tenant.version + 1, ..tenant.clone() };
                s.tenants.insert(tenant.id.clone(), next);
                Ok(())
            }
        })
    }
}

#[async_trait]
impl KeyStore for Memory {
    async fn insert_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        self.with(|s| s.keys.push(key.clone()));
        Ok(())
    }
    async fn key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        Ok(self.with(|s| s.keys.iter().find(|k| k.hash == hash).cloned()))
    }
    async fn keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKeyRecord>> {
        Ok(self.with(|s| s.keys.iter().filter(|k| k.tenant_id == *tenant).cloned().collect()))
    }
    async fn delete_key(&self, tenant: &TenantId, key_id: &KeyId) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let before = s.keys.len();
            s.keys.retain(|k| !(k.tenant_id == *tenant && k.key_id == *key_id));
            before != s.keys.len()
        }))
    }
    async fn touch_key(&self, key: &ApiKeyRecord, at: DateTime<Utc>) -> StoreResult<()> {
        self.with(|s| {
            for k in s.keys.iter_mut().filter(|k| k.key_id == key.key_id) {
                k.last_used_at = Some(at);
            }
        });
        Ok(())
    }
}

#[async_trait]
impl ChannelStore for Memory {
    async fn save_channel(&self, cfg: &ChannelConfig) -> StoreResult<()> {
        self.with(|s| s.channels.insert((cfg.tenant_id.clone(), cfg.channel), cfg.clone()));
        Ok(())
    }
    async fn channel(&self, tenant: &TenantId, channel: Channel) -> StoreResult<Option<ChannelConfig>> {
        Ok(self.with(|s| s.channels.get(&(tenant.clone(), channel)).cloned()))
    }
    async fn channels(&self, tenant: &TenantId) -> StoreResult<Vec<ChannelConfig>> {
        Ok(self.with(|s| s.channels.values().filter(|c| c.tenant_id == *tenant).cloned().collect()))
    }
}

#[async_trait]
impl NumberStore for Memory {
    async fn save_number(&self, number: &SendingNumber) -> StoreResult<()> {
        self.with(|s| match s.numbers.get(&number.phone_number) {
            Some(n) if n.tenant_id != number.tenant_id => Err(StoreError::Conflict),
            _ => {
                s.numbers.insert(number.phone_number.clone(), number.clone());
                Ok(())
            }
        })
    }
    async fn numbers(&self, tenant: &TenantId) -> StoreResult<Vec<SendingNumber>> {
        Ok(self.with(|s| s.numbers.values().filter(|n| n.tenant_id == *tenant).cloned().collect()))
    }
    async fn number(&self, e164: &str) -> StoreResult<Option<SendingNumber>> {
        Ok(self.with(|s| s.numbers.get(e164).cloned()))
    }
    async fn delete_number(&self, tenant: &TenantId, e164: &str) -> StoreResult<bool> {
        Ok(self.with(|s| match s.numbers.get(e164) {
            Some(n) if n.tenant_id == *tenant => s.numbers.remove(e164).is_some(),
            _ => false,
        }))
    }
}

#[async_trait]
impl MessageStore for Memory {
    async fn insert(&self, msg: &Message) -> StoreResult<Inserted> {
        Ok(self.with(|s| {
            if s.messages.contains_key(&msg.id) {
                return Inserted::Exists;
            }
            s.messages.insert(msg.id.clone(), msg.clone());
            Inserted::Created
        }))
    }
    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        Ok(self.with(|s| s.messages.get(id).cloned()))
    }
    async fn created_between(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        from: &MessageId,
        to: &MessageId,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut found: Vec<Message> = self.with(|s| {
            let keep = |m: &&Message| m.tenant_id == *tenant && m.key_mode == mode && m.id >= *from && m.id <= *to;
            s.messages.values().filter(keep).cloned().collect()
        });
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found.truncate(limit as usize);
        Ok(found)
    }
    async fn messages(&self, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        Ok(self.with(|s| ids.iter().filter_map(|id| s.messages.get(id).cloned()).collect()))
    }
    async fn step(&self, id: &MessageId, step: &StatusStep) -> StoreResult<Stepped> {
        Ok(self.with(|s| match s.messages.get_mut(id) {
            Some(m) if step.applies_to(m) => {
                step.apply(m);
                Stepped::Applied(m.clone())
            }
            other => Stepped::Refused(other.cloned()),
        }))
    }
    async fn replace(&self, msg: &Message) -> StoreResult<bool> {
        Ok(self.with(|s| match s.messages.get(&msg.id) {
            Some(m) if m.version + 1 == msg.version => {
                s.messages.insert(msg.id.clone(), msg.clone());
                true
            }
            _ => false,
        }))
    }
    async fn list(
        &self,
        tenant: &TenantId,
        f: &MessageFilter,
        limit: u32,
        _: Option<&str>,
    ) -> StoreResult<Page<Message>> {
        let mut items: Vec<Message> = self.with(|s| {
            let keep = |m: &&Message| m.tenant_id == *tenant && m.key_mode == f.mode && f.matches(m);
            s.messages.values().filter(keep).cloned().collect()
        });
        items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        items.truncate(limit as usize);
        Ok(Page { items, next_cursor: None })
    }
}

#[async_trait]
impl IdempotencyStore for Memory {
    async fn idempotency(&self, tenant: &TenantId, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        Ok(self.with(|s| s.idempotency.get(&(tenant.clone(), key.to_string())).cloned()))
    }
    async fn claim_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let key = (record.tenant_id.clone(), record.key.clone());
            if s.idempotency.contains_key(&key) {
                return false;
            }
            s.idempotency.insert(key, record.clone());
            true
        }))
    }
    async fn complete_idempotency(&self, record: &IdempotencyRecord) -> StoreResult<()> {
        self.with(|s| s.idempotency.insert((record.tenant_id.clone(), record.key.clone()), record.clone()));
        Ok(())
    }
}

#[async_trait]
impl WorkIndex for Memory {
    async fn due(&self, state: WorkState, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<MessageId>> {
        let mut due: Vec<(DateTime<Utc>, MessageId)> = self.with(|s| {
            let is_due = |m: &&Message| WorkState::of(m.status) == Some(state) && m.due_at.is_some_and(|d| d <= before);
            s.messages.values().filter(is_due).map(|m| (m.due_at.unwrap_or(before), m.id.clone())).collect()
        });
        due.sort();
        Ok(due.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }
    async fn held(&self, hold_key: &str, limit: u32) -> StoreResult<Vec<MessageId>> {
        let mut held: Vec<(DateTime<Utc>, MessageId)> = self.with(|s| {
            let is_held = |m: &&Message| m.hold_key().is_some_and(|k| k.to_string() == hold_key);
            s.messages.values().filter(is_held).map(|m| (m.created_at, m.id.clone())).collect()
        });
        held.sort();
        Ok(held.into_iter().take(limit as usize).map(|(_, id)| id).collect())
    }
    async fn by_provider_id(&self, provider: Provider, pmid: &str) -> StoreResult<Option<MessageId>> {
        Ok(self.with(|s| {
            let matches = |m: &&Message| m.provider == Some(provider) && m.provider_message_id.as_deref() == Some(pmid);
            s.messages.values().find(matches).map(|m| m.id.clone())
        }))
    }
}

#[async_trait]
impl DeadLetterIndex for Memory {
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        mode: KeyMode,
        archived: bool,
        prefix: &str,
        limit: u32,
        _: Option<&str>,
    ) -> StoreResult<Page<(MessageId, String)>> {
        let mut items: Vec<(MessageId, String)> = self.with(|s| {
            let of_tenant = s.messages.values().filter(|m| m.tenant_id == *tenant && m.key_mode == mode);
            let key = |m: &Message| match archived {
                true => m.archived_at.map(|a| a.to_rfc3339()),
                false => m.dlq_sort_key(),
            };
            of_tenant.filter_map(|m| key(m).filter(|k| k.starts_with(prefix)).map(|k| (m.id.clone(), k))).collect()
        });
        items.sort_by(|a, b| a.1.cmp(&b.1));
        items.truncate(limit as usize);
        Ok(Page { items, next_cursor: None })
    }
}

#[async_trait]
impl IdentityStore for Memory {
    async fn claim_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()> {
        self.with(|s| {
            let taken = s.identity_claims.iter().any(|(id, t)| {
                t != tenant
                    && (id == identity
                        || (id.domain() == identity.domain() && (id.is_domain() || identity.is_domain()))
                        || (id.is_domain() && identity.parents().contains(id)))
            });
            if taken {
                return Err(StoreError::Conflict);
            }
            s.identity_claims.insert(identity.clone(), tenant.clone());
            Ok(())
        })
    }
    async fn release_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<()> {
        self.with(|s| {
            if s.identity_claims.get(identity) == Some(tenant) {
                s.identity_claims.remove(identity);
            }
        });
        Ok(())
    }
    async fn save_identity(&self, record: &IdentityRecord) -> StoreResult<()> {
        self.with(|s| s.identities.insert((record.tenant_id.clone(), record.identity.clone()), record.clone()));
        Ok(())
    }
    async fn identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<Option<IdentityRecord>> {
        Ok(self.with(|s| s.identities.get(&(tenant.clone(), identity.clone())).cloned()))
    }
    async fn identities(&self, tenant: &TenantId) -> StoreResult<Vec<IdentityRecord>> {
        Ok(self.with(|s| s.identities.values().filter(|r| r.tenant_id == *tenant).cloned().collect()))
    }
    async fn delete_identity(&self, tenant: &TenantId, identity: &EmailIdentity) -> StoreResult<bool> {
        Ok(self.with(|s| s.identities.remove(&(tenant.clone(), identity.clone())).is_some()))
    }
    async fn pending_identities(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, EmailIdentity)>> {
        Ok(self.with(|s| {
            s.identities
                .values()
                .filter(|r| r.status == crate::identity::IdentityStatus::Pending && r.created_at < before)
                .take(limit as usize)
                .map(|r| (r.tenant_id.clone(), r.identity.clone()))
                .collect()
        }))
    }
}
