//! Console users in memory, and a user pool that behaves as Cognito does: temporary
//! passwords force a new one, tokens are revoked by sign-out and by disabling.
use crate::ids::{TenantId, UserId};
use crate::ports::*;
use crate::users::{Role, Session, User};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeUsers {
    pub users: Mutex<HashMap<UserId, User>>,
    pub sessions: Mutex<HashMap<String, Session>>,
    /// email → (password, must change, enabled)
    pub pool: Mutex<HashMap<String, (String, bool, bool)>>,
    /// live access token → email
    pub tokens: Mutex<HashMap<String, String>>,
    pub revoked_refresh: Mutex<HashSet<String>>,
}

#[async_trait]
impl UserStore for FakeUsers {
    async fn insert_user(&self, user: &User) -> StoreResult<bool> {
        let mut users = self.users.lock().unwrap();
        if users.values().any(|u| u.email == user.email) {
            return Ok(false);
        }
        users.insert(user.id.clone(), user.clone());
        Ok(true)
    }
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        Ok(self.users.lock().unwrap().get(id).cloned())
    }
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        Ok(self.users.lock().unwrap().values().find(|u| u.email == email).cloned())
    }
    async fn users(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<User>> {
        let users = self.users.lock().unwrap();
        Ok(users.values().filter(|u| u.tenant_id.as_ref() == tenant).cloned().collect())
    }
    async fn save_user(&self, user: &User) -> StoreResult<()> {
        self.users.lock().unwrap().insert(user.id.clone(), user.clone());
        Ok(())
    }
    async fn delete_user(&self, user: &User) -> StoreResult<()> {
        self.users.lock().unwrap().remove(&user.id);
        Ok(())
    }
    async fn put_session(&self, session: &Session, _: i64) -> StoreResult<()> {
        self.sessions.lock().unwrap().insert(session.hash.clone(), session.clone());
        Ok(())
    }
    async fn session(&self, hash: &str) -> StoreResult<Option<Session>> {
        Ok(self.sessions.lock().unwrap().get(hash).cloned())
    }
    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        self.sessions.lock().unwrap().remove(hash);
        Ok(())
    }
}

impl FakeUsers {
    fn issue(&self, email: &str) -> Tokens {
        let access = format!("at_{}", ulid::Ulid::new());
        self.tokens.lock().unwrap().insert(access.clone(), email.to_string());
        Tokens { access, refresh: Some(format!("rt_{email}_{}", ulid::Ulid::new())) }
    }
    fn revoke_all(&self, email: &str) {
        self.tokens.lock().unwrap().retain(|_, e| e != email);
        self.revoked_refresh.lock().unwrap().insert(email.to_string());
    }
}

#[async_trait]
impl UserPool for FakeUsers {
    async fn create_user(&self, email: &str, _: Role, temporary: Option<&str>) -> Result<(), PoolError> {
        let mut pool = self.pool.lock().unwrap();
        if pool.contains_key(email) {
            return Err(PoolError::UserExists);
        }
        pool.insert(email.into(), (temporary.unwrap_or("Mailed-1").into(), true, true));
        Ok(())
    }
    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, PoolError> {
        let entry = self.pool.lock().unwrap().get(email).cloned();
        match entry {
            Some((p, _, true)) if p != password => Err(PoolError::BadCredentials),
            Some((_, true, true)) => Ok(SignIn::NewPasswordRequired { session: format!("ch_{email}") }),
            Some((_, false, true)) => Ok(SignIn::Tokens(self.issue(email))),
            _ => Err(PoolError::BadCredentials),
        }
    }
    async fn set_new_password(&self, email: &str, session: &str, password: &str) -> Result<Tokens, PoolError> {
        if session != format!("ch_{email}") {
            return Err(PoolError::ChallengeExpired);
        }
        self.pool.lock().unwrap().insert(email.into(), (password.into(), false, true));
        self.revoked_refresh.lock().unwrap().remove(email);
        Ok(self.issue(email))
    }
    async fn token_valid(&self, access_token: &str) -> Result<bool, PoolError> {
        Ok(self.tokens.lock().unwrap().contains_key(access_token))
    }
    async fn refresh(&self, email: &str, _: &str) -> Result<Option<String>, PoolError> {
        if self.revoked_refresh.lock().unwrap().contains(email) {
            return Ok(None);
        }
        Ok(Some(self.issue(email).access))
    }
    async fn sign_out(&self, access_token: &str) -> Result<(), PoolError> {
        let email = self.tokens.lock().unwrap().get(access_token).cloned();
        if let Some(email) = email {
            self.revoke_all(&email);
        }
        Ok(())
    }
    async fn disable(&self, email: &str) -> Result<(), PoolError> {
        if let Some(entry) = self.pool.lock().unwrap().get_mut(email) {
            entry.2 = false;
        }
        self.revoke_all(email);
        Ok(())
    }
}
