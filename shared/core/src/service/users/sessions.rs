//! Console sessions: sign-in (with the first sign-in's new password), the session behind
//! a cookie, sign-out. The cookie carries a random token; the table keeps its hash. A
//! session ends when idle too long, when signed out, when its user is disabled, or when
//! Cognito no longer honours its tokens (checked every `recheck`).
use super::{check_password, pool_error, Users};
use crate::ids::{KeyId, KeyMode};
use crate::ports::{SignIn, Tokens};
use crate::service::{Caller, HeraldError};
use crate::tenant::ApiKeyRecord;
use crate::users::{normalise_email, Role, Session, User, UserStatus};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session unused this long ends (`HERALD_SESSION_IDLE`).
    pub idle: Duration,
    /// How often Cognito is asked whether the session's tokens still stand (`HERALD_SESSION_RECHECK`).
    pub recheck: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings { idle: Duration::from_secs(30 * 60), recheck: Duration::from_secs(60) }
    }
}

pub struct Sessions {
    users: Arc<Users>,
    settings: SessionSettings,
}

/// A started session: the cookie's token (shown once) and who it is.
pub struct SignedIn {
    pub token: String,
    pub user: User,
}

pub enum SignInStep {
    Done(SignedIn),
    /// The first sign-in: choose a password, answering with this challenge.
    NewPasswordRequired {
        challenge: String,
    },
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Only the last minute's touches are written, so a busy page is not a write per request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

impl Sessions {
    pub fn new(users: Arc<Users>, settings: SessionSettings) -> Self {
        Sessions { users, settings }
    }

    pub fn idle(&self) -> Duration {
        self.settings.idle
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignInStep, HeraldError> {
        let bad = || HeraldError::InvalidCredentials("wrong email or password".into());
        let email = normalise_email(email).ok_or_else(bad)?;
        // Cognito first, for every email: an unknown one takes as long as a wrong password.
        let step = self.users.pool.sign_in(&email, password).await.map_err(pool_error)?;
        let user = self.users.store.user_by_email(&email).await?.filter(|u| u.status != UserStatus::Disabled);
        let Some(user) = user else {
            if let SignIn::Tokens(t) = step {
                let _ = self.users.pool.sign_out(&t.access).await;
            }
            return Err(bad());
        };
        match step {
            SignIn::NewPasswordRequired { session } => Ok(SignInStep::NewPasswordRequired { challenge: session }),
            SignIn::Tokens(t) => Ok(SignInStep::Done(self.start(user, t).await?)),
        }
    }

    /// The first sign-in's second step: the user's own password.
    pub async fn set_password(&self, email: &str, challenge: &str, password: &str) -> Result<SignedIn, HeraldError> {
        let bad = || HeraldError::InvalidCredentials("the sign-in has expired; start again".into());
        check_password(password, "new_password")?;
        let email = normalise_email(email).ok_or_else(bad)?;
        let user = self.users.store.user_by_email(&email).await?.filter(|u| u.status != UserStatus::Disabled);
        let user = user.ok_or_else(bad)?;
        let tokens = self.users.pool.set_new_password(&email, challenge, password).await.map_err(pool_error)?;
        self.start(user, tokens).await
    }

    async fn start(&self, mut user: User, tokens: Tokens) -> Result<SignedIn, HeraldError> {
        let now = self.users.clock.now();
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = format!("hs_{}", hex::encode(raw));
        let session = Session {
            hash: hash(&token),
            user_id: user.id.clone(),
            access_token: tokens.access,
            refresh_token: tokens.refresh,
            created_at: now,
            last_seen_at: now,
            verified_at: now,
        };
        self.users.store.put_session(&session, self.settings.idle.as_secs() as i64).await?;
        user.status = UserStatus::Active;
        user.last_sign_in_at = Some(now);
        self.users.store.save_user(&user).await?;
        let who = Caller::Admin { by: Some(user.clone()) };
        self.users.audit.record_as(&who.actor(), user.tenant_id.as_ref(), "user.signed_in", json!({})).await;
        Ok(SignedIn { token, user })
    }

    /// The caller a session cookie stands for; `SessionExpired` when it no longer stands.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, HeraldError> {
        let key = hash(token);
        let store = &self.users.store;
        let mut session = store.session(&key).await?.ok_or(HeraldError::SessionExpired)?;
        let now = self.users.clock.now();
        let idle = chrono::Duration::from_std(self.settings.idle).unwrap_or(chrono::Duration::MAX);
        if now - session.last_seen_at > idle {
            self.end(&session).await;
            return Err(HeraldError::SessionExpired);
        }
        let user = store.user(&session.user_id).await?.filter(|u| u.status != UserStatus::Disabled);
        let Some(user) = user else {
            self.end(&session).await;
            return Err(HeraldError::SessionExpired);
        };
        let recheck = chrono::Duration::from_std(self.settings.recheck).unwrap_or(chrono::Duration::MAX);
        let mut changed = now - session.last_seen_at >= TOUCH_EVERY;
        if now - session.verified_at >= recheck {
            if !self.still_honoured(&user, &mut session).await? {
                self.end(&session).await;
                return Err(HeraldError::SessionExpired);
            }
            session.verified_at = now;
            changed = true;
        }
        if changed {
            session.last_seen_at = now;
            store.put_session(&session, self.settings.idle.as_secs() as i64).await?;
        }
        self.caller_for(user).await
    }

    /// Whether Cognito still honours the session (refreshing an expired access token).
    async fn still_honoured(&self, user: &User, session: &mut Session) -> Result<bool, HeraldError> {
        let pool = &self.users.pool;
        if pool.token_valid(&session.access_token).await.map_err(pool_error)? {
            return Ok(true);
        }
        let Some(refresh) = session.refresh_token.clone() else { return Ok(false) };
        match pool.refresh(&user.email, &refresh).await.map_err(pool_error)? {
            Some(access) if pool.token_valid(&access).await.map_err(pool_error)? => {
                session.access_token = access;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn caller_for(&self, user: User) -> Result<Caller, HeraldError> {
        let Some(tenant_id) = user.tenant_id.clone().filter(|_| user.role != Role::Operator) else {
            return Ok(Caller::Admin { by: Some(user) });
        };
        let tenant = self.users.tenants.tenant(&tenant_id).await?.ok_or(HeraldError::SessionExpired)?;
        // A session acts with the rights of a live key (and its role's limits).
        let key = ApiKeyRecord {
            key_id: KeyId::parse(&format!("key_{}", user.id.as_str())).unwrap_or_else(KeyId::generate),
            tenant_id: tenant.id.clone(),
            hash: String::new(),
            mode: KeyMode::Live,
            created_at: user.created_at,
            last_used_at: None,
        };
        Ok(Caller::Tenant { tenant, key, user: Some(user) })
    }

    /// Signs out: revokes the session's tokens at Cognito and forgets the session.
    pub async fn sign_out(&self, token: &str) -> Result<(), HeraldError> {
        let Some(session) = self.users.store.session(&hash(token)).await? else { return Ok(()) };
        self.users.store.delete_session(&session.hash).await?;
        if let Err(e) = self.users.pool.sign_out(&session.access_token).await {
            tracing::warn!(error = %e, "could not revoke a signed-out session's tokens");
        }
        let actor = session.user_id.to_string();
        self.users.audit.record_as(&actor, None, "user.signed_out", json!({})).await;
        Ok(())
    }

    async fn end(&self, session: &Session) {
        if let Err(e) = self.users.store.delete_session(&session.hash).await {
            tracing::warn!(error = %e, "could not delete an ended session");
        }
    }
}
