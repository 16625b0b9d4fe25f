//! Herald's domain. Nothing here knows about AWS or HTTP: adapters implement the ports,
//! entrypoints translate events into calls on the use-case services in [`service`].
pub mod address;
pub mod cache;
pub mod channel;
pub mod errors;
pub mod guards;
pub mod identity;
pub mod ids;
pub mod inbound;
pub mod lazy;
pub mod linking;
pub mod message;
pub mod metrics;
pub mod ports;
pub mod pricing;
pub mod quiet;
pub mod retry;
pub mod secrets;
pub mod segments;
pub mod service;
pub mod stats;
pub mod status;
pub mod tenant;
pub mod users;
pub mod voice;

pub use address::{Address, EmailAddress, E164};
pub use channel::{Channel, Provider};
pub use errors::{ErrorCode, ProviderFailure};
pub use ids::{CorrelationId, KeyId, KeyMode, MessageId, TenantId};
pub use message::{Message, SendJob};
pub use status::Status;
