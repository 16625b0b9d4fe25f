//! Sending one queued message. The `queued → sending` write, conditioned on the version
//! read, is made before the provider is called: a redelivered or concurrent copy of the
//! same SQS record loses that condition and never calls the provider a second time.
use super::breaker::Admission;
use super::guards::Gate;
use super::{Herald, HeraldError};
use crate::channel::{Channel, Provider};
use crate::errors::{ErrorCode, ProviderFailure};
use crate::message::HoldReason;
use crate::message::{Message, SendJob};
use crate::ports::Outbound;
use crate::status::Status;
use crate::tenant::{ChannelConfig, ChannelSecrets};
use crate::KeyMode;
use std::time::Duration;

/// What the queue consumer should do with the record.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Finished (sent, or nothing left to do): delete the record.
    Done,
    /// Keep the record, invisible for this long (retry back-off).
    RetryAfter(Duration),
    /// Terminal failure: copy to the dead-letter queue, then delete.
    DeadLetter { reason: String },
}

enum Route {
    Send { provider: Provider, secrets: ChannelSecrets, config: Option<ChannelConfig>, from: Option<String> },
    Fail { code: ErrorCode, message: String },
}

impl Herald {
    pub async fn process(&self, job: &SendJob) -> Result<JobOutcome, HeraldError> {
        let Some(msg) = self.ports.messages.message(&job.message_id).await? else {
            tracing::warn!(message_id = %job.message_id, "queued job for an unknown message; dropping the job");
            return Ok(JobOutcome::Done);
        };
        if msg.generation != job.generation || msg.status != Status::Queued {
            // An older enqueue, a duplicate delivery, or a message already handled.
            tracing::info!(message_id = %msg.id, status = %msg.status, generation = msg.generation, job_generation = job.generation, "stale or duplicate job; nothing to do");
            return Ok(JobOutcome::Done);
        }
        if let Some(gate) = self.send_gate(&msg).await? {
            self.apply_gate(&msg, gate).await?;
            return Ok(JobOutcome::Done);
        }
        let route = self.route(&msg).await?;
        let (provider, secrets, config, from) = match route {
            Route::Send { provider, secrets, config, from } => (provider, secrets, config, from),
            Route::Fail { code, message } => {
                let mut released = 0;
                let failed = self
                    .update_message(&msg.id, |m| {
                        if m.status != Status::Queued || m.generation != job.generation {
                            return false;
                        }
                        released = std::mem::take(&mut m.reserved_cents);
                        m.record_failure(code, None, message.clone(), self.now());
                        true
                    })
                    .await?;
                return Ok(match failed {
                    Some(m) if m.status == Status::Failed => {
                        self.release_reservation(&m, released).await;
                        self.notify(&m).await;
                        JobOutcome::DeadLetter { reason: code.as_str().into() }
                    }
                    _ => JobOutcome::Done,
                });
            }
        };
        if let Some(gate) = self.number_gate(&msg, provider, from.as_deref()).await? {
            self.apply_gate(&msg, gate).await?;
            return Ok(JobOutcome::Done);
        }
        let gate = match (msg.channel, from.as_deref(), config.as_ref().and_then(|c| c.daily_quota)) {
            (Channel::Sms, Some(f), _) if provider != Provider::Simulator => self.warmup_gate(&msg, f).await?,
            (Channel::Whatsapp, _, Some(limit)) if limit > 0 => self.quota_gate(&msg, limit).await?,
            _ => None,
        };
        if let Some(gate) = gate {
            self.apply_gate(&msg, gate).await?;
            return Ok(JobOutcome::Done);
        }

        // The circuit breaker: fail over to the backup provider, or hold until the cool-down.
        let (provider, from, probe, failover) = match self.admit(provider).await? {
            Admission::Allow => (provider, from, false, None),
            Admission::Probe => (provider, from, true, None),
            Admission::Deny { until } => {
                let backup = config.as_ref().and_then(|c| c.backup_provider).filter(|b| secrets.has(*b));
                let mut chosen = None;
                if let (Some(b), Some(cfg)) = (backup, config.as_ref()) {
                    let admission = self.admit(b).await?;
                    if !matches!(admission, Admission::Deny { .. }) {
                        if let Some(f) = self.sender_for(&msg, cfg, b, None).await? {
                            chosen = Some((
                                b,
                                Some(f),
                                admission == Admission::Probe,
                                Some(format!("failover:{provider}->{b}:circuit_open")),
                            ));
                        }
                    }
                }
                match chosen {
                    Some(c) => {
                        tracing::warn!(message_id = %msg.id, from_provider = %provider, to_provider = %c.0, "circuit open: failing over to the backup provider");
                        c
                    }
                    None => {
                        self.apply_gate(
                            &msg,
                            Gate::Hold {
                                reason: HoldReason::ProviderCircuitOpen,
                                until: Some(until),
                                status: Status::Queued,
                            },
                        )
                        .await?;
                        return Ok(JobOutcome::Done);
                    }
                }
            }
        };

        // The at-most-once guard: claim this attempt with a conditional write.
        let mut claimed = msg.clone();
        if let Some(note) = failover {
            claimed.notes.push(note);
            claimed.from = None;
        }
        let attempt_no = claimed.begin_attempt(provider, self.now());
        claimed.from = from.clone().or(claimed.from.clone());
        // If this sender dies mid-call, the stale-recovery job finds the message after this.
        claimed.due_at = Some(self.now() + chrono::Duration::from_std(self.settings.stale_after).unwrap_or_default());
        claimed.version += 1;
        if !self.ports.messages.replace(&claimed).await? {
            tracing::info!(message_id = %msg.id, "another sender claimed this message first");
            return Ok(JobOutcome::Done);
        }
        tracing::info!(
            message_id = %claimed.id, tenant_id = %claimed.tenant_id, correlation_id = %claimed.correlation_id,
            provider = %provider, attempt = attempt_no, "calling provider"
        );
        let result = self
            .ports
            .providers
            .send(&Outbound {
                provider,
                secrets: &secrets,
                config: config.as_ref(),
                message: &claimed,
                from: claimed.from.as_deref(),
            })
            .await;
        let outcome = result.as_ref().err().map(|f| f.classify());
        if let Err(e) = self.record_outcome(provider, outcome, probe).await {
            tracing::warn!(error = %e, "could not record the provider outcome for the circuit breaker");
        }
        match result {
            Ok(accepted) => {
                tracing::info!(message_id = %claimed.id, provider = %provider, provider_message_id = %accepted.provider_message_id, "provider accepted");
                let m = self
                    .finish_attempt(&claimed, attempt_no, |m, now| {
                        m.record_sent(accepted.provider_message_id.clone(), now, accepted.delivered)
                    })
                    .await?;
                if let Some(m) = m {
                    self.notify(&m).await;
                    self.apply_orphans(provider, &accepted.provider_message_id).await;
                }
                Ok(JobOutcome::Done)
            }
            Err(failure) => self.attempt_failed(&claimed, attempt_no, failure).await,
        }
    }

    async fn attempt_failed(
        &self,
        msg: &Message,
        attempt_no: u32,
        failure: ProviderFailure,
    ) -> Result<JobOutcome, HeraldError> {
        let class = failure.classify();
        let provider_code = failure.code.clone().or(failure.http_status.map(|s| s.to_string()));
        let exhausted = self.settings.retry.exhausted(attempt_no.saturating_sub(msg.attempts_offset));
        tracing::warn!(
            message_id = %msg.id, provider = %failure.provider, attempt = attempt_no, http_status = ?failure.http_status,
            provider_code = ?failure.code, error_code = class.code.as_str(), retryable = class.retryable, exhausted,
            "provider refused"
        );
        if class.retryable && !exhausted {
            let delay = self.settings.retry.delay(
                attempt_no.saturating_sub(msg.attempts_offset),
                failure.retry_after,
                &mut rand::thread_rng(),
            );
            let next = self.now() + chrono::Duration::from_std(delay).unwrap_or_default();
            let grace = chrono::Duration::from_std(self.settings.enqueue_grace).unwrap_or_default();
            self.finish_attempt(msg, attempt_no, |m, now| {
                m.record_retry(class.code, provider_code.clone(), failure.message.clone(), now, next);
                // The work index looks again only if the queue loses the message.
                m.due_at = Some(next + grace);
            })
            .await?;
            Ok(JobOutcome::RetryAfter(delay))
        } else {
            let released = std::sync::atomic::AtomicU64::new(0);
            let m = self
                .finish_attempt(msg, attempt_no, |m, now| {
                    released.store(std::mem::take(&mut m.reserved_cents), std::sync::atomic::Ordering::SeqCst);
                    m.record_failure(class.code, provider_code.clone(), failure.message.clone(), now)
                })
                .await?;
            if let Some(m) = m {
                self.release_reservation(&m, released.load(std::sync::atomic::Ordering::SeqCst)).await;
                self.notify(&m).await;
            }
            Ok(JobOutcome::DeadLetter { reason: class.code.as_str().into() })
        }
    }

    /// Applies the attempt's result to the freshest copy (a receipt may have landed first).
    async fn finish_attempt<F>(&self, msg: &Message, attempt_no: u32, apply: F) -> Result<Option<Message>, HeraldError>
    where
        F: Fn(&mut Message, chrono::DateTime<chrono::Utc>) + Send + Sync,
    {
        let now = self.now();
        let mut applied = false;
        let m = self
            .update_message(&msg.id, |m| {
                if m.attempts.len() as u32 != attempt_no {
                    return false;
                }
                apply(m, now);
                applied = true;
                true
            })
            .await?;
        Ok(m.filter(|_| applied))
    }

    /// Decides provider, credentials and sender for a message, or why it cannot go.
    async fn route(&self, msg: &Message) -> Result<Route, HeraldError> {
        if msg.key_mode == KeyMode::Test {
            return Ok(Route::Send {
                provider: Provider::Simulator,
                secrets: ChannelSecrets::default(),
                config: None,
                from: msg.from.clone(),
            });
        }
        let Some(config) = self.ports.tenants.channel(&msg.tenant_id, msg.channel).await? else {
            return Ok(Route::Fail {
                code: ErrorCode::ProviderError,
                message: format!("the {} channel is not configured", msg.channel),
            });
        };
        let provider = config.provider;
        let secrets = self.channel_secrets(&config).await?;
        if !secrets.has(provider) {
            return Ok(Route::Fail {
                code: ErrorCode::AuthenticationError,
                message: format!("no {provider} credentials configured"),
            });
        }
        match self.sender_for(msg, &config, provider, msg.from.as_deref()).await? {
            Some(from) => Ok(Route::Send { provider, secrets, config: Some(config), from: Some(from) }),
            None => Ok(Route::Fail {
                code: ErrorCode::ProviderError,
                message: format!("no {provider} sending number registered"),
            }),
        }
    }

    /// The sender address for `provider`: the requested number if it is one of that
    /// provider's, else a stable pick among the tenant's numbers for it.
    async fn sender_for(
        &self,
        msg: &Message,
        config: &ChannelConfig,
        provider: Provider,
        requested: Option<&str>,
    ) -> Result<Option<String>, HeraldError> {
        Ok(match msg.channel {
            Channel::Sms => {
                if let Some(f) = requested {
                    if self
                        .ports
                        .tenants
                        .number(f)
                        .await?
                        .is_some_and(|n| n.provider == provider && n.tenant_id == msg.tenant_id)
                    {
                        return Ok(Some(f.to_string()));
                    }
                }
                self.pick_number(msg, provider).await?
            }
            Channel::Email => config.from_address.clone(),
            Channel::Whatsapp => config.phone_number_id.clone(),
        })
    }

    pub(crate) async fn channel_secrets(&self, config: &ChannelConfig) -> Result<ChannelSecrets, HeraldError> {
        let raw = self.ports.secrets.get(&config.secret_name).await?;
        Ok(raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    /// The same number for a recipient each time: a stable hash over the tenant's numbers.
    async fn pick_number(&self, msg: &Message, provider: Provider) -> Result<Option<String>, HeraldError> {
        let mut numbers: Vec<String> = self
            .ports
            .tenants
            .numbers(&msg.tenant_id)
            .await?
            .into_iter()
            .filter(|n| n.provider == provider)
            .map(|n| n.phone_number)
            .collect();
        numbers.sort();
        if numbers.is_empty() {
            return Ok(None);
        }
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(msg.to.as_bytes());
        let idx = u64::from_be_bytes(h[..8].try_into().unwrap()) % numbers.len() as u64;
        Ok(Some(numbers.swap_remove(idx as usize)))
    }
}
