//! What `Services::wire` is built from: the adapters of one deployment, grouped by
//! capability. Only the service constructors read this; each service keeps only the narrow
//! ports it uses (an `Arc<dyn Db>` coerces to any one of its ports).
use crate::ports::*;
use std::sync::Arc;

pub struct Adapters {
    /// The table: messages, indexes, guards' counters, events, audit, voice.
    pub db: Arc<dyn Db>,
    /// Tenants, keys, channels and numbers (cached per container).
    pub config: Arc<dyn ConfigStore>,
    pub queues: Arc<dyn Queues>,
    pub callbacks: Arc<dyn Callbacks>,
    pub secrets: Arc<dyn SecretStore>,
    pub providers: Arc<dyn ProviderGateway>,
    pub telnyx_numbers: Arc<dyn TelnyxNumbers>,
    pub voice_carrier: Arc<dyn VoiceCarrier>,
    pub recordings: Arc<dyn RecordingStore>,
    pub email_identities: Arc<dyn EmailIdentities>,
    pub alerts: Arc<dyn Alerts>,
    /// Console users and sessions (the table) and the user directory (Cognito).
    pub users: Arc<dyn UserStore>,
    pub user_pool: Arc<dyn UserPool>,
    pub clock: Arc<dyn Clock>,
}
