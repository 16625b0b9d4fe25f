//! Issue 11: least privilege, proved against an emulator that enforces IAM. moto, started
//! with INITIAL_NO_AUTH_ACTION_COUNT, checks every request after the first N against the
//! calling IAM user's policies. Each function gets a user whose policy holds exactly the
//! actions of its statements in template.yaml. moto evaluates actions only (every request's
//! resource is "*", S3 aside), so this proves each function's actions; the statements'
//! resources are the template's own ARNs, checked by cfn-lint and `sam validate`. The
//! calls each function's code makes must pass; an action outside its policy is denied.
//! `iam_flow` then runs a message's whole path with each function wired on its own user.
mod iam_flow;
use herald_aws::{DynamoStore, SecretsManager, SqsQueues};
use herald_core::message::SendJob;
use herald_core::ports::{CallbackQueue, SecretStore, SendQueue, TenantStore};
use herald_core::{Channel, CorrelationId, MessageId, TenantId};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::time::Duration;

const FUNCTIONS: &[&str] = &[
    "ApiFunction",
    "SmsSenderFunction",
    "EmailSenderFunction",
    "WhatsappSenderFunction",
    "WebhooksFunction",
    "SesEventsFunction",
    "CallbacksFunction",
    "JobsFunction",
    "StatsFunction",
];

/// Each function's policy statements in template.yaml, as an IAM policy document.
fn template_policies() -> BTreeMap<String, serde_json::Value> {
    let raw = include_str!("../../../template.yaml");
    let doc: Value = serde_yaml::from_str(raw).expect("template.yaml parses");
    let mut out = BTreeMap::new();
    for f in FUNCTIONS {
        let policies = &doc["Resources"][*f]["Properties"]["Policies"];
        let mut statements = Vec::new();
        for policy in policies.as_sequence().expect("an explicit policy list") {
            for st in policy["Statement"].as_sequence().expect("inline statements only") {
                let actions: Vec<String> = match &st["Action"] {
                    Value::Sequence(list) => list.iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
                    Value::String(a) => vec![a.clone()],
                    other => panic!("{f}: unexpected Action {other:?}"),
                };
                statements
                    .push(serde_json::json!({"Effect": "Allow", "Action": moto_actions(actions), "Resource": "*"}));
            }
        }
        out.insert(f.to_string(), serde_json::json!({"Version": "2012-10-17", "Statement": statements}));
    }
    out
}

/// AWS authorizes a DynamoDB transaction by its items' own actions (PutItem, UpdateItem,
/// DeleteItem, ConditionCheckItem; "Using IAM with DynamoDB transactions"); moto checks a
/// `dynamodb:TransactWriteItems` action instead, which real IAM does not have. Granted to
/// a policy that holds all the item actions a transaction may use, and to no other. In
/// the same way SQS authorizes `DeleteMessageBatch` by `sqs:DeleteMessage` (there is no
/// batch action in IAM; cfn-lint rejects one), where moto checks the batch's own name.
fn moto_actions(mut actions: Vec<String>) -> Vec<String> {
    let items = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"];
    if items.iter().all(|a| actions.iter().any(|x| x == a)) {
        actions.push("dynamodb:TransactWriteItems".into());
    }
    for (one, batch) in [
        ("sqs:DeleteMessage", "sqs:DeleteMessageBatch"),
        ("sqs:SendMessage", "sqs:SendMessageBatch"),
        ("sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch"),
    ] {
        if actions.iter().any(|x| x == one) {
            actions.push(batch.into());
        }
    }
    actions
}

fn moto_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn sdk(url: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_sqs::config::Credentials::new(key, secret, None, None, "iam-test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(creds)
        .load()
        .await
}

/// Creates one IAM user per policy (3 unauthenticated calls each) and returns its keys.
async fn users(url: &str, policies: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, (String, String)> {
    let iam = aws_sdk_iam::Client::new(&sdk(url, "bootstrap", "bootstrap").await);
    let mut keys = BTreeMap::new();
    for (name, doc) in policies {
        iam.create_user().user_name(name).send().await.expect("create user");
        iam.put_user_policy()
            .user_name(name)
            .policy_name("herald")
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
        let k = iam.create_access_key().user_name(name).send().await.unwrap().access_key.unwrap();
        keys.insert(name.clone(), (k.access_key_id, k.secret_access_key));
    }
    keys
}

struct Stack {
    store: DynamoStore,
    queues: SqsQueues,
    secrets: SecretsManager,
}

/// A function's adapters as Lambda builds them: queue URLs given (as the template passes them).
async fn stack(url: &str, (key, secret): &(String, String), queues: &SqsQueues) -> Stack {
    let sdk = sdk(url, key, secret).await;
    let pairs = Channel::ALL.iter().map(|c| (*c, queues.pair(*c).unwrap().clone())).collect();
    Stack {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "herald"),
        queues: SqsQueues::new(aws_sdk_sqs::Client::new(&sdk), pairs, queues.callbacks().cloned()),
        secrets: SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk)),
    }
}

/// A job whose message was never written (its request stopped an hour ago): the sender
/// drops it.
fn job(channel: Channel) -> SendJob {
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).timestamp_millis() as u64;
    SendJob {
        message_id: MessageId::floor_at(hour_ago),
        tenant_id: TenantId::generate(),
        channel,
        generation: 0,
        correlation_id: CorrelationId::generate(),
        to: Some("+14155550100".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_can_do_its_work_and_nothing_more() {
    herald_tests::init_logs();
    let mut policies = template_policies();
    policies.insert("Setup".into(), serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
    let port = moto_port();
    let n = policies.len() * 3;
    let mut moto = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "moto_server did not start on port {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("http://127.0.0.1:{port}");
    let keys = users(&url, &policies).await;
    // Setup, as the template would have created it.
    let admin_sdk = sdk(&url, &keys["Setup"].0, &keys["Setup"].1).await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&admin_sdk), "herald").ensure_table().await.unwrap();
    let queues =
        SqsQueues::ensure(aws_sdk_sqs::Client::new(&admin_sdk), "herald", Duration::from_secs(30), 1000).await.unwrap();
    let sns = aws_sdk_sns::Client::new(&admin_sdk);
    let topic = herald_aws::sns::SnsAlerts::ensure_topic(&sns, "herald-alerts").await.unwrap();
    recordings(&admin_sdk).ensure_bucket().await.unwrap();
    let ses = aws_sdk_sesv2::Client::new(&admin_sdk);
    ses.create_email_identity().email_identity("grace.example").send().await.unwrap();
    let result = std::panic::AssertUnwindSafe(async {
        check_all(&url, &keys, &queues, &topic).await;
        iam_flow::message_path(&url, &keys, &queues, &topic).await;
        iam_flow::circuit_close_release(&url, &keys, &queues, &topic).await;
    });
    let outcome = futures::FutureExt::catch_unwind(result).await;
    let _ = moto.kill();
    let _ = moto.wait();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn check_all(url: &str, keys: &BTreeMap<String, (String, String)>, queues: &SqsQueues, topic: &str) {
    // Denied at all: an unknown caller.
    let stranger = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk(url, "AKIAUNKNOWN", "x").await), "herald");
    assert!(stranger.tenant(&TenantId::generate()).await.is_err(), "an unknown key is refused");

    let api = stack(url, &keys["ApiFunction"], queues).await;
    assert!(api.store.tenant(&TenantId::generate()).await.is_ok(), "api reads the table");
    assert!(api.queues.enqueue(&job(Channel::Sms), "g", "d1").await.is_ok(), "api enqueues");
    assert!(api.secrets.put("herald/tenants/t1/channels/sms", "{}").await.is_ok(), "api stores credentials");
    assert!(api.queues.receive_dead_letters(Channel::Sms, 1).await.is_ok(), "api runs jobs on demand");

    let sms = stack(url, &keys["SmsSenderFunction"], queues).await;
    let got = sms.queues.receive(Channel::Sms, 1, Duration::ZERO).await.expect("the sms sender consumes its queue");
    assert_eq!(got.len(), 1);
    sms.queues.retry_later(Channel::Sms, &got[0].receipt_handle, Duration::from_secs(1)).await.expect("back-off");
    // retry-now: the API ends a back-off with the handle the sender stored on the message.
    // (Its receive and delete rights name the DLQs only; moto checks actions, not queues.)
    api.queues.retry_later(Channel::Sms, &got[0].receipt_handle, Duration::ZERO).await.expect("api releases back-offs");
    assert!(sms.secrets.get("herald/tenants/t1/channels/sms").await.is_ok(), "reads credentials");
    let cb = herald_core::inbound::CallbackJob {
        message_id: Some(MessageId::generate()),
        tenant_id: TenantId::generate(),
        status: herald_core::Status::Sent,
        at: chrono::Utc::now(),
        call: None,
    };
    assert!(sms.queues.enqueue_callback(&cb).await.is_ok(), "queues status callbacks");
    assert!(
        sms.secrets.put("herald/tenants/t1/channels/sms", "{}").await.is_err(),
        "a sender never writes credentials"
    );

    check_other_senders(url, keys, queues).await;

    let webhooks = stack(url, &keys["WebhooksFunction"], queues).await;
    check_recordings(url, keys).await;
    check_console(url, keys).await;
    assert!(webhooks.queues.enqueue(&job(Channel::Sms), "g", "d3").await.is_ok(), "replies go through the queue");
    assert!(webhooks.queues.receive(Channel::Sms, 1, Duration::ZERO).await.is_err());

    let ses_events = stack(url, &keys["SesEventsFunction"], queues).await;
    assert!(ses_events.store.tenant(&TenantId::generate()).await.is_ok());
    assert!(ses_events.queues.enqueue_callback(&cb).await.is_ok(), "queues status callbacks");
    assert!(ses_events.queues.receive_dead_letters(Channel::Sms, 1).await.is_err(), "ses-events consumes no queue");

    let callbacks = stack(url, &keys["CallbacksFunction"], queues).await;
    assert!(callbacks.queues.receive_url(&callbacks.queues.callbacks().unwrap().url, 1, Duration::ZERO).await.is_ok());
    assert!(callbacks.queues.enqueue(&job(Channel::Sms), "g", "d4").await.is_err());

    // The reported bug: the jobs function must drain the dead-letter queues.
    let jobs = stack(url, &keys["JobsFunction"], queues).await;
    assert!(jobs.queues.receive_dead_letters(Channel::Email, 10).await.is_ok(), "jobs drains the DLQs");
    assert!(jobs.queues.enqueue(&job(Channel::Email), "g", "d5").await.is_ok(), "jobs re-enqueues");
    let jobs_sdk = sdk(url, &keys["JobsFunction"].0, &keys["JobsFunction"].1).await;
    let alerts = herald_aws::sns::SnsAlerts::new(aws_sdk_sns::Client::new(&jobs_sdk), Some(topic.to_string()));
    assert!(
        herald_core::ports::Alerts::alert(&alerts, "linking", &serde_json::json!({})).await.is_ok(),
        "jobs alerts support"
    );
    assert!(jobs.secrets.put("herald/tenants/t1/channels/sms", "{}").await.is_err(), "jobs never writes credentials");
    check_stats(url, keys, queues).await;
}

fn recordings(sdk: &aws_config::SdkConfig) -> herald_aws::s3::S3Recordings {
    herald_aws::s3::S3Recordings::new(sdk, true, "herald-recordings")
}

/// Only the webhooks function stores voicemail recordings (S3 is the one service moto checks
/// resources for: the statement names the bucket's recordings/ prefix).
async fn check_recordings(url: &str, keys: &BTreeMap<String, (String, String)>) {
    use herald_core::ports::RecordingStore;
    let webhooks = recordings(&sdk(url, &keys["WebhooksFunction"].0, &keys["WebhooksFunction"].1).await);
    let put = webhooks.put_recording("recordings/ten_x/CA1/RE1.mp3", b"ID3".to_vec(), "audio/mpeg").await;
    assert!(put.is_ok(), "webhooks stores recordings: {put:?}");
    for f in ["ApiFunction", "SmsSenderFunction", "JobsFunction", "StatsFunction"] {
        let other = recordings(&sdk(url, &keys[f].0, &keys[f].1).await);
        let put = other.put_recording("recordings/ten_x/CA1/RE2.mp3", b"ID3".to_vec(), "audio/mpeg").await;
        assert!(put.is_err(), "{f} never writes recordings");
    }
}

/// The API alone manages console users in Cognito and plays voicemail through a presigned
/// URL (signed with its own credentials: S3 checks the signer's rights when it is fetched).
async fn check_console(url: &str, keys: &BTreeMap<String, (String, String)>) {
    use herald_core::ports::{RecordingStore, SignIn, UserPool};
    let setup = sdk(url, &keys["Setup"].0, &keys["Setup"].1).await;
    let (pool, client) =
        herald_aws::cognito::ensure_pool(&aws_sdk_cognitoidentityprovider::Client::new(&setup), "herald-users")
            .await
            .unwrap();
    let as_fn = |f: &str| {
        let (k, s) = keys[f].clone();
        let (pool, client) = (pool.clone(), client.clone());
        async move {
            let c = aws_sdk_cognitoidentityprovider::Client::new(&sdk(url, &k, &s).await);
            herald_aws::cognito::CognitoPool::new(c, &pool, &client)
        }
    };
    let api = as_fn("ApiFunction").await;
    let role = herald_core::users::Role::Owner;
    api.create_user("iam@grace.org", role, Some("Temp-pass1!")).await.expect("api invites users");
    let Ok(SignIn::NewPasswordRequired { session }) = api.sign_in("iam@grace.org", "Temp-pass1!").await else {
        panic!("api signs users in")
    };
    let tokens = api.set_new_password("iam@grace.org", &session, "Own-pass-22!").await.expect("first password");
    assert!(api.token_valid(&tokens.access).await.unwrap());
    api.disable("iam@grace.org").await.expect("api removes users");
    for f in ["SmsSenderFunction", "WebhooksFunction", "JobsFunction"] {
        let other = as_fn(f).await;
        assert!(other.create_user("x@grace.org", role, Some("Temp-pass1!")).await.is_err(), "{f} manages no users");
    }
    // A presigned URL is authorized at S3 as its signer's GetObject. moto's IAM check cannot
    // read a SigV4 query-string signature (it wants an Authorization header: a 500), so the
    // signer's right is proved with the same GetObject made directly.
    let get = |f: &'static str| async move {
        let conf =
            aws_sdk_s3::config::Builder::from(&sdk(url, &keys[f].0, &keys[f].1).await).force_path_style(true).build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        s3.get_object().bucket("herald-recordings").key("recordings/ten_x/CA1/RE1.mp3").send().await
    };
    let played = get("ApiFunction").await.expect("the api reads recordings (its presigned URLs play)");
    assert_eq!(played.body.collect().await.unwrap().into_bytes().as_ref(), b"ID3");
    for f in ["SmsSenderFunction", "JobsFunction", "StatsFunction"] {
        assert!(get(f).await.is_err(), "{f} reads no recording");
    }
    let api_s3 = recordings(&sdk(url, &keys["ApiFunction"].0, &keys["ApiFunction"].1).await);
    let signed = api_s3.recording_url("recordings/ten_x/CA1/RE1.mp3", Duration::from_secs(300)).await.unwrap();
    assert!(signed.contains("X-Amz-Expires=300") && signed.contains("/recordings/"), "{signed}");
}

/// The stats function reads the table's stream and adds to its counters; nothing else.
async fn check_stats(url: &str, keys: &BTreeMap<String, (String, String)>, queues: &SqsQueues) {
    use herald_core::ports::StatsStore;
    let stats = stack(url, &keys["StatsFunction"], queues).await;
    let stats_sdk = sdk(url, &keys["StatsFunction"].0, &keys["StatsFunction"].1).await;
    let mut tail = herald_aws::streams::StreamTail::new(&stats_sdk, "herald");
    assert!(tail.poll(10).await.is_ok(), "stats reads the stream");
    let mut tally = herald_core::stats::Tally::default();
    tally.dead_letters.insert(Channel::Sms, 1);
    assert!(stats.store.add_tally(&tally).await.is_ok(), "stats adds to its counters");
    assert!(stats.store.held_counts().await.is_ok(), "stats reads its counters");
    assert!(stats.store.tenant(&TenantId::generate()).await.is_err(), "stats reads no other item");
    assert!(stats.queues.receive(Channel::Sms, 1, Duration::ZERO).await.is_err(), "stats consumes no queue");
    let api_sdk = sdk(url, &keys["ApiFunction"].0, &keys["ApiFunction"].1).await;
    let mut api_tail = herald_aws::streams::StreamTail::new(&api_sdk, "herald");
    assert!(api_tail.poll(10).await.is_err(), "only the stats function reads the stream");
}

/// Only the email sender may call SES; the WhatsApp sender reads, never writes, credentials.
async fn check_other_senders(url: &str, keys: &BTreeMap<String, (String, String)>, queues: &SqsQueues) {
    let email_sdk = sdk(url, &keys["EmailSenderFunction"].0, &keys["EmailSenderFunction"].1).await;
    let ses = herald_providers::ses::SesEmail::new(aws_sdk_sesv2::Client::new(&email_sdk), None);
    let mail = herald_providers::ses::Email {
        from: "news@grace.example",
        to: "ann@example.com",
        subject: "s",
        text: Some("t"),
        html: None,
        message_id: "msg_1",
        tenant_id: "ten_1",
    };
    assert!(ses.send(&mail).await.is_ok(), "the email sender sends through SES");
    let sms_sdk = sdk(url, &keys["SmsSenderFunction"].0, &keys["SmsSenderFunction"].1).await;
    let sms_ses = herald_providers::ses::SesEmail::new(aws_sdk_sesv2::Client::new(&sms_sdk), None);
    assert!(sms_ses.send(&mail).await.is_err(), "the sms sender sends no email");

    let wa = stack(url, &keys["WhatsappSenderFunction"], queues).await;
    assert!(wa.queues.receive(Channel::Whatsapp, 1, Duration::ZERO).await.is_ok(), "consumes its queue");
    assert!(wa.secrets.get("herald/tenants/t1/channels/whatsapp").await.is_ok(), "reads credentials");
    assert!(wa.secrets.put("herald/tenants/t1/channels/whatsapp", "{}").await.is_err(), "never writes them");
    let wa_sdk = sdk(url, &keys["WhatsappSenderFunction"].0, &keys["WhatsappSenderFunction"].1).await;
    let wa_ses = herald_providers::ses::SesEmail::new(aws_sdk_sesv2::Client::new(&wa_sdk), None);
    assert!(wa_ses.send(&mail).await.is_err(), "the whatsapp sender sends no email");
}
