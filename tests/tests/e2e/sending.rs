//! Issue 2: the whole path API → SQS FIFO → sender → provider, on moto and the simulator.
use herald_core::ports::MessageStore;
use herald_core::Channel;
use herald_tests::sim::{Fault, SimProvider, TELNYX_KEY, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_TOKEN};
use herald_tests::{eventually, ses_sent_count, spawn_app};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_through_twilio_reaches_the_provider_with_auth_and_ends_sent() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let r = app
        .call(
            reqwest::Method::POST,
            "/v1/messages",
            Some(&t.live_key),
            Some(json!({"channel": "sms", "to": "+14155550100", "body": "Service at 10am"})),
            &[("x-correlation-id", "corr-abc-123")],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["status"], "queued");
    assert_eq!(r.body["segments"], 1);
    assert_eq!(r.body["encoding"], "GSM-7");
    assert_eq!(r.body["correlation_id"], "corr-abc-123");
    assert!(r.headers.get("x-request-id").is_some());
    let id = r.body["id"].as_str().unwrap().to_string();
    let m = app.wait_status(&t.live_key, &id, "sent", WAIT).await;
    let calls = app.sim.requests(SimProvider::Twilio);
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.auth.as_deref(), Some(format!("basic:{TWILIO_SID}:{TWILIO_TOKEN}").as_str()));
    assert_eq!(call.path, format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"));
    assert_eq!(call.form["To"], "+14155550100");
    assert_eq!(call.form["From"], "+14155550001");
    assert_eq!(call.form["Body"], "Service at 10am");
    assert_eq!(m["provider"], "twilio");
    assert_eq!(m["provider_message_id"].as_str(), call.provider_message_id.as_deref());
    assert_eq!(m["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(m["correlation_id"], "corr-abc-123");
    let statuses: Vec<_> =
        m["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["queued", "sending", "sent"]);
    assert!(m["sent_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_through_telnyx_uses_bearer_auth_and_json() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_telnyx(&t, "+14155550002").await;
    // National format is accepted with the tenant's default country.
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "(415) 555-0101", "body": "Café tonight 🙂"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["encoding"], "UCS-2");
    let id = r.body["id"].as_str().unwrap();
    let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
    let calls = app.sim.requests(SimProvider::Telnyx);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].auth.as_deref(), Some(format!("bearer:{TELNYX_KEY}").as_str()));
    assert_eq!(calls[0].json["to"], "+14155550101");
    assert_eq!(calls[0].json["from"], "+14155550002");
    assert_eq!(calls[0].json["text"], "Café tonight 🙂");
    assert_eq!(calls[0].json["messaging_profile_id"], "40019a80-d883-4618-953b-dad1610b39f4");
    assert_eq!(m["to"], "+14155550101");
    assert_eq!(m["provider"], "telnyx");
    assert_eq!(m["provider_message_id"].as_str(), calls[0].provider_message_id.as_deref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_out_through_ses_v2() {
    // A region no other test uses, so the emulator's send count is this test's alone.
    let app = spawn_app(&[("AWS_REGION", "eu-west-3"), ("HERALD_SES_CONFIGURATION_SET", "herald-events")]).await;
    let t = app.create_tenant(json!({})).await;
    app.email_identity(&t, "grace.example").await;
    let r = app
        .put("/v1/channels/email", &t.live_key, json!({"provider": "ses", "from_address": "News@Grace.example"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["from_address"], "news@grace.example");
    let before = ses_sent_count(&app.region).await;
    let r = app.send(&t.live_key, json!({"channel": "email", "to": "Member@Example.com", "subject": "Welcome", "body": "Hello", "html": "<p>Hello</p>"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert_eq!(m["provider"], "ses");
    assert_eq!(m["to"], "member@example.com");
    assert!(m["provider_message_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(ses_sent_count(&app.region).await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_text_and_template_reach_the_cloud_api() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_whatsapp(&t).await;
    // The recipient wrote in recently: the 24 h window is open for free-form text.
    let r = app
        .post(&format!("/v1/admin/tenants/{}/whatsapp-window", t.id), &app.admin_key, json!({"phone": "+16505551234"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let text =
        app.send(&t.live_key, json!({"channel": "whatsapp", "to": "+16505551234", "body": "Your order shipped"})).await;
    assert_eq!(text.status, 202, "{}", text.body);
    let tpl = app
        .send(&t.live_key, json!({"channel": "whatsapp", "to": "+16505551235", "template": {"name": "order_update", "language": "en_US", "parameters": ["A-1"]}}))
        .await;
    assert_eq!(tpl.status, 202, "{}", tpl.body);
    app.wait_status(&t.live_key, text.body["id"].as_str().unwrap(), "sent", WAIT).await;
    let m = app.wait_status(&t.live_key, tpl.body["id"].as_str().unwrap(), "sent", WAIT).await;
    assert!(m["provider_message_id"].as_str().unwrap().starts_with("wamid."));
    let calls = app.sim.requests(SimProvider::Whatsapp);
    assert_eq!(calls.len(), 2);
    for c in &calls {
        assert_eq!(c.auth.as_deref(), Some(format!("bearer:{WHATSAPP_TOKEN}").as_str()));
        assert_eq!(c.path, "/v23.0/106540352242922/messages");
        assert_eq!(c.json["messaging_product"], "whatsapp");
    }
    let text_call = calls.iter().find(|c| c.json["type"] == "text").expect("text call");
    assert_eq!(text_call.json["to"], "16505551234");
    assert_eq!(text_call.json["text"]["body"], "Your order shipped");
    let tpl_call = calls.iter().find(|c| c.json["type"] == "template").expect("template call");
    assert_eq!(tpl_call.json["template"]["name"], "order_update");
    assert_eq!(tpl_call.json["template"]["language"]["code"], "en_US");
    assert_eq!(tpl_call.json["template"]["components"][0]["parameters"][0]["text"], "A-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_answer_and_refuses_other_payloads() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let body = json!({"channel": "sms", "to": "+14155550100", "body": "once"});
    let first = app.send_idempotent(&t.live_key, body.clone(), "order-42").await;
    let second = app.send_idempotent(&t.live_key, body, "order-42").await;
    assert_eq!(first.status, 202);
    assert_eq!(second.status, 202);
    assert_eq!(first.body, second.body, "the same answer, the same message id");
    let id = first.body["id"].as_str().unwrap();
    app.wait_status(&t.live_key, id, "sent", WAIT).await;
    let other = app
        .send_idempotent(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "twice"}), "order-42")
        .await;
    assert_eq!(other.status, 409);
    assert_eq!(other.code(), "IDEMPOTENCY_KEY_REUSED");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 1, "one provider call");
    let list = app.get("/v1/messages", &t.live_key).await;
    assert_eq!(list.body["messages"].as_array().unwrap().len(), 1, "one message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_contract_codes_and_nothing_is_enqueued() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let other = app.create_tenant(json!({"name": "Other"})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let cases = [
        (json!({"channel": "sms", "to": "12", "body": "x"}), 400, "INVALID_PHONE_NUMBER_FORMAT"),
        (json!({"channel": "sms", "to": "not-a-number", "body": "x"}), 400, "INVALID_PHONE_NUMBER_FORMAT"),
        (json!({"channel": "sms", "to": "+14155550100"}), 400, "VALIDATION_ERROR"),
        (json!({"channel": "sms", "to": "+14155550100", "body": "x", "colour": "red"}), 400, "VALIDATION_ERROR"),
        (json!({"channel": "fax", "to": "+14155550100", "body": "x"}), 400, "VALIDATION_ERROR"),
        (json!({"channel": "email", "to": "nobody", "subject": "s", "body": "b"}), 400, "VALIDATION_ERROR"),
        (json!({"channel": "sms", "to": "+14155550100", "body": "x", "from": "+14155559999"}), 400, "VALIDATION_ERROR"),
    ];
    for (body, status, code) in cases {
        let r = app.send(&t.live_key, body.clone()).await;
        assert_eq!(r.status, status, "{body} → {}", r.body);
        assert_eq!(r.code(), code, "{body} → {}", r.body);
        assert!(r.body["error"]["request_id"].as_str().is_some_and(|s| s.starts_with("req_")));
        assert!(r.body["error"]["message"].as_str().is_some_and(|s| !s.is_empty()));
    }
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "12", "body": "x"})).await;
    assert_eq!(r.body["error"]["fields"]["to"], "INVALID_PHONE_NUMBER_FORMAT");
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "x", "colour": "red"})).await;
    assert_eq!(r.body["error"]["fields"]["colour"], "UNKNOWN_FIELD");
    // Authentication.
    let r = app
        .call(
            reqwest::Method::POST,
            "/v1/messages",
            None,
            Some(json!({"channel": "sms", "to": "+14155550100", "body": "x"})),
            &[],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "UNAUTHENTICATED"));
    let r = app.send("hk_live_wrong", json!({"channel": "sms", "to": "+14155550100", "body": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "UNAUTHENTICATED"));
    let r = app.post("/v1/admin/tenants", &t.live_key, json!({"name": "x"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "FORBIDDEN"));
    // 256 KiB limit.
    let big = "a".repeat(300 * 1024);
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": big})).await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "PAYLOAD_TOO_LARGE"));
    // Nothing was enqueued or recorded.
    assert_eq!(app.queued_count(Channel::Sms).await, 0);
    let list = app.get("/v1/messages", &t.live_key).await;
    assert_eq!(list.body["messages"].as_array().unwrap().len(), 0);
    // Another tenant's message id answers 404, like a missing one.
    let mine = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "mine"})).await;
    let id = mine.body["id"].as_str().unwrap();
    let r = app.get(&format!("/v1/messages/{id}"), &other.live_key).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "NOT_FOUND"));
    let r = app.get("/v1/messages/msg_doesnotexist", &other.live_key).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_keys_run_the_pipeline_without_calling_providers() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let r = app.send(&t.test_key, json!({"channel": "sms", "to": "+14155550100", "body": "hi"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let m = app.wait_status(&t.test_key, r.body["id"].as_str().unwrap(), "delivered", WAIT).await;
    assert_eq!(m["provider"], "simulator");
    assert_eq!(m["test"], true);
    assert!(m["delivered_at"].is_string());
    assert!(app.sim.requests(SimProvider::Twilio).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_back_off_then_succeed_with_every_attempt_recorded() {
    let app = spawn_app(&[("HERALD_MAX_ATTEMPTS", "5")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 2, Fault::status(503));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "retry me"})).await;
    let id = r.body["id"].as_str().unwrap();
    let m = app.wait_status(&t.live_key, id, "sent", WAIT).await;
    let attempts = m["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{m}");
    assert_eq!(attempts[0]["outcome"], "retry");
    assert_eq!(attempts[0]["error_code"], "TEMPORARY_ERROR");
    assert!(attempts[0]["next_retry_at"].is_string());
    assert_eq!(attempts[1]["outcome"], "retry");
    assert_eq!(attempts[2]["outcome"], "sent");
    assert_eq!(m["error_code"], serde_json::Value::Null);
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 3);
    // The back-off was honoured: the retries are at least the configured 1 s apart.
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(attempts[i]["at"].as_str().unwrap()).unwrap();
    assert!((at(1) - at(0)).num_milliseconds() >= 1000);
    assert!((at(2) - at(1)).num_milliseconds() >= 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_fails_at_once_with_the_contract_code() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_next(SimProvider::Twilio, 1, Fault::code(400, "21211"));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "bad number"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "failed", WAIT).await;
    assert_eq!(m["error_code"], "INVALID_PHONE_NUMBER");
    assert_eq!(m["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(m["attempts"][0]["provider_error_code"], "21211");
    assert!(m["error_message"].as_str().unwrap().contains("not a valid phone number"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 1, "never retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_failing_provider_exhausts_attempts_and_dead_letters() {
    let app = spawn_app(&[("HERALD_MAX_ATTEMPTS", "3")]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    app.sim.fail_always(SimProvider::Twilio, Fault::status(500));
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "doomed"})).await;
    let m = app.wait_status(&t.live_key, r.body["id"].as_str().unwrap(), "failed", WAIT).await;
    assert_eq!(m["error_code"], "TEMPORARY_ERROR");
    assert_eq!(m["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(app.sim.requests(SimProvider::Twilio).len(), 3);
    let id = m["id"].as_str().unwrap();
    let dlq = app.get("/v1/dlq?channel=sms", &t.live_key).await;
    let listed: Vec<&str> =
        dlq.body["messages"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![id], "the message is in the dead-letter queue");
    eventually(WAIT, "gone from the main queue", || async {
        (app.queued_count(Channel::Sms).await == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_sqs_record_calls_the_provider_once() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    app.configure_twilio(&t, "+14155550001").await;
    let store: &dyn MessageStore = &app.running.app.infra.store;
    let sending = &app.running.app.services.sending;

    // 1. Two concurrent deliveries of the same record race for the conditional claim.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let r =
        app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550100", "body": "race", "send_at": later})).await;
    assert_eq!(r.body["status"], "scheduled");
    let id = herald_core::MessageId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let mut msg = store.message(&id).await.unwrap().unwrap();
    msg.status = herald_core::Status::Queued;
    msg.version += 1;
    assert!(store.replace(&msg).await.unwrap());
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some("m-1".into());
    record.receipt_handle = Some("r-1".into());
    record.body = Some(serde_json::to_string(&msg.job()).unwrap());
    record.attributes.insert("MessageGroupId".into(), msg.group_id());
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = vec![record];
    let (a, b) =
        tokio::join!(herald_sender::handle(sending, event.clone()), herald_sender::handle(sending, event.clone()));
    assert!(a.batch_item_failures.is_empty() && b.batch_item_failures.is_empty());
    assert_eq!(app.sim.requests_to(SimProvider::Twilio, "+14155550100").len(), 1);
    assert_eq!(app.message(&t.live_key, id.as_str()).await["status"], "sent");

    // 2. A second copy of a queued record on the real queue (as after a visibility timeout).
    let r = app.send(&t.live_key, json!({"channel": "sms", "to": "+14155550199", "body": "dup"})).await;
    let id2 = herald_core::MessageId::parse(r.body["id"].as_str().unwrap()).unwrap();
    let m2 = store.message(&id2).await.unwrap().unwrap();
    let url = app.running.app.infra.queues.pair(Channel::Sms).unwrap().url.clone();
    app.sqs()
        .send_message()
        .queue_url(url)
        .message_body(serde_json::to_string(&m2.job()).unwrap())
        .message_group_id(m2.group_id())
        .message_deduplication_id(format!("{}-redelivery", m2.id))
        .send()
        .await
        .unwrap();
    app.wait_status(&t.live_key, id2.as_str(), "sent", WAIT).await;
    eventually(WAIT, "both copies consumed", || async { (app.queued_count(Channel::Sms).await == 0).then_some(()) })
        .await;
    assert_eq!(app.sim.requests_to(SimProvider::Twilio, "+14155550199").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_accepts_and_refuses_each_message_on_its_own() {
    let app = spawn_app(&[]).await;
    let t = app.create_tenant(json!({})).await;
    let r = app
        .post(
            "/v1/messages/batch",
            &t.test_key,
            json!({"messages": [
                {"channel": "sms", "to": "+14155550100", "body": "one"},
                {"channel": "sms", "to": "nope", "body": "two"},
                {"channel": "email", "to": "a@example.com", "subject": "s", "body": "three"},
                {"channel": "sms", "to": "+14155550101", "body": "four", "colour": "red"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["status"], "queued");
    assert_eq!(results[1]["error"]["code"], "INVALID_PHONE_NUMBER_FORMAT");
    assert_eq!(results[2]["status"], "queued");
    assert_eq!(results[3]["error"]["code"], "VALIDATION_ERROR");
    for i in [0, 2] {
        app.wait_status(&t.test_key, results[i]["id"].as_str().unwrap(), "delivered", WAIT).await;
    }
    // Twelve for one channel: their jobs go to moto's SQS in two SendMessageBatch requests.
    let twelve: Vec<_> =
        (0..12).map(|i| json!({"channel": "sms", "to": format!("+141555502{i:02}"), "body": "b"})).collect();
    let r = app.post("/v1/messages/batch", &t.test_key, json!({"messages": twelve})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for res in r.body["results"].as_array().unwrap() {
        let id = res["id"].as_str().unwrap_or_else(|| panic!("refused: {res}"));
        app.wait_status(&t.test_key, id, "delivered", WAIT).await;
    }
    let too_many: Vec<_> = (0..101).map(|_| json!({"channel": "sms", "to": "+14155550100", "body": "x"})).collect();
    let r = app.post("/v1/messages/batch", &t.test_key, json!({"messages": too_many})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "VALIDATION_ERROR"));
}
