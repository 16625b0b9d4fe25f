use super::StoreResult;
use crate::ids::{TenantId, UserId};
use crate::users::{Role, Session, User};
use async_trait::async_trait;

/// Console users and their sessions (the table).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a new user; false when the email is already a user's.
    async fn insert_user(&self, user: &User) -> StoreResult<bool>;
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// A tenant's users, or (None) the operators.
    async fn users(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<User>>;
    async fn save_user(&self, user: &User) -> StoreResult<()>;
    /// Removes a user record (an invitation the pool refused).
    async fn delete_user(&self, user: &User) -> StoreResult<()>;
    /// Stores a session; it expires from the table `ttl_s` seconds after `last_seen_at`.
    async fn put_session(&self, session: &Session, ttl_s: i64) -> StoreResult<()>;
    async fn session(&self, hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, hash: &str) -> StoreResult<()>;
}

/// Tokens from a sign-in.
#[derive(Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
}

pub enum SignIn {
    Tokens(Tokens),
    /// A first sign-in: the user must choose a password (answered with `session`).
    NewPasswordRequired {
        session: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("wrong email or password")]
    BadCredentials,
    #[error("a user with this email already exists")]
    UserExists,
    #[error("{0}")]
    InvalidPassword(String),
    #[error("the sign-in has expired; start again")]
    ChallengeExpired,
    #[error("user pool unavailable: {0}")]
    Unavailable(String),
}

/// The user directory (Cognito): passwords, tokens, sign-out.
#[async_trait]
pub trait UserPool: Send + Sync {
    /// Creates the user; without `temporary_password` the pool mails one.
    async fn create_user(&self, email: &str, role: Role, temporary_password: Option<&str>) -> Result<(), PoolError>;
    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, PoolError>;
    /// Answers a first sign-in's challenge with the user's own password.
    async fn set_new_password(&self, email: &str, session: &str, password: &str) -> Result<Tokens, PoolError>;
    /// Whether the access token is still good (not expired, revoked, or its user disabled).
    async fn token_valid(&self, access_token: &str) -> Result<bool, PoolError>;
    /// A new access token from the refresh token; None when it is revoked.
    async fn refresh(&self, email: &str, refresh_token: &str) -> Result<Option<String>, PoolError>;
    /// Revokes the tokens of a session (sign-out).
    async fn sign_out(&self, access_token: &str) -> Result<(), PoolError>;
    /// Disables the user and revokes every token it holds.
    async fn disable(&self, email: &str) -> Result<(), PoolError>;
}
