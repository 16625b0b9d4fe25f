//! The per-channel kill flag (`{channel}_sending`): new messages are refused, queued ones
//! held until the channel is turned on again.
use crate::channel::Channel;
use crate::message::HoldReason;
use crate::ports::FeatureStore;
use crate::service::policy::guard::{AcceptCheck, Guard, SendCheck, Verdict};
use crate::service::policy::Gate;
use crate::service::HeraldError;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn feature_for(channel: Channel) -> String {
    format!("{channel}_sending")
}

/// The feature flags as this container last read them (at most `recheck` old).
pub struct Flags {
    features: Arc<dyn FeatureStore>,
    recheck: std::time::Duration,
    cache: Mutex<Option<(BTreeMap<String, bool>, Instant)>>,
}

impl Flags {
    pub fn new(features: Arc<dyn FeatureStore>, recheck: std::time::Duration) -> Self {
        Self { features, recheck, cache: Mutex::new(None) }
    }

    pub fn forget(&self) {
        *self.cache.lock().unwrap() = None;
    }

    pub async fn channel_enabled(&self, channel: Channel) -> Result<bool, HeraldError> {
        let cached =
            self.cache.lock().unwrap().as_ref().filter(|(_, at)| at.elapsed() < self.recheck).map(|(f, _)| f.clone());
        let features = match cached {
            Some(f) => f,
            None => {
                let f = self.features.features().await?;
                *self.cache.lock().unwrap() = Some((f.clone(), Instant::now()));
                f
            }
        };
        Ok(features.get(&feature_for(channel)).copied().unwrap_or(true))
    }
}

pub struct ChannelFlag {
    flags: Arc<Flags>,
}

impl ChannelFlag {
    pub fn new(flags: Arc<Flags>) -> Self {
        Self { flags }
    }
}

#[async_trait]
impl Guard for ChannelFlag {
    fn name(&self) -> &'static str {
        "channel_flag"
    }
    async fn at_acceptance(&self, c: &mut AcceptCheck<'_>) -> Result<Verdict, HeraldError> {
        let channel = c.req.channel;
        Ok(match self.flags.channel_enabled(channel).await? {
            true => Verdict::Pass,
            false => Verdict::Refuse(HeraldError::ChannelDisabled(channel)),
        })
    }
    async fn before_send(&self, c: &SendCheck<'_>) -> Result<Option<Gate>, HeraldError> {
        let enabled = self.flags.channel_enabled(c.channel()).await?;
        Ok((!enabled).then(|| Gate::held(HoldReason::ChannelDisabled)))
    }
}
