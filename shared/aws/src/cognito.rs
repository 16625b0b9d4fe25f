//! The user directory port on Amazon Cognito: a user pool and an app client without a
//! secret that allows `ADMIN_USER_PASSWORD_AUTH` and refresh tokens. Herald calls the admin
//! API from the API function (IAM), so passwords go only to Cognito, never to a browser SDK.
use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, ChallengeNameType, DeliveryMediumType};
use aws_sdk_cognitoidentityprovider::Client;
use herald_core::ports::{PoolError, SignIn, Tokens, UserPool};
use herald_core::users::Role;

#[derive(Clone)]
pub struct CognitoPool {
    client: Client,
    pool_id: String,
    client_id: String,
}

impl CognitoPool {
    pub fn new(client: Client, pool_id: &str, client_id: &str) -> Self {
        CognitoPool { client, pool_id: pool_id.into(), client_id: client_id.into() }
    }
}

/// Sorts an SDK error: the codes a caller's input explains, else unavailable.
fn sorted<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: aws_sdk_cognitoidentityprovider::error::SdkError<E>,
) -> PoolError {
    let (code, message) = match e.as_service_error() {
        Some(s) => (s.code().unwrap_or_default().to_string(), s.message().unwrap_or_default().to_string()),
        None => (String::new(), String::new()),
    };
    match code.as_str() {
        "NotAuthorizedException"
        | "UserNotFoundException"
        | "UserNotConfirmedException"
        | "PasswordResetRequiredException" => PoolError::BadCredentials,
        "UsernameExistsException" => PoolError::UserExists,
        "InvalidPasswordException" => PoolError::InvalidPassword(message),
        "CodeMismatchException" | "ExpiredCodeException" => PoolError::ChallengeExpired,
        _ => {
            tracing::error!(code = %code, error = %format!("{e:?}").chars().take(400).collect::<String>(), "cognito call failed");
            PoolError::Unavailable(if code.is_empty() { "cognito".into() } else { code })
        }
    }
}

fn tokens(r: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>) -> Result<Tokens, PoolError> {
    let r = r.ok_or_else(|| PoolError::Unavailable("cognito answered without tokens".into()))?;
    let access = r.access_token().ok_or_else(|| PoolError::Unavailable("no access token".into()))?;
    Ok(Tokens { access: access.to_string(), refresh: r.refresh_token().map(str::to_string) })
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().expect("name is set")
}

#[async_trait]
impl UserPool for CognitoPool {
    async fn create_user(&self, email: &str, role: Role, temporary: Option<&str>) -> Result<(), PoolError> {
        let mut req = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(email)
            .user_attributes(attr("email", email))
            .user_attributes(attr("email_verified", "true"));
        req = match temporary {
            Some(p) => req
                .temporary_password(p)
                .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress),
            None => req.desired_delivery_mediums(DeliveryMediumType::Email),
        };
        req.send().await.map_err(sorted)?;
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.pool_id)
            .username(email)
            .group_name(role.as_str())
            .send()
            .await
            .map_err(sorted)?;
        Ok(())
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn, PoolError> {
        let out = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", email)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(sorted)?;
        match out.challenge_name() {
            Some(ChallengeNameType::NewPasswordRequired) => {
                let session = out.session().unwrap_or_default().to_string();
                Ok(SignIn::NewPasswordRequired { session })
            }
            Some(other) => Err(PoolError::Unavailable(format!("unsupported challenge {other}"))),
            None => Ok(SignIn::Tokens(tokens(out.authentication_result())?)),
        }
    }

    async fn set_new_password(&self, email: &str, session: &str, password: &str) -> Result<Tokens, PoolError> {
        let out = self
            .client
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", email)
            .challenge_responses("NEW_PASSWORD", password)
            .send()
            .await
            .map_err(|e| match sorted(e) {
                PoolError::BadCredentials => PoolError::ChallengeExpired,
                other => other,
            })?;
        tokens(out.authentication_result())
    }

    async fn token_valid(&self, access_token: &str) -> Result<bool, PoolError> {
        match self.client.get_user().access_token(access_token).send().await.map_err(sorted) {
            Ok(_) => Ok(true),
            Err(PoolError::BadCredentials) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn refresh(&self, _email: &str, refresh_token: &str) -> Result<Option<String>, PoolError> {
        let out = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await;
        match out.map_err(sorted) {
            Ok(o) => Ok(Some(tokens(o.authentication_result())?.access)),
            Err(PoolError::BadCredentials) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn sign_out(&self, access_token: &str) -> Result<(), PoolError> {
        match self.client.global_sign_out().access_token(access_token).send().await.map_err(sorted) {
            Ok(_) | Err(PoolError::BadCredentials) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn disable(&self, email: &str) -> Result<(), PoolError> {
        let c = &self.client;
        match c.admin_disable_user().user_pool_id(&self.pool_id).username(email).send().await.map_err(sorted) {
            Ok(_) | Err(PoolError::BadCredentials) => {}
            Err(e) => return Err(e),
        }
        match c.admin_user_global_sign_out().user_pool_id(&self.pool_id).username(email).send().await.map_err(sorted) {
            Ok(_) | Err(PoolError::BadCredentials) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Local provisioning (herald-local): a pool, a client and the role groups, as the template
/// declares them; finds them by name when they exist. Returns (pool id, client id).
pub async fn ensure_pool(client: &Client, name: &str) -> Result<(String, String), crate::SetupError> {
    let err = |e: String| crate::SetupError(format!("cognito: {e}"));
    let pools = client.list_user_pools().max_results(60).send().await.map_err(|e| err(format!("{e:?}")))?;
    let existing = pools.user_pools().iter().find(|p| p.name() == Some(name)).and_then(|p| p.id().map(str::to_string));
    let pool_id = match existing {
        Some(id) => id,
        None => {
            let out = client.create_user_pool().pool_name(name).send().await.map_err(|e| err(format!("{e:?}")))?;
            out.user_pool().and_then(|p| p.id()).ok_or_else(|| err("no pool id".into()))?.to_string()
        }
    };
    let clients =
        client.list_user_pool_clients().user_pool_id(&pool_id).send().await.map_err(|e| err(format!("{e:?}")))?;
    let client_id = match clients.user_pool_clients().iter().find(|c| c.client_name() == Some("console")) {
        Some(c) => c.client_id().unwrap_or_default().to_string(),
        None => {
            use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType as F;
            let out = client
                .create_user_pool_client()
                .user_pool_id(&pool_id)
                .client_name("console")
                .explicit_auth_flows(F::AllowAdminUserPasswordAuth)
                .explicit_auth_flows(F::AllowRefreshTokenAuth)
                .send()
                .await
                .map_err(|e| err(format!("{e:?}")))?;
            out.user_pool_client().and_then(|c| c.client_id()).ok_or_else(|| err("no client id".into()))?.to_string()
        }
    };
    for role in [Role::Owner, Role::Member, Role::Operator] {
        let _ = client.create_group().user_pool_id(&pool_id).group_name(role.as_str()).send().await;
    }
    Ok((pool_id, client_id))
}

/// Where no user pool is configured: every call answers that the console is off.
pub struct NoPool;

#[async_trait]
impl UserPool for NoPool {
    async fn create_user(&self, _: &str, _: Role, _: Option<&str>) -> Result<(), PoolError> {
        Err(off())
    }
    async fn sign_in(&self, _: &str, _: &str) -> Result<SignIn, PoolError> {
        Err(off())
    }
    async fn set_new_password(&self, _: &str, _: &str, _: &str) -> Result<Tokens, PoolError> {
        Err(off())
    }
    async fn token_valid(&self, _: &str) -> Result<bool, PoolError> {
        Err(off())
    }
    async fn refresh(&self, _: &str, _: &str) -> Result<Option<String>, PoolError> {
        Err(off())
    }
    async fn sign_out(&self, _: &str) -> Result<(), PoolError> {
        Err(off())
    }
    async fn disable(&self, _: &str) -> Result<(), PoolError> {
        Err(off())
    }
}

fn off() -> PoolError {
    PoolError::Unavailable("no user pool is configured (HERALD_USER_POOL_ID)".into())
}
