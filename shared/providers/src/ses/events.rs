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
        "Reject" => (MailEventKind::Reject, vec![]),
        _ => return None,
    };
    let section = kind_name.to_ascii_lowercase();
    let at = event
        .pointer(&format!("/{section}/timestamp"))
        .and_then(|v| v.as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let ses_id = event.pointer("/mail/messageId").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let tenant_id = event.pointer("/mail/tags/herald_tenant_id/0").and_then(|v| v.as_str()).and_then(TenantId::parse);
    let error_code = matches!(kind, MailEventKind::Bounce { .. } | MailEventKind::Reject).then(|| {
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
        at,
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

    #[test]
    fn a_reject_fails_the_message_and_events_carry_their_time() {
        let reject = serde_json::json!({"eventType": "Reject", "mail": {"messageId": "m1"}, "reject": {"reason": "Bad content"}});
        let event = parse(&reject).expect("a reject is read");
        assert_eq!((event.kind, event.recipients.len()), (MailEventKind::Reject, 0));
        assert_eq!(event.error_code.map(|c| c.1), Some(herald_core::ErrorCode::Undeliverable));
        let delivery = serde_json::json!({"eventType": "Delivery", "mail": {"messageId": "m2"}, "delivery": {"timestamp": "2026-12-07T10:00:00.000Z"}});
        assert_eq!(parse(&delivery).unwrap().at.map(|t| t.to_rfc3339()), Some("2026-12-07T10:00:00+00:00".into()));
    }
}
