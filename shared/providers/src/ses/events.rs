//! SES events (delivery, bounce, complaint) as SNS delivers them, read into a domain
//! `MailEvent`. The tenant comes from the `herald_tenant_id` tag set at send time.
use super::errors::ROWS;
use herald_core::errors::classify;
use herald_core::inbound::{MailEvent, MailEventKind};
use herald_core::{EmailAddress, MessageId, TenantId};
use serde_json::Value;

/// The mail event in an SES event notification; None for event types Herald does not use.
pub fn parse(event: &Value) -> Option<MailEvent> {
    let kind_name = event.get("eventType").or_else(|| event.get("notificationType")).and_then(|v| v.as_str())?;
    let recipients = |ptr: &str| -> Vec<EmailAddress> {
        let list = event.pointer(ptr).and_then(|v| v.as_array()).cloned().unwrap_or_default();
        list.iter()
            .filter_map(|r| r.get("emailAddress").and_then(|v| v.as_str()))
            .filter_map(|a| EmailAddress::parse(a).ok())
            .collect()
    };
    let (kind, recipients) = match kind_name {
        "Delivery" => (MailEventKind::Delivery, vec![]),
        "Bounce" => {
            let permanent = event.pointer("/bounce/bounceType").and_then(|v| v.as_str()) == Some("Permanent");
            (MailEventKind::Bounce { permanent }, recipients("/bounce/bouncedRecipients"))
        }
        "Complaint" => (MailEventKind::Complaint, recipients("/complaint/complainedRecipients")),
        _ => return None,
    };
    let ses_id = event.pointer("/mail/messageId").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let tenant_id = event.pointer("/mail/tags/herald_tenant_id/0").and_then(|v| v.as_str()).and_then(TenantId::parse);
    let error_code = matches!(kind, MailEventKind::Bounce { .. }).then(|| {
        let raw = "MessageRejected";
        (raw.to_string(), classify(ROWS, None, Some(raw)).code)
    });
    let message_id =
        event.pointer("/mail/tags/herald_message_id/0").and_then(|v| v.as_str()).and_then(MessageId::parse);
    Some(MailEvent {
        event_id: format!("{ses_id}:{kind_name}"),
        message_id,
        provider_message_id: ses_id,
        tenant_id,
        kind,
        recipients,
        error_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_sample_event() {
        let sns: Value = serde_json::from_str(include_str!("../../../../events/sns-ses-bounce.json")).unwrap();
        let message = sns.pointer("/Records/0/Sns/Message").and_then(|m| m.as_str()).unwrap();
        let event = parse(&serde_json::from_str(message).unwrap()).expect("a bounce");
        assert!(matches!(event.kind, MailEventKind::Bounce { .. }));
        assert_eq!(event.error_code.map(|c| c.1), Some(herald_core::ErrorCode::Undeliverable));
        assert!(event.event_id.ends_with(":Bounce"));
    }
}
