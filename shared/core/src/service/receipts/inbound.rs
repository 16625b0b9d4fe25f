//! Inbound messages: stored, STOP / START / HELP applied, replies sent through the normal
//! pipeline from the number the message was sent to.
use super::Receipts;
use crate::address::{Address, E164};
use crate::channel::Channel;
use crate::inbound::{keyword, InboundMessage, Keyword};
use crate::message::{Message, Priority};
use crate::service::policy::NOTE_DNC_BYPASS;
use crate::service::{Caller, HeraldError};
use chrono::{DateTime, Utc};

impl Receipts {
    /// Stores an inbound message, applies STOP / START / HELP, and sends the reply through
    /// the normal pipeline. Returns the reply text, if any.
    #[tracing::instrument(name = "inbound", skip_all, fields(provider = %m.provider))]
    pub async fn handle_inbound(&self, mut m: InboundMessage) -> Result<Option<String>, HeraldError> {
        let kw = keyword(&m.body);
        m.keyword = kw.as_ref().map(|(_, w)| w.clone());
        self.inbound.save_inbound(&m).await?;
        if m.channel == Channel::Whatsapp {
            self.windows.open_whatsapp_window(&m.tenant_id, &m.from, m.received_at).await?;
        }
        tracing::info!(tenant_id = %m.tenant_id, provider = %m.provider, keyword = ?m.keyword, "inbound message");
        let Some((kind, word)) = kw else { return Ok(None) };
        let tenant = self.tenants.tenant(&m.tenant_id).await?.ok_or(HeraldError::NotFound)?;
        let name = &tenant.name;
        let reply = match kind {
            Keyword::OptOut => {
                // A phone entry blocks SMS and WhatsApp alike.
                let source = format!("inbound:{}:{word}", m.provider);
                self.dnc.add(&m.tenant_id, &m.from, "STOP".into(), &source).await?;
                crate::metrics::emit("opt_outs", 1.0, &[("channel", m.channel.as_str())]);
                format!(
                    "You are unsubscribed from {name} and will receive no more messages. Reply START to resubscribe."
                )
            }
            Keyword::OptIn => {
                self.dnc.remove(&m.tenant_id, &m.from, &format!("inbound:{}:{word}", m.provider)).await?;
                format!("You are resubscribed to {name}. Reply STOP to unsubscribe.")
            }
            Keyword::Help => tenant
                .help_text
                .clone()
                .unwrap_or_else(|| format!("{name}: reply STOP to unsubscribe, START to resubscribe.")),
        };
        self.send_reply(&m, &reply, kind == Keyword::OptOut).await?;
        Ok(Some(reply))
    }

    /// A system reply to an inbound message, from the number it was sent to.
    async fn send_reply(&self, to: &InboundMessage, body: &str, bypass_dnc: bool) -> Result<(), HeraldError> {
        let now = self.now();
        let correlation = crate::CorrelationId::generate();
        let mut msg = Message::draft(
            to.tenant_id.clone(),
            to.channel,
            Address::from_stored(to.from.clone()),
            correlation,
            crate::KeyMode::Live,
            now,
        );
        msg.from = (to.channel == Channel::Sms).then(|| Address::Phone(E164::from_stored(to.to.clone())));
        msg.body = Some(body.to_string());
        msg.priority = Priority::Urgent;
        let info = crate::segments::count(body);
        msg.segments = info.segments;
        msg.encoding = Some(info.encoding);
        msg.await_job(now, self.enqueue_grace);
        msg.notes.push(format!("reply_to:{}", to.id));
        if bypass_dnc {
            msg.notes.push(NOTE_DNC_BYPASS.to_string());
        }
        // Created once per inbound message, even when its webhook is applied twice: the
        // idempotency key starts with a newline, which no HTTP client can send.
        let once = crate::tenant::IdempotencyRecord {
            tenant_id: to.tenant_id.clone(),
            key: format!("\nreply:{}", to.id),
            request_hash: String::new(),
            response: serde_json::json!({"id": msg.id}),
            created_at: now,
            message_id: Some(msg.id.clone()),
        };
        use crate::service::support::{complete, insert_once, Once};
        let written =
            match insert_once(self.idempotency.as_ref(), self.messages.as_ref(), Some(&once), &msg, None).await? {
                Once::Created(true) => Some(msg),
                Once::Created(false) => None,
                Once::Taken(prev) => complete(self.messages.as_ref(), &prev, msg).await?,
            };
        if let Some(msg) = written {
            self.outbox.enqueue(&msg).await;
        }
        Ok(())
    }

    /// `GET /v1/inbound`.
    pub async fn inbound(
        &self,
        caller: &Caller,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<InboundMessage>, HeraldError> {
        let tenant = caller.tenant()?;
        if caller.mode() == crate::KeyMode::Test {
            // Inbound messages come from providers: live data, never shown to a test key.
            return Ok(vec![]);
        }
        Ok(self.inbound.inbound(&tenant.id, since, limit.clamp(1, 500)).await?)
    }
}
