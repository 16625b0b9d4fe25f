//! In-memory guard, event, breaker and linking stores.
use super::memory::Memory;
use crate::guards::*;
use crate::ids::{MessageId, TenantId};
use crate::inbound::{InboundMessage, Receipt};
use crate::linking::{LinkStatus, LinkingState};
use crate::message::Message;
use crate::ports::*;
use crate::Provider;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[async_trait]
impl SendReads for Memory {
    async fn message_and_dnc(
        &self,
        id: &MessageId,
        tenant: &TenantId,
        to: &str,
    ) -> StoreResult<(Option<Message>, Option<DncEntry>)> {
        Ok(self.with(|s| (s.messages.get(id).cloned(), s.dnc.get(&(tenant.clone(), to.to_string())).cloned())))
    }
}

#[async_trait]
impl DncStore for Memory {
    async fn dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<Option<DncEntry>> {
        Ok(self.with(|s| s.dnc.get(&(tenant.clone(), address.to_string())).cloned()))
    }
    async fn put_dnc(&self, entry: &DncEntry) -> StoreResult<()> {
        self.with(|s| s.dnc.insert((entry.tenant_id.clone(), entry.address.clone()), entry.clone()));
        Ok(())
    }
    async fn delete_dnc(&self, tenant: &TenantId, address: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.dnc.remove(&(tenant.clone(), address.to_string())).is_some()))
    }
    async fn list_dnc(&self, tenant: &TenantId, limit: u32, _: Option<&str>) -> StoreResult<Page<DncEntry>> {
        let items =
            self.with(|s| s.dnc.values().filter(|e| e.tenant_id == *tenant).take(limit as usize).cloned().collect());
        Ok(Page { items, next_cursor: None })
    }
}

#[async_trait]
impl BudgetStore for Memory {
    async fn reserve_budget(
        &self,
        t: &TenantId,
        p: &BudgetPeriod,
        cost: u64,
        daily: Option<u64>,
        monthly: Option<u64>,
    ) -> StoreResult<Option<Spend>> {
        Ok(self.with(|s| {
            let day = *s.spend.get(&(t.clone(), p.day.clone())).unwrap_or(&0) + cost as i64;
            let month = *s.spend.get(&(t.clone(), p.month.clone())).unwrap_or(&0) + cost as i64;
            if daily.is_some_and(|d| day > d as i64) || monthly.is_some_and(|m| month > m as i64) {
                return None;
            }
            s.spend.insert((t.clone(), p.day.clone()), day);
            s.spend.insert((t.clone(), p.month.clone()), month);
            Some(Spend { daily_spent_cents: day, monthly_spent_cents: month })
        }))
    }
    async fn adjust_budget(&self, t: &TenantId, p: &BudgetPeriod, delta: i64) -> StoreResult<()> {
        self.with(|s| {
            for k in [&p.day, &p.month] {
                *s.spend.entry((t.clone(), k.clone())).or_default() += delta;
            }
        });
        Ok(())
    }
    async fn reset_budget(&self, t: &TenantId, p: &BudgetPeriod, month: bool) -> StoreResult<()> {
        let k = if month { &p.month } else { &p.day };
        self.with(|s| s.spend.insert((t.clone(), k.clone()), 0));
        Ok(())
    }
    async fn spend(&self, t: &TenantId, p: &BudgetPeriod) -> StoreResult<Spend> {
        Ok(self.with(|s| Spend {
            daily_spent_cents: *s.spend.get(&(t.clone(), p.day.clone())).unwrap_or(&0),
            monthly_spent_cents: *s.spend.get(&(t.clone(), p.month.clone())).unwrap_or(&0),
        }))
    }
}

fn take(m: &Memory, key: String, limit: u32) -> bool {
    m.with(|s| {
        let n = s.counters.entry(key).or_default();
        if *n >= limit {
            return false;
        }
        *n += 1;
        true
    })
}

#[async_trait]
impl Counters for Memory {
    async fn take_rate(&self, tenant: &TenantId, window: &str, limit: u32, _: i64) -> StoreResult<bool> {
        Ok(take(self, format!("rate#{tenant}#{window}"), limit))
    }
    async fn take_warmup(&self, number: &str, day: &str, cap: u32, _: i64) -> StoreResult<bool> {
        Ok(take(self, format!("warmup#{number}#{day}"), cap))
    }
}

#[async_trait]
impl WindowStore for Memory {
    async fn whatsapp_window(&self, tenant: &TenantId, phone: &str) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.with(|s| s.windows.get(&(tenant.clone(), phone.to_string())).copied()))
    }
    async fn open_whatsapp_window(&self, tenant: &TenantId, phone: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.with(|s| s.windows.insert((tenant.clone(), phone.to_string()), at));
        Ok(())
    }
}

#[async_trait]
impl QuotaStore for Memory {
    async fn quota(&self, tenant: &TenantId) -> StoreResult<Option<QuotaState>> {
        Ok(self.with(|s| s.quotas.get(tenant).cloned()))
    }
    async fn roll_quota(&self, state: &QuotaState, previous: Option<DateTime<Utc>>) -> StoreResult<bool> {
        Ok(self.with(|s| {
            if s.quotas.get(&state.tenant_id).map(|q| q.reset_at) != previous {
                return false;
            }
            s.quotas.insert(state.tenant_id.clone(), state.clone());
            true
        }))
    }
    async fn take_quota(&self, tenant: &TenantId, below: u32) -> StoreResult<Option<u32>> {
        Ok(self.with(|s| {
            let q = s.quotas.get_mut(tenant)?;
            (q.sent < below).then(|| {
                q.sent += 1;
                q.sent
            })
        }))
    }
    async fn quota_tenants(&self) -> StoreResult<Vec<TenantId>> {
        Ok(self.with(|s| s.quotas.keys().cloned().collect()))
    }
}

#[async_trait]
impl FeatureStore for Memory {
    async fn features(&self) -> StoreResult<BTreeMap<String, bool>> {
        Ok(self.with(|s| s.features.clone()))
    }
    async fn set_feature(&self, name: &str, enabled: bool) -> StoreResult<()> {
        self.with(|s| s.features.insert(name.to_string(), enabled));
        Ok(())
    }
}

#[async_trait]
impl PendingReleases for Memory {
    async fn pending_releases(&self) -> StoreResult<Vec<String>> {
        Ok(self.with(|s| s.releases.iter().cloned().collect()))
    }
    async fn set_pending_release(&self, hold_key: &str, pending: bool) -> StoreResult<()> {
        self.with(|s| if pending { s.releases.insert(hold_key.into()) } else { s.releases.remove(hold_key) });
        Ok(())
    }
}

#[async_trait]
impl EventLog for Memory {
    async fn seen(&self, key: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.events.contains(key)))
    }
    async fn first_event(&self, key: &str, _: i64) -> StoreResult<bool> {
        Ok(self.with(|s| s.events.insert(key.to_string())))
    }
}

#[async_trait]
impl InboundStore for Memory {
    async fn save_inbound(&self, m: &InboundMessage) -> StoreResult<()> {
        self.with(|s| s.inbound.push(m.clone()));
        Ok(())
    }
    async fn inbound(
        &self,
        tenant: &TenantId,
        _: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<InboundMessage>> {
        Ok(self.with(|s| s.inbound.iter().filter(|m| m.tenant_id == *tenant).take(limit as usize).cloned().collect()))
    }
}

#[async_trait]
impl OrphanStore for Memory {
    async fn save_orphan(&self, receipt: &Receipt) -> StoreResult<()> {
        self.with(|s| s.orphans.push(receipt.clone()));
        Ok(())
    }
    async fn take_orphans(&self, provider: Provider, pmid: &str) -> StoreResult<Vec<Receipt>> {
        Ok(self.with(|s| {
            let (taken, kept) = std::mem::take(&mut s.orphans)
                .into_iter()
                .partition(|r| r.provider == provider && r.provider_message_id == pmid);
            s.orphans = kept;
            taken
        }))
    }
    async fn old_orphans(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<crate::ports::OrphanRef>> {
        Ok(self.with(|s| {
            s.orphans
                .iter()
                .filter(|r| r.at < before)
                .take(limit as usize)
                .map(|r| crate::ports::OrphanRef {
                    provider: r.provider,
                    provider_message_id: r.provider_message_id.clone(),
                    at: r.at,
                })
                .collect()
        }))
    }
    async fn drop_orphans(&self, provider: Provider, pmid: &str) -> StoreResult<()> {
        self.with(|s| s.orphans.retain(|r| !(r.provider == provider && r.provider_message_id == pmid)));
        Ok(())
    }
}

#[async_trait]
impl BreakerStore for Memory {
    async fn breaker(&self, account: &ProviderAccount) -> StoreResult<Option<BreakerRecord>> {
        Ok(self.with(|s| s.breakers.get(account).cloned()))
    }
    async fn breakers(&self) -> StoreResult<Vec<(ProviderAccount, BreakerRecord)>> {
        Ok(self.with(|s| s.breakers.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
    }
    async fn count_outcome(
        &self,
        account: &ProviderAccount,
        minute: &str,
        attempts: u64,
        failures: u64,
        _: i64,
    ) -> StoreResult<Option<BreakerRecord>> {
        let rec = self.with(|s| {
            let fresh = BreakerRecord {
                state: BreakerState::Closed,
                since: Utc::now(),
                version: 0,
                buckets: Default::default(),
            };
            let rec = s.breakers.entry(account.clone()).or_insert(fresh);
            let b = rec.buckets.entry(minute.to_string()).or_default();
            b.0 += attempts;
            b.1 += failures;
            Some(rec.clone())
        });
        Ok(rec)
    }
    async fn transition(
        &self,
        account: &ProviderAccount,
        expected: Option<u64>,
        state: BreakerState,
        since: DateTime<Utc>,
        clear: bool,
    ) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let current = s.breakers.get(account).map(|r| r.version);
            if current != expected && !(expected.is_none() && current == Some(0)) {
                return false;
            }
            let fresh = BreakerRecord { state, since, version: 0, buckets: Default::default() };
            let rec = s.breakers.entry(account.clone()).or_insert(fresh);
            rec.state = state;
            rec.since = since;
            rec.version += 1;
            if clear {
                rec.buckets.clear();
            }
            true
        }))
    }
}

#[async_trait]
impl LinkingStore for Memory {
    async fn linking(&self, e164: &str) -> StoreResult<Option<LinkingState>> {
        Ok(self.with(|s| s.linking.get(e164).cloned()))
    }
    async fn save_linking(&self, state: &LinkingState) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let current = s.linking.get(&state.phone_number).map(|l| l.version).unwrap_or(0);
            if current + 1 != state.version {
                return false;
            }
            s.linking.insert(state.phone_number.clone(), state.clone());
            true
        }))
    }
    async fn due_linkings(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<String>> {
        Ok(self.with(|s| {
            let due = |l: &&LinkingState| l.can_retry() && l.next_attempt_at.is_some_and(|n| n <= before);
            s.linking.values().filter(due).take(limit as usize).map(|l| l.phone_number.clone()).collect()
        }))
    }
    async fn linkings_by_status(&self, status: LinkStatus, limit: u32) -> StoreResult<Vec<LinkingState>> {
        Ok(self.with(|s| s.linking.values().filter(|l| l.status == status).take(limit as usize).cloned().collect()))
    }
}

#[async_trait]
impl SecretStore for Memory {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self.with(|s| s.secrets.get(name).cloned()))
    }
    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        self.with(|s| s.secrets.insert(name.to_string(), value.to_string()));
        Ok(())
    }
}

#[async_trait]
impl AuditLog for Memory {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.with(|s| s.audit.push(entry.clone()));
        Ok(())
    }
    async fn entries(&self, f: &AuditFilter, limit: u32, _cursor: Option<&str>) -> StoreResult<Page<AuditEntry>> {
        let items = self.with(|s| {
            let of = |e: &&AuditEntry| {
                f.tenant.as_ref().is_none_or(|t| e.tenant_id.as_ref() == Some(t))
                    && f.action.as_ref().is_none_or(|a| e.action.starts_with(a.as_str()))
                    && f.since.is_none_or(|at| e.at >= at)
            };
            s.audit.iter().rev().filter(of).take(limit as usize).cloned().collect()
        });
        Ok(Page { items, next_cursor: None })
    }
}

#[async_trait]
impl StatsStore for Memory {
    async fn add_tally(&self, tally: &crate::stats::Tally) -> StoreResult<()> {
        self.with(|s| {
            for (k, c) in &tally.counts {
                let row = s.stats.counts.entry(k.clone()).or_default();
                for (name, v) in c {
                    *row.entry(name.clone()).or_default() += v;
                }
            }
            for (k, v) in &tally.held {
                *s.stats.held.entry(*k).or_default() += v;
            }
            for (k, v) in &tally.dead_letters {
                *s.stats.dead_letters.entry(*k).or_default() += v;
            }
        });
        Ok(())
    }
    async fn hour_counters(
        &self,
        hours: &[String],
        tenant: Option<&TenantId>,
    ) -> StoreResult<Vec<(TenantId, crate::Channel, crate::stats::Counters)>> {
        Ok(self.with(|s| {
            let keep =
                |(h, t, _): &(String, TenantId, crate::Channel)| hours.contains(h) && tenant.is_none_or(|x| x == t);
            s.stats.counts.iter().filter(|(k, _)| keep(k)).map(|((_, t, ch), c)| (t.clone(), *ch, c.clone())).collect()
        }))
    }
    async fn held_counts(&self) -> StoreResult<BTreeMap<(crate::Channel, crate::message::HoldReason), i64>> {
        Ok(self.with(|s| s.stats.held.clone()))
    }
    async fn dead_letter_counts(&self) -> StoreResult<BTreeMap<crate::Channel, i64>> {
        Ok(self.with(|s| s.stats.dead_letters.clone()))
    }
}
