//! Voicemail recordings in S3: one private, encrypted bucket whose objects expire after 30
//! days (the template declares it; herald-local creates it the same way in the emulator).
use crate::SetupError;
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use aws_sdk_s3::Client;
use herald_core::ports::{RecordingStore, StoreError, StoreResult};

pub const RECORDING_DAYS: i32 = 30;

/// The client is built on first use: only the webhooks function ever stores a recording,
/// and no function pays for an S3 client at cold start.
#[derive(Clone)]
pub struct S3Recordings {
    sdk: aws_config::SdkConfig,
    /// Path-style addressing (an emulator's endpoint has no bucket subdomains).
    path_style: bool,
    client: std::sync::Arc<std::sync::OnceLock<Client>>,
    bucket: String,
}

impl S3Recordings {
    pub fn new(sdk: &aws_config::SdkConfig, path_style: bool, bucket: impl Into<String>) -> Self {
        Self { sdk: sdk.clone(), path_style, client: Default::default(), bucket: bucket.into() }
    }

    fn client(&self) -> &Client {
        self.client.get_or_init(|| {
            Client::from_conf(aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.path_style).build())
        })
    }

    /// Creates the bucket when missing: SSE, public access blocked, expiry after 30 days.
    pub async fn ensure_bucket(&self) -> Result<(), SetupError> {
        let err = |what: &str, e: &dyn std::fmt::Debug| SetupError(format!("{what} {}: {e:?}", self.bucket));
        if self.client().head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        let mut create = self.client().create_bucket().bucket(&self.bucket);
        // Outside us-east-1, S3 wants the region named as the bucket's location.
        let region = self.sdk.region().map(|r| r.to_string()).unwrap_or_default();
        if !region.is_empty() && region != "us-east-1" {
            let location = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
            let config = aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(location).build();
            create = create.create_bucket_configuration(config);
        }
        create.send().await.map_err(|e| err("create bucket", &e))?;
        let sse = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| err("encryption", &e))?;
        let rules = ServerSideEncryptionConfiguration::builder()
            .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(sse).build())
            .build()
            .map_err(|e| err("encryption", &e))?;
        let put = self.client().put_bucket_encryption().bucket(&self.bucket);
        put.server_side_encryption_configuration(rules).send().await.map_err(|e| err("encryption", &e))?;
        let block = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(true)
            .ignore_public_acls(true)
            .restrict_public_buckets(true)
            .build();
        let put = self.client().put_public_access_block().bucket(&self.bucket);
        put.public_access_block_configuration(block).send().await.map_err(|e| err("public access block", &e))?;
        let rule = LifecycleRule::builder()
            .id("expire-recordings")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("recordings/").build())
            .expiration(LifecycleExpiration::builder().days(RECORDING_DAYS).build())
            .build()
            .map_err(|e| err("lifecycle", &e))?;
        let lifecycle =
            BucketLifecycleConfiguration::builder().rules(rule).build().map_err(|e| err("lifecycle", &e))?;
        let put = self.client().put_bucket_lifecycle_configuration().bucket(&self.bucket);
        put.lifecycle_configuration(lifecycle).send().await.map_err(|e| err("lifecycle", &e))?;
        Ok(())
    }
}

#[async_trait]
impl RecordingStore for S3Recordings {
    async fn put_recording(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> StoreResult<()> {
        self.client()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "s3 put failed");
                StoreError::Unavailable(format!("s3 put: {e}"))
            })?;
        Ok(())
    }

    async fn recording_url(&self, key: &str, ttl: std::time::Duration) -> StoreResult<String> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(ttl)
            .map_err(|e| StoreError::Unavailable(format!("presign: {e}")))?;
        let req = self.client().get_object().bucket(&self.bucket).key(key).presigned(config).await.map_err(|e| {
            tracing::error!(error = ?e, "s3 presign failed");
            StoreError::Unavailable(format!("s3 presign: {e}"))
        })?;
        Ok(req.uri().to_string())
    }
}
