//! Console users and sessions. A user is two items written together: the user (listed per
//! tenant through gsi1) and its email's claim, so one email is one user.
use super::tenants::put_item;
use super::{from_item, keyed, n, s, unavailable, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use herald_core::ids::{TenantId, UserId};
use herald_core::ports::{StoreError, StoreResult, UserStore};
use herald_core::users::{Session, User};

fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}

fn email_pk(email: &str) -> String {
    format!("UEMAIL#{email}")
}

fn list_pk(tenant: Option<&TenantId>) -> String {
    match tenant {
        Some(t) => format!("USERS#{t}"),
        None => "USERS#OPERATORS".into(),
    }
}

fn user_item(user: &User) -> StoreResult<super::Item> {
    let mut item = keyed(user, user_pk(&user.id), "USER")?;
    item.insert("gsi1pk".into(), s(list_pk(user.tenant_id.as_ref())));
    item.insert("gsi1sk".into(), s(user.id.as_str()));
    Ok(item)
}

impl DynamoStore {
    fn delete_item(&self, pk: String, sk: &str) -> StoreResult<TransactWriteItem> {
        let d = Delete::builder().table_name(&self.table).key("pk", s(pk)).key("sk", s(sk)).build();
        Ok(TransactWriteItem::builder().delete(d.map_err(unavailable)?).build())
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn insert_user(&self, user: &User) -> StoreResult<bool> {
        let mut claim = super::Item::new();
        claim.insert("pk".into(), s(email_pk(&user.email)));
        claim.insert("sk".into(), s("UEMAIL"));
        claim.insert("user_id".into(), s(user.id.as_str()));
        let new = Some("attribute_not_exists(pk)");
        let items = vec![put_item(&self.table, claim, new)?, put_item(&self.table, user_item(user)?, new)?];
        Ok(self.transact(items).await?.is_ok())
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        self.get(&user_pk(id), "USER").await?.map(from_item).transpose()
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let Some(claim) = self.get(&email_pk(email), "UEMAIL").await? else { return Ok(None) };
        let id = claim.get("user_id").and_then(|v| v.as_s().ok()).and_then(|v| UserId::parse(v));
        let Some(id) = id else { return Err(StoreError::Unavailable("decode: email claim without a user".into())) };
        self.user(&id).await
    }

    async fn users(&self, tenant: Option<&TenantId>) -> StoreResult<Vec<User>> {
        self.query_index("gsi1", &list_pk(tenant)).await?.into_iter().map(from_item).collect()
    }

    async fn save_user(&self, user: &User) -> StoreResult<()> {
        self.put(user_item(user)?).await
    }

    async fn delete_user(&self, user: &User) -> StoreResult<()> {
        let items =
            vec![self.delete_item(email_pk(&user.email), "UEMAIL")?, self.delete_item(user_pk(&user.id), "USER")?];
        self.transact(items).await?.map_err(|_| StoreError::Conflict)
    }

    async fn put_session(&self, session: &Session, ttl_s: i64) -> StoreResult<()> {
        let mut item = keyed(session, format!("SESS#{}", session.hash), "SESS")?;
        item.insert("ttl".into(), n(session.last_seen_at.timestamp() + ttl_s));
        self.put(item).await
    }

    async fn session(&self, hash: &str) -> StoreResult<Option<Session>> {
        self.get(&format!("SESS#{hash}"), "SESS").await?.map(from_item).transpose()
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        self.delete_key(&format!("SESS#{hash}"), "SESS").await
    }
}
