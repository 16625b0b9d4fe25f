//! Provider events after their signature was checked: receipts move messages forward only,
//! inbound messages are stored and their keywords applied, tenants get signed callbacks.
use super::{Herald, HeraldError};
use crate::channel::{Channel, Provider};
use crate::errors::{classify, ErrorCode};
use crate::ids::TenantId;
use crate::inbound::*;
use crate::message::Message;
use crate::status::Status;
use chrono::{DateTime, Utc};
use serde_json::json;

const EVENT_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptOutcome {
    Applied(Status),
    /// Valid, but the message is already further along (or the step is not one we record).
    Ignored,
    /// Already seen this event.
    Duplicate,
    /// No message has that provider id yet: kept for the sender to pick up.
    Unknown,
}

impl Herald {
    /// Runs `apply` once per provider event id; a duplicate is answered without applying.
    pub async fn once<T, F, Fut>(&self, provider: Provider, event_id: &str, apply: F) -> Result<Option<T>, HeraldError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, HeraldError>>,
    {
        let key = format!("EVT#{provider}#{event_id}");
        if !self.ports.events.first_event(&key, self.now().timestamp() + EVENT_TTL_SECS).await? {
            tracing::info!(provider = %provider, event_id, "duplicate provider event ignored");
            return Ok(None);
        }
        match apply().await {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                // Let the provider's retry apply it.
                let _ = self.ports.events.forget_event(&key).await;
                Err(e)
            }
        }
    }

    pub async fn apply_receipt(&self, r: &Receipt) -> Result<ReceiptOutcome, HeraldError> {
        let Some(id) = self.ports.messages.by_provider_id(r.provider, &r.provider_message_id).await? else {
            tracing::warn!(provider = %r.provider, provider_message_id = %r.provider_message_id, "receipt for an unknown provider message id; kept in case the sender has not written it yet");
            self.ports.events.save_orphan(r).await?;
            return Ok(ReceiptOutcome::Unknown);
        };
        let code = r
            .error_code
            .as_deref()
            .map(|c| classify(r.provider, None, Some(c)).code)
            .unwrap_or(ErrorCode::Undeliverable);
        let mut settle: Option<(i64, u64)> = None;
        let updated = self
            .update_message(&id, |m| {
                if !m.status.accepts_receipt(r.status) {
                    return false;
                }
                match r.status {
                    Status::Delivered => {
                        m.delivered_at = Some(r.at);
                        m.delivery_latency_ms = Some((r.at - m.created_at).num_milliseconds());
                        m.sent_at.get_or_insert(r.at);
                    }
                    Status::Read => {
                        m.delivered_at.get_or_insert(r.at);
                    }
                    Status::Sent => {
                        m.sent_at.get_or_insert(r.at);
                    }
                    Status::Failed => {
                        m.error_code = Some(code);
                        m.error_message = r
                            .error_message
                            .clone()
                            .or_else(|| r.error_code.as_ref().map(|c| format!("{} error {c}", r.provider)));
                        m.dead_lettered = true;
                        m.due_at = None;
                    }
                    _ => {}
                }
                if let Some(price) = r.price_cents {
                    settle = Some((price, m.reserved_cents));
                    m.reserved_cents = 0;
                } else if r.status == Status::Failed {
                    settle = Some((0, m.reserved_cents));
                    m.reserved_cents = 0;
                }
                m.set_status(r.status, self.now());
                true
            })
            .await?;
        match updated {
            Some(m) if m.status == r.status && m.history.last().is_some_and(|h| h.status == r.status) => {
                if let (Some((actual, reserved)), Some(period)) = (settle, &m.budget_period) {
                    let delta = actual - reserved as i64;
                    if delta != 0 {
                        let _ = self.ports.guards.adjust_budget(&m.tenant_id, period, delta).await;
                    }
                }
                tracing::info!(message_id = %m.id, provider = %r.provider, status = %r.status, "receipt applied");
                self.notify(&m).await;
                Ok(ReceiptOutcome::Applied(r.status))
            }
            _ => Ok(ReceiptOutcome::Ignored),
        }
    }

    /// After the sender stored a provider id: receipts that beat it there are applied now.
    pub(crate) async fn apply_orphans(&self, provider: Provider, provider_message_id: &str) {
        match self.ports.events.take_orphans(provider, provider_message_id).await {
            Ok(receipts) => {
                for r in receipts {
                    if let Err(e) = self.apply_receipt(&r).await {
                        tracing::error!(error = %e, "could not apply an early receipt");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read early receipts"),
        }
    }

    /// Stores an inbound message, applies STOP / START / HELP, and sends the reply through
    /// the normal pipeline. Returns the reply text, if any.
    pub async fn handle_inbound(&self, mut m: InboundMessage) -> Result<Option<String>, HeraldError> {
        let kw = keyword(&m.body);
        m.keyword = kw.as_ref().map(|(_, w)| w.clone());
        self.ports.events.save_inbound(&m).await?;
        if m.channel == Channel::Whatsapp {
            self.ports.guards.open_whatsapp_window(&m.tenant_id, &m.from, m.received_at).await?;
        }
        tracing::info!(tenant_id = %m.tenant_id, provider = %m.provider, keyword = ?m.keyword, "inbound message");
        let Some((kind, word)) = kw else { return Ok(None) };
        let tenant = self.ports.tenants.tenant(&m.tenant_id).await?.ok_or(HeraldError::NotFound)?;
        let reply = match kind {
            Keyword::OptOut => {
                // A phone entry blocks SMS and WhatsApp alike.
                self.add_dnc(&m.tenant_id, &m.from, "STOP".into(), &format!("inbound:{}:{word}", m.provider)).await?;
                format!(
                    "You are unsubscribed from {} and will receive no more messages. Reply START to resubscribe.",
                    tenant.name
                )
            }
            Keyword::OptIn => {
                self.ports.guards.delete_dnc(&m.tenant_id, &m.from).await?;
                format!("You are resubscribed to {}. Reply STOP to unsubscribe.", tenant.name)
            }
            Keyword::Help => tenant
                .help_text
                .clone()
                .unwrap_or_else(|| format!("{}: reply STOP to unsubscribe, START to resubscribe.", tenant.name)),
        };
        self.send_reply(&m, &reply, kind == Keyword::OptOut).await?;
        Ok(Some(reply))
    }

    /// A system reply to an inbound message, from the number it was sent to.
    async fn send_reply(&self, to: &InboundMessage, body: &str, bypass_dnc: bool) -> Result<(), HeraldError> {
        let now = self.now();
        let mut msg = Message::draft(
            to.tenant_id.clone(),
            to.channel,
            to.from.clone(),
            crate::CorrelationId::generate(),
            crate::KeyMode::Live,
            now,
        );
        msg.from = if to.channel == Channel::Sms { Some(to.to.clone()) } else { None };
        msg.body = Some(body.to_string());
        msg.priority = crate::message::Priority::Urgent;
        let info = crate::segments::count(body);
        msg.segments = info.segments;
        msg.encoding = Some(info.encoding);
        msg.due_at = Some(now + chrono::Duration::from_std(self.settings.enqueue_grace).unwrap_or_default());
        msg.notes.push(format!("reply_to:{}", to.id));
        if bypass_dnc {
            msg.notes.push(super::guards::NOTE_DNC_BYPASS.to_string());
        }
        self.ports.messages.insert(&msg, None).await?;
        self.enqueue(&msg).await;
        Ok(())
    }

    pub async fn inbound(
        &self,
        caller: &super::Caller,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<InboundMessage>, HeraldError> {
        let super::Caller::Tenant { tenant, .. } = caller else { return Err(HeraldError::Forbidden) };
        Ok(self.ports.events.inbound(&tenant.id, since, limit.clamp(1, 500)).await?)
    }

    /// Queues a callback for the message's current status, if the tenant asked for them.
    pub(crate) async fn notify(&self, m: &Message) {
        if m.callback_url.is_none() {
            return;
        }
        let job = CallbackJob {
            message_id: m.id.clone(),
            tenant_id: m.tenant_id.clone(),
            status: m.status,
            at: m.updated_at,
        };
        if let Err(e) = self.ports.queue.enqueue_callback(&job).await {
            tracing::error!(message_id = %m.id, error = %e, "could not queue the status callback");
        }
    }

    /// POSTs one callback, signed. Ok(true) delivered (2xx), Ok(false) retry later.
    pub async fn deliver_callback(&self, job: &CallbackJob) -> Result<bool, HeraldError> {
        let Some(m) = self.ports.messages.message(&job.message_id).await? else { return Ok(true) };
        let (Some(url), Some(tenant)) = (m.callback_url.clone(), self.tenant_recent(&job.tenant_id).await?) else {
            return Ok(true);
        };
        let secret = tenant.callback_secret.clone().unwrap_or_default();
        let body = serde_json::to_vec(&json!({
            "type": "message.status",
            "id": m.id,
            "status": job.status,
            "at": job.at,
            "error_code": if job.status == Status::Failed { m.error_code } else { None },
            "provider": m.provider,
            "provider_message_id": m.provider_message_id,
            "correlation_id": m.correlation_id,
            "metadata": m.metadata,
        }))
        .unwrap_or_default();
        let signature = crate::signatures::herald_signature(&secret, self.now().timestamp(), &body);
        match self.ports.callbacks.post(&url, &body, &signature).await {
            Ok(status) if (200..300).contains(&status) => Ok(true),
            Ok(status) => {
                tracing::warn!(message_id = %m.id, status, "callback endpoint refused; will retry");
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(message_id = %m.id, error = %e, "callback endpoint unreachable; will retry");
                Ok(false)
            }
        }
    }

    /// SES event (delivery, bounce, complaint) as delivered by SNS.
    pub async fn apply_ses_event(&self, event: &serde_json::Value) -> Result<ReceiptOutcome, HeraldError> {
        let kind = event
            .get("eventType")
            .or_else(|| event.get("notificationType"))
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let ses_id = event.pointer("/mail/messageId").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let tenant = event.pointer("/mail/tags/herald_tenant_id/0").and_then(|v| v.as_str()).and_then(TenantId::parse);
        let now = self.now();
        let (status, hard, reason, recipients) = match kind {
            "Delivery" => (Status::Delivered, false, "", vec![]),
            "Bounce" => {
                let permanent = event.pointer("/bounce/bounceType").and_then(|v| v.as_str()) == Some("Permanent");
                let r =
                    event.pointer("/bounce/bouncedRecipients").and_then(|v| v.as_array()).cloned().unwrap_or_default();
                (Status::Failed, permanent, "BOUNCE", r)
            }
            "Complaint" => {
                let r = event
                    .pointer("/complaint/complainedRecipients")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default();
                (Status::Failed, true, "COMPLAINT", r)
            }
            _ => return Ok(ReceiptOutcome::Ignored),
        };
        let event_id = format!("{ses_id}:{kind}");
        let outcome = self
            .once(Provider::Ses, &event_id, || async {
                if hard {
                    if let Some(t) = &tenant {
                        for r in &recipients {
                            if let Some(addr) = r
                                .get("emailAddress")
                                .and_then(|v| v.as_str())
                                .and_then(|a| crate::EmailAddress::parse(a).ok())
                            {
                                self.add_dnc(
                                    t,
                                    addr.as_str(),
                                    reason.into(),
                                    &format!("{}:ses", reason.to_lowercase()),
                                )
                                .await?;
                            }
                        }
                    }
                }
                if kind == "Complaint" {
                    // The mail was delivered; the complaint only blocks future mail.
                    return Ok(ReceiptOutcome::Ignored);
                }
                let receipt = Receipt {
                    provider: Provider::Ses,
                    provider_message_id: ses_id.clone(),
                    status,
                    error_code: if status == Status::Failed { Some("MessageRejected".into()) } else { None },
                    error_message: (status == Status::Failed).then(|| format!("SES {kind}")),
                    at: now,
                    price_cents: None,
                };
                self.apply_receipt(&receipt).await
            })
            .await?;
        Ok(outcome.unwrap_or(ReceiptOutcome::Duplicate))
    }
}
