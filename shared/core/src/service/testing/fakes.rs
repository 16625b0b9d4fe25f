//! Recording fakes of the queue, provider and clock ports.
use crate::errors::{Blame, Classification, ErrorCode, ProviderFailure};
use crate::identity::{EmailIdentity, IdentityState, IdentityStatus};
use crate::inbound::CallbackJob;
use crate::linking::TelnyxCallError;
use crate::message::SendJob;
use crate::ports::*;
use crate::tenant::{ChannelConfig, ChannelSecrets};
use crate::{Channel, Provider};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct FakeQueue {
    pub jobs: Mutex<VecDeque<SendJob>>,
    pub callbacks: Mutex<Vec<CallbackJob>>,
    pub delays: Mutex<Vec<std::time::Duration>>,
    /// Enqueues that fail before the next one succeeds.
    pub failing: std::sync::atomic::AtomicU32,
    /// The size of each `enqueue_batch` call.
    pub batches: Mutex<Vec<usize>>,
}

impl FakeQueue {
    pub fn pop(&self) -> Option<SendJob> {
        self.jobs.lock().unwrap().pop_front()
    }
    pub fn len(&self) -> usize {
        self.jobs.lock().unwrap().len()
    }
}

#[async_trait]
impl SendQueue for FakeQueue {
    async fn enqueue(&self, job: &SendJob, _: &str, _: &str) -> Result<(), QueueError> {
        use std::sync::atomic::Ordering;
        if self.failing.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(QueueError("sqs: service unavailable".into()));
        }
        self.jobs.lock().unwrap().push_back(job.clone());
        Ok(())
    }
    async fn enqueue_batch(&self, jobs: &[Enqueued]) -> Vec<Result<(), QueueError>> {
        self.batches.lock().unwrap().push(jobs.len());
        let mut out = Vec::new();
        for j in jobs {
            out.push(self.enqueue(&j.job, &j.group_id, &j.dedup_id).await);
        }
        out
    }
    async fn retry_later(&self, _: Channel, _: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        self.delays.lock().unwrap().push(delay);
        Ok(())
    }
    async fn receive_dead_letters(&self, _: Channel, _: i32) -> Result<Vec<(SendJob, String)>, QueueError> {
        Ok(vec![])
    }
    async fn delete_dead_letter(&self, _: Channel, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn depths(&self) -> Result<Vec<QueueDepth>, QueueError> {
        Ok(vec![])
    }
}

#[async_trait]
impl CallbackQueue for FakeQueue {
    async fn enqueue_callback(&self, job: &CallbackJob) -> Result<(), QueueError> {
        self.callbacks.lock().unwrap().push(job.clone());
        Ok(())
    }
    async fn delay_callback(&self, _: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        self.delays.lock().unwrap().push(delay);
        Ok(())
    }
}

#[async_trait]
impl CallbackTargets for FakeQueue {
    async fn check(&self, url: &str) -> Result<(), TargetRefused> {
        match url.starts_with("https://") {
            true => Ok(()),
            false => Err(TargetRefused("callback_url must be https".into())),
        }
    }
}

#[async_trait]
impl CallbackSender for FakeQueue {
    async fn post(&self, _: &str, _: &[u8], _: &str, _: i64) -> Result<u16, DeliveryError> {
        Ok(200)
    }
}

/// Every provider, faked: each answers from one shared script (accepted when the script is
/// empty) and records every call.
pub struct FakeProvider {
    state: Arc<FakeState>,
    carriers: std::collections::BTreeMap<Provider, FakeCarrier>,
}

#[derive(Default)]
pub struct FakeState {
    pub script: Mutex<VecDeque<Result<Accepted, ProviderFailure>>>,
    pub calls: Mutex<Vec<(Provider, String)>>,
    /// Numbers and WhatsApp ids in some other account.
    pub foreign: Mutex<std::collections::HashSet<String>>,
}

/// One faked provider.
pub struct FakeCarrier {
    provider: Provider,
    state: Arc<FakeState>,
}

impl Default for FakeProvider {
    fn default() -> Self {
        let state = Arc::new(FakeState::default());
        let all = Provider::ALL.iter().copied().chain([Provider::Simulator]);
        let carriers = all.map(|provider| (provider, FakeCarrier { provider, state: state.clone() })).collect();
        Self { state, carriers }
    }
}

impl std::ops::Deref for FakeProvider {
    type Target = FakeState;
    fn deref(&self) -> &FakeState {
        &self.state
    }
}

impl FakeState {
    pub fn fail_next(&self, provider: Provider, http_status: u16, code: ErrorCode, retryable: bool, blame: Blame) {
        let class = Classification { code, retryable, blame };
        let failure = ProviderFailure {
            provider,
            http_status: Some(http_status),
            code: None,
            message: format!("HTTP {http_status}"),
            retry_after: None,
            class,
            ambiguous: false,
        };
        self.script.lock().unwrap().push_back(Err(failure));
    }
    /// The next send reaches the provider but its answer is lost.
    pub fn lose_next_answer(&self, provider: Provider) {
        let failure = ProviderFailure::ambiguous(provider, "timeout after the request was sent");
        self.script.lock().unwrap().push_back(Err(failure));
    }

    pub fn calls(&self) -> Vec<(Provider, String)> {
        self.calls.lock().unwrap().clone()
    }
}

impl ProviderGateway for FakeProvider {
    fn carrier(&self, provider: Provider) -> Option<&dyn Carrier> {
        self.carriers.get(&provider).map(|c| c as &dyn Carrier)
    }
}

#[async_trait]
impl Carrier for FakeCarrier {
    fn check_credentials(&self, raw: &serde_json::Value) -> Result<(), CredentialProblem> {
        match raw.is_object() {
            true => Ok(()),
            false => Err(CredentialProblem { field: String::new(), what: "an object".into() }),
        }
    }

    /// The fake's accounts: the credentials' `account_sid` or `api_key`, else the WhatsApp number.
    fn account(&self, secrets: &ChannelSecrets, config: Option<&ChannelConfig>) -> Option<String> {
        let creds = secrets.get(self.provider);
        let named = creds.and_then(|c| c.get("account_sid").or_else(|| c.get("api_key"))).and_then(|v| v.as_str());
        named.map(str::to_string).or_else(|| config.and_then(|c| c.phone_number_id.clone()))
    }

    fn registers_numbers(&self) -> bool {
        matches!(self.provider, Provider::Twilio | Provider::Telnyx)
    }

    async fn send(&self, out: &Outbound<'_>) -> Result<Accepted, ProviderFailure> {
        let n = {
            let mut calls = self.state.calls.lock().unwrap();
            calls.push((out.provider, out.message.to.to_string()));
            calls.len()
        };
        let scripted = self.state.script.lock().unwrap().pop_front();
        scripted
            .unwrap_or_else(|| Ok(Accepted { provider_message_id: format!("PM{n}"), delivered: false, linked: false }))
    }

    async fn owns_number(&self, _: &ChannelSecrets, number: &str) -> Result<bool, ProviderFailure> {
        Ok(!self.state.foreign.lock().unwrap().contains(number))
    }
}

#[async_trait]
impl EmailIdentities for FakeProvider {
    async fn create_identity(&self, _: &EmailIdentity) -> Result<crate::ports::Created, IdentityCallError> {
        Ok(crate::ports::Created::New(IdentityState { status: IdentityStatus::Verified, dkim_records: vec![] }))
    }
    async fn identity_state(&self, _: &EmailIdentity) -> Result<Option<IdentityState>, IdentityCallError> {
        Ok(Some(IdentityState { status: IdentityStatus::Verified, dkim_records: vec![] }))
    }
    async fn delete_identity(&self, _: &EmailIdentity) -> Result<(), IdentityCallError> {
        Ok(())
    }
}

#[async_trait]
impl TelnyxNumbers for FakeProvider {
    fn access(&self, secrets: &ChannelSecrets) -> Option<crate::ports::TelnyxAccess> {
        let creds = secrets.get(Provider::Telnyx)?;
        Some(crate::ports::TelnyxAccess {
            api_key: creds.get("api_key")?.as_str()?.to_string(),
            messaging_profile_id: creds.get("messaging_profile_id").and_then(|v| v.as_str()).map(str::to_string),
        })
    }
    async fn order(&self, _: &str, _: &str, _: &str) -> Result<(), TelnyxCallError> {
        Ok(())
    }
    async fn find(&self, _: &str, _: &str) -> Result<Option<String>, TelnyxCallError> {
        Ok(Some("num-1".into()))
    }
    async fn available(&self, _: &str, area: &str) -> Result<Option<String>, TelnyxCallError> {
        Ok(Some(format!("+1{area}5550100")))
    }
    async fn link_direct(&self, _: &str, _: &str, _: &str) -> Result<(), TelnyxCallError> {
        Ok(())
    }
    async fn link_profile(&self, _: &str, _: &str, _: &str) -> Result<(), TelnyxCallError> {
        Ok(())
    }
}

#[async_trait]
impl Alerts for FakeProvider {
    async fn alert(&self, _: &str, _: &serde_json::Value) -> Result<(), AlertError> {
        Ok(())
    }
}

pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Mutex::new(t))
    }
    pub fn now_value(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    pub fn advance(&self, d: chrono::Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.now_value()
    }
}
