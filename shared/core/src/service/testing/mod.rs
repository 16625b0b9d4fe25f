//! Fast unit tests of the services: every store port in memory, the queues and providers
//! as recording fakes, a clock the test moves. The end-to-end tests run the real adapters
//! against moto and the provider simulator.
mod fakes;
mod guards;
mod index;
mod memory;
mod users;
mod voice;

pub use fakes::{FakeProvider, FakeQueue, FixedClock};
pub use memory::Memory;
pub use users::FakeUsers;

use super::{Adapters, Caller, Services, Settings};
use crate::ids::{KeyMode, NewApiKey, TenantId};
use crate::message::{Message, SendJob};
use crate::service::{JobOutcome, SendRequest};
use crate::tenant::*;
use crate::{Channel, CorrelationId, MessageId, Provider};
use chrono::{TimeZone, Utc};
use std::sync::Arc;

pub struct Harness {
    pub mem: Arc<Memory>,
    pub queue: Arc<FakeQueue>,
    pub provider: Arc<FakeProvider>,
    pub clock: Arc<FixedClock>,
    pub users: Arc<FakeUsers>,
    pub services: Services,
}

impl Harness {
    pub fn new() -> Harness {
        let mem = Arc::new(Memory::default());
        let queue = Arc::new(FakeQueue::default());
        let provider = Arc::new(FakeProvider::default());
        // A Wednesday at noon UTC: outside anyone's quiet hours in the Americas and Europe.
        let users = Arc::new(FakeUsers::default());
        let clock = Arc::new(FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()));
        let adapters = Adapters {
            db: mem.clone(),
            config: mem.clone(),
            queues: queue.clone(),
            callbacks: queue.clone(),
            secrets: mem.clone(),
            providers: provider.clone(),
            telnyx_numbers: provider.clone(),
            voice_carrier: mem.clone(),
            recordings: mem.clone(),
            email_identities: provider.clone(),
            alerts: provider.clone(),
            users: users.clone(),
            user_pool: users.clone(),
            clock: clock.clone(),
        };
        let settings = Settings { admin_key: "admin".into(), ..Settings::default() };
        Harness { services: Services::wire(adapters, settings), mem, queue, provider, clock, users }
    }

    /// A tenant with a live key, as its caller.
    pub fn tenant(&self, edit: impl FnOnce(&mut Tenant)) -> Caller {
        let now = self.clock.now_value();
        let mut tenant = Tenant {
            id: TenantId::generate(),
            name: "Acme".into(),
            timezone: "America/Chicago".into(),
            default_country: Some("US".into()),
            quiet_hours: None,
            daily_budget_cents: None,
            monthly_budget_cents: None,
            rate_limit_per_minute: None,
            paused: None,
            help_text: None,
            max_daily_budget_cents: None,
            max_monthly_budget_cents: None,
            max_rate_limit_per_minute: None,
            callback_secret: None,
            test_callback_secret: None,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        edit(&mut tenant);
        let k = NewApiKey::generate(KeyMode::Live);
        let key = ApiKeyRecord {
            key_id: k.key_id,
            tenant_id: tenant.id.clone(),
            hash: k.hash,
            mode: KeyMode::Live,
            created_at: now,
            last_used_at: None,
        };
        self.mem.with(|s| {
            s.tenants.insert(tenant.id.clone(), tenant.clone());
            s.keys.push(key.clone());
        });
        Caller::Tenant { tenant, key, user: None }
    }

    /// An SMS channel on Twilio (with Telnyx as backup when `backup`) and a number for each.
    pub fn sms_channel(&self, caller: &Caller, backup: bool) {
        let tenant = caller.tenant().unwrap().id.clone();
        let twilio = serde_json::json!({"account_sid": "AC1", "auth_token": "t".repeat(32)});
        let mut secrets = ChannelSecrets::default().with(Provider::Twilio, twilio);
        if backup {
            secrets = secrets.with(Provider::Telnyx, serde_json::json!({"api_key": "KEY"}));
        }
        let secret_name = format!("herald/tenants/{tenant}/channels/sms");
        let config = ChannelConfig {
            tenant_id: tenant.clone(),
            channel: Channel::Sms,
            provider: Provider::Twilio,
            backup_provider: backup.then_some(Provider::Telnyx),
            from_address: None,
            phone_number_id: None,
            daily_quota: None,
            configured_providers: vec![],
            secret_name: secret_name.clone(),
            updated_at: self.clock.now_value(),
        };
        let number = |n: &str, provider| SendingNumber {
            tenant_id: tenant.clone(),
            phone_number: n.into(),
            provider,
            messaging_profile_id: None,
            daily_cap: None,
            created_at: self.clock.now_value(),
        };
        self.mem.with(|s| {
            s.secrets.insert(secret_name, serde_json::to_string(&secrets).unwrap());
            s.channels.insert((tenant.clone(), Channel::Sms), config);
            s.numbers.insert("+14155550001".into(), number("+14155550001", Provider::Twilio));
            s.numbers.insert("+14155550002".into(), number("+14155550002", Provider::Telnyx));
        });
    }

    pub async fn accept(&self, caller: &Caller, req: serde_json::Value) -> Result<MessageId, super::HeraldError> {
        let req: SendRequest = serde_json::from_value(req).unwrap();
        let a = self.services.accepting.accept(caller, req, None, CorrelationId::generate()).await?;
        Ok(a.id)
    }

    pub fn message(&self, id: &MessageId) -> Message {
        self.mem.with(|s| s.messages[id].clone())
    }

    /// Runs the sender on the oldest job the queue holds.
    pub async fn send_next(&self) -> Option<(SendJob, JobOutcome)> {
        let job = self.queue.pop()?;
        let outcome = self.services.sending.process(&job).await.unwrap();
        Some((job, outcome))
    }
}
