//! Stale recovery: a message left in `sending` (the sender died between the provider call
//! and the status write) is looked up at the provider before anything is re-sent.
//!
//! Guarantee: with Twilio, at most once — the message is re-sent only when the provider's
//! message list (by recipient, sender and day, matched on the body) does not have it. With
//! providers that cannot be searched (Telnyx, WhatsApp, SES), at least once: a receipt for
//! the message would already have linked it, so no trace after `HERALD_STALE_AFTER` means it
//! is re-sent, and a provider that did get it sends a duplicate.
use super::{Herald, HeraldError, JobReport};
use crate::errors::ErrorCode;
use crate::message::AttemptOutcome;
use crate::ports::{Lookup, Outbound, WorkState};
use crate::status::Status;
use serde_json::json;

impl Herald {
    pub async fn run_stale_recovery(&self) -> Result<JobReport, HeraldError> {
        let mut report = JobReport { job: "stale-recovery".into(), ..Default::default() };
        let now = self.now();
        for id in self.ports.messages.due(WorkState::Sending, now, 100).await? {
            report.examined += 1;
            let Some(msg) = self.ports.messages.message(&id).await? else { continue };
            if msg.status != Status::Sending || msg.due_at.is_none_or(|d| d > now) {
                continue;
            }
            let Some(attempt) = msg.attempts.last().filter(|a| a.outcome == AttemptOutcome::InProgress).cloned() else {
                continue;
            };
            let config = self.ports.tenants.channel(&msg.tenant_id, msg.channel).await?;
            let secrets = match &config {
                Some(c) => self.channel_secrets(c).await?,
                None => Default::default(),
            };
            let out = Outbound {
                provider: attempt.provider,
                secrets: &secrets,
                config: config.as_ref(),
                message: &msg,
                from: msg.from.as_deref(),
            };
            let lookup = match self.ports.providers.lookup(&out, attempt.at - chrono::Duration::minutes(1)).await {
                Ok(l) => l,
                Err(e) => {
                    // The provider cannot answer now: look again on the next run.
                    report.errors += 1;
                    tracing::warn!(message_id = %msg.id, provider = %attempt.provider, error = %e.message, "stale message: provider lookup failed");
                    let later = now + chrono::Duration::from_std(self.settings.stale_after).unwrap_or_default();
                    self.update_message(&msg.id, |m| {
                        if m.status != Status::Sending {
                            return false;
                        }
                        m.due_at = Some(later);
                        true
                    })
                    .await?;
                    continue;
                }
            };
            let n = attempt.n;
            match lookup {
                Lookup::Found { provider_message_id, delivered } => {
                    let m = self
                        .update_message(&msg.id, |m| {
                            if m.status != Status::Sending || m.attempts.len() as u32 != n {
                                return false;
                            }
                            m.record_sent(provider_message_id.clone(), now, delivered);
                            m.due_at = None;
                            m.notes.push("stale_recovery:found_at_provider".into());
                            true
                        })
                        .await?;
                    if let Some(m) = m.filter(|m| m.status != Status::Sending) {
                        tracing::warn!(message_id = %m.id, "stale message was found at the provider; not sent again");
                        report.details.push(
                            json!({"message_id": m.id, "action": "found", "provider_message_id": provider_message_id}),
                        );
                        self.notify(&m).await;
                        self.apply_orphans(attempt.provider, &provider_message_id).await;
                    }
                }
                Lookup::NotFound | Lookup::Unsupported => {
                    let m = self
                        .update_message(&msg.id, |m| {
                            if m.status != Status::Sending || m.attempts.len() as u32 != n {
                                return false;
                            }
                            if let Some(a) = m.attempts.last_mut() {
                                a.outcome = AttemptOutcome::Retry;
                                a.error_code = Some(ErrorCode::TemporaryError);
                            }
                            m.notes.push(format!(
                                "stale_recovery:{}",
                                if lookup == Lookup::NotFound { "not_at_provider" } else { "no_lookup" }
                            ));
                            m.requeue(now);
                            m.due_at =
                                Some(now + chrono::Duration::from_std(self.settings.enqueue_grace).unwrap_or_default());
                            true
                        })
                        .await?;
                    if let Some(m) = m.filter(|m| m.status == Status::Queued) {
                        tracing::warn!(message_id = %m.id, "stale message re-queued");
                        report.requeued += 1;
                        report.details.push(json!({"message_id": m.id, "action": "requeued"}));
                        self.enqueue(&m).await;
                    }
                }
            }
        }
        Ok(report)
    }
}
