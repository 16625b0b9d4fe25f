//! Mail events (SES through SNS): a hard bounce or a complaint puts the address on the
//! tenant's do-not-contact list; delivery and bounce move the message like any receipt.
use super::{ReceiptOutcome, Receipts};
use crate::channel::Provider;
use crate::inbound::{MailEvent, MailEventKind, Receipt};
use crate::service::HeraldError;
use crate::status::Status;

impl Receipts {
    #[tracing::instrument(name = "mail_event", skip_all)]
    pub async fn apply_mail_event(&self, event: &MailEvent) -> Result<ReceiptOutcome, HeraldError> {
        if event.kind == MailEventKind::Delivery {
            // A delivery is a receipt: the message's state applies it once, no event log.
            return self.apply_mail_once(event).await;
        }
        let outcome = self.once(Provider::Ses, &event.event_id, || self.apply_mail_once(event)).await?;
        Ok(outcome.unwrap_or(ReceiptOutcome::Duplicate))
    }

    async fn apply_mail_once(&self, event: &MailEvent) -> Result<ReceiptOutcome, HeraldError> {
        let (status, dnc_reason) = match event.kind {
            MailEventKind::Delivery => (Status::Delivered, None),
            MailEventKind::Bounce { permanent } => (Status::Failed, permanent.then_some("BOUNCE")),
            MailEventKind::Complaint => (Status::Failed, Some("COMPLAINT")),
            MailEventKind::Reject => (Status::Failed, None),
        };
        if let (Some(reason), Some(tenant)) = (dnc_reason, &event.tenant_id) {
            let source = format!("{}:ses", reason.to_lowercase());
            for address in &event.recipients {
                self.dnc.add(tenant, address.as_str(), reason.into(), &source).await?;
            }
        }
        if event.kind == MailEventKind::Complaint {
            // The mail was delivered; the complaint only blocks future mail.
            return Ok(ReceiptOutcome::Ignored);
        }
        let failed = status == Status::Failed;
        let receipt = Receipt {
            provider: Provider::Ses,
            provider_message_id: event.provider_message_id.clone(),
            status,
            error_code: event.error_code.as_ref().map(|(raw, _)| raw.clone()),
            error: event.error_code.as_ref().map(|(_, code)| *code),
            error_message: failed.then(|| match event.kind {
                MailEventKind::Reject => "SES rejected the message (it contained a virus)".to_string(),
                _ => "SES Bounce".to_string(),
            }),
            at: event.at.unwrap_or_else(|| self.now()),
            price_cents: None,
            tenant_id: event.tenant_id.clone(),
            message_id: event.message_id.clone(),
        };
        self.apply_receipt(&receipt).await
    }
}
