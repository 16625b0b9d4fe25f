//! Console users (CONTRACT §15): invited by the operator or a tenant's owner, listed,
//! disabled. Cognito holds passwords and tokens; the table holds role and tenant.
mod sessions;
#[cfg(test)]
mod tests;

pub use sessions::{SessionSettings, Sessions, SignInStep, SignedIn};

use super::support::Audit;
use super::{Caller, HeraldError};
use crate::ids::{TenantId, UserId};
use crate::ports::{Clock, PoolError, TenantStore, UserPool, UserStore};
use crate::users::{normalise_email, Role, User, UserStatus};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub struct Users {
    pub(crate) store: Arc<dyn UserStore>,
    pub(crate) pool: Arc<dyn UserPool>,
    pub(crate) tenants: Arc<dyn TenantStore>,
    pub(crate) audit: Arc<Audit>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// `POST /v1/users` and `POST /v1/admin/users`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub email: String,
    pub role: Role,
    /// Admin route only: the tenant an owner or member belongs to.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Admin route only: set the first password instead of having Cognito mail one.
    #[serde(default)]
    pub temporary_password: Option<String>,
}

pub(crate) fn pool_error(e: PoolError) -> HeraldError {
    match e {
        PoolError::BadCredentials => HeraldError::InvalidCredentials("wrong email or password".into()),
        PoolError::UserExists => HeraldError::Conflict("a user with this email already exists".into()),
        PoolError::InvalidPassword(m) => HeraldError::validation("password", "WEAK_PASSWORD", m),
        PoolError::ChallengeExpired => HeraldError::InvalidCredentials(e.to_string()),
        PoolError::Unavailable(m) => HeraldError::Unavailable(m),
    }
}

impl Users {
    /// Invites a user. `admin` is the operator's route (any tenant, any role); a tenant's
    /// owner or live key invites owners and members of its own tenant.
    pub async fn invite(&self, caller: &Caller, req: Invite, admin: bool) -> Result<User, HeraldError> {
        let tenant_id = self.invite_tenant(caller, &req, admin).await?;
        let email = normalise_email(&req.email)
            .ok_or_else(|| HeraldError::validation("email", "INVALID", "not an email address"))?;
        if let Some(p) = &req.temporary_password {
            check_password(p, "temporary_password")?;
        }
        if self.store.user_by_email(&email).await?.is_some() {
            return Err(pool_error(PoolError::UserExists));
        }
        let user = User {
            id: UserId::generate(),
            email: email.clone(),
            role: req.role,
            tenant_id: tenant_id.clone(),
            status: UserStatus::Invited,
            created_at: self.clock.now(),
            last_sign_in_at: None,
        };
        // The record first: a user Cognito knows but Herald does not could never sign in.
        if !self.store.insert_user(&user).await? {
            return Err(pool_error(PoolError::UserExists));
        }
        if let Err(e) = self.pool.create_user(&email, req.role, req.temporary_password.as_deref()).await {
            // Undone, so the same invitation can be made again.
            self.store.delete_user(&user).await?;
            return Err(pool_error(e));
        }
        let detail = json!({"user_id": user.id, "role": user.role});
        self.audit.record(caller, tenant_id.as_ref(), "user.invited", detail).await;
        Ok(user)
    }

    async fn invite_tenant(&self, caller: &Caller, req: &Invite, admin: bool) -> Result<Option<TenantId>, HeraldError> {
        if !admin {
            let tenant = caller.live_tenant()?;
            if req.role == Role::Operator {
                return Err(HeraldError::validation("role", "INVALID", "a tenant invites owners and members"));
            }
            if req.tenant_id.is_some() || req.temporary_password.is_some() {
                let field = if req.tenant_id.is_some() { "tenant_id" } else { "temporary_password" };
                return Err(HeraldError::validation(field, "UNKNOWN_FIELD", "only the operator's route takes it"));
            }
            return Ok(Some(tenant.id.clone()));
        }
        caller.require_admin()?;
        match (req.role, &req.tenant_id) {
            (Role::Operator, None) => Ok(None),
            (Role::Operator, Some(_)) => {
                Err(HeraldError::validation("tenant_id", "INVALID", "an operator belongs to no tenant"))
            }
            (_, None) => Err(HeraldError::validation("tenant_id", "REQUIRED", "an owner or member needs its tenant")),
            (_, Some(id)) => {
                let id = TenantId::parse(id)
                    .ok_or_else(|| HeraldError::validation("tenant_id", "INVALID", "not a tenant id"))?;
                self.tenants.tenant(&id).await?.ok_or(HeraldError::NotFound)?;
                Ok(Some(id))
            }
        }
    }

    /// A tenant's users (its owner, member or key), or on the admin route a tenant's or the
    /// operators (`tenant_id` None).
    pub async fn list(&self, caller: &Caller, tenant_id: Option<&str>, admin: bool) -> Result<Vec<User>, HeraldError> {
        let tenant = if admin {
            caller.require_admin()?;
            match tenant_id {
                Some(id) => Some(TenantId::parse(id).ok_or(HeraldError::NotFound)?),
                None => None,
            }
        } else {
            caller.require_live()?;
            Some(caller.tenant()?.id.clone())
        };
        Ok(self.store.users(tenant.as_ref()).await?)
    }

    /// Disables a user and signs it out everywhere. A tenant reaches only its own users.
    pub async fn disable(&self, caller: &Caller, id: &str) -> Result<User, HeraldError> {
        let own = match caller {
            Caller::Admin { .. } => None,
            Caller::Tenant { .. } => Some(caller.live_tenant()?.id.clone()),
        };
        let id = UserId::parse(id).ok_or(HeraldError::NotFound)?;
        let mut user = self.store.user(&id).await?.ok_or(HeraldError::NotFound)?;
        if own.is_some() && user.tenant_id != own {
            return Err(HeraldError::NotFound);
        }
        if caller.user().is_some_and(|u| u.id == user.id) {
            return Err(HeraldError::Conflict("you cannot remove yourself; ask another owner".into()));
        }
        self.pool.disable(&user.email).await.map_err(pool_error)?;
        user.status = UserStatus::Disabled;
        self.store.save_user(&user).await?;
        self.audit.record(caller, user.tenant_id.as_ref(), "user.disabled", json!({"user_id": user.id})).await;
        Ok(user)
    }
}

/// Cognito's default policy, checked before the call so the answer names the field.
pub(crate) fn check_password(p: &str, field: &str) -> Result<(), HeraldError> {
    let ok = p.chars().count() >= 8
        && p.len() <= 256
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| !c.is_ascii_alphanumeric());
    if ok {
        return Ok(());
    }
    Err(HeraldError::validation(
        field,
        "WEAK_PASSWORD",
        "at least 8 characters, with a lower-case letter, a capital, a digit and a symbol",
    ))
}
