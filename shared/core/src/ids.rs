//! Opaque, prefixed identifiers and API keys. Once a value exists it is well-formed.
use rand::{distributions::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal) => {
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::new().to_string().to_lowercase()))
            }
            /// Accepts an id from outside (a path segment); only the prefix and charset are checked.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                (!rest.is_empty()
                    && rest.len() <= 64
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .then(|| Self(s.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The smallest id of this kind generated at `ms` (ids sort by creation time).
            pub fn floor_at(ms: u64) -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::from_parts(ms, 0).to_string().to_lowercase()))
            }
            /// When a generated id was made (None for one a caller chose).
            pub fn created_ms(&self) -> Option<u64> {
                let rest = self.0.strip_prefix($prefix)?;
                ulid::Ulid::from_string(&rest.to_uppercase()).ok().map(|u| u.timestamp_ms())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(TenantId, "ten_");
prefixed_id!(MessageId, "msg_");
prefixed_id!(KeyId, "key_");
prefixed_id!(CorrelationId, "cor_");
prefixed_id!(InboundId, "inb_");
prefixed_id!(UserId, "usr_");

impl TenantId {
    /// The platform's own channels (`PUT /v1/admin/platform/channels/{channel}`) are kept
    /// as this pseudo-tenant's; no generated id can take this form.
    pub fn platform() -> TenantId {
        TenantId("ten_platform".into())
    }

    pub fn is_platform(&self) -> bool {
        self.0 == "ten_platform"
    }
}

impl CorrelationId {
    /// A caller-sent correlation id is kept as given (bounded and printable).
    pub fn from_caller(s: &str) -> Option<Self> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_graphic())).then(|| Self(s.to_string()))
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    #[default]
    Live,
    Test,
}

impl KeyMode {
    /// The suffix that keeps a mode's index partitions apart (empty for live data).
    pub fn partition_suffix(self) -> &'static str {
        match self {
            KeyMode::Live => "",
            KeyMode::Test => "#test",
        }
    }
}

/// A freshly minted API key: the secret is shown once, only its hash is stored.
pub struct NewApiKey {
    pub secret: String,
    pub hash: String,
    pub key_id: KeyId,
    pub mode: KeyMode,
}

impl NewApiKey {
    pub fn generate(mode: KeyMode) -> Self {
        let random: String = rand::thread_rng().sample_iter(&Alphanumeric).take(40).map(char::from).collect();
        let secret = match mode {
            KeyMode::Live => format!("hk_live_{random}"),
            KeyMode::Test => format!("hk_test_{random}"),
        };
        Self { hash: hash_api_key(&secret), secret, key_id: KeyId::generate(), mode }
    }
}

/// Keys carry 238 bits of randomness, so an unsalted SHA-256 is the right lookup hash.
pub fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_round_trip() {
        let id = MessageId::generate();
        assert!(id.as_str().starts_with("msg_"));
        assert_eq!(MessageId::parse(id.as_str()), Some(id));
        assert_eq!(MessageId::parse("ten_abc"), None);
        assert_eq!(MessageId::parse("msg_"), None);
        assert_eq!(MessageId::parse("msg_a/b"), None);
    }
    #[test]
    fn keys_hash_and_mode() {
        let k = NewApiKey::generate(KeyMode::Test);
        assert!(k.secret.starts_with("hk_test_"));
        assert_eq!(hash_api_key(&k.secret), k.hash);
        assert_ne!(k.hash, k.secret);
    }
}
