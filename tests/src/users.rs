//! Console users for tests: invite through the admin route, sign in over HTTP (the first
//! sign-in sets a password), and call as the signed-in browser would (cookie, Origin).
use crate::{Reply, TestApp};
use serde_json::{json, Value};

pub const TEMPORARY: &str = "Temp-pass1!";
pub const PASSWORD: &str = "Own-pass-22!";

impl TestApp {
    /// This stack's own origin, as a page of the console sends it.
    pub fn origin(&self) -> String {
        self.url.clone()
    }

    /// Invites a user through the operator's route, with a temporary password.
    pub async fn invite(&self, email: &str, role: &str, tenant: Option<&str>) -> Value {
        let mut body = json!({"email": email, "role": role, "temporary_password": TEMPORARY});
        if let Some(t) = tenant {
            body["tenant_id"] = json!(t);
        }
        let r = self.post("/v1/admin/users", &self.admin_key, body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    /// Signs in as a browser would: the first time it answers the new-password challenge.
    /// The session cookie (`herald_session=…`) and the `Set-Cookie` it came in.
    pub async fn sign_in(&self, email: &str) -> (String, String) {
        let origin = self.origin();
        let h = [("origin", origin.as_str())];
        let r = self
            .call(reqwest::Method::POST, "/v1/session", None, Some(json!({"email": email, "password": PASSWORD})), &h)
            .await;
        let r = if r.status == 401 {
            let first = json!({"email": email, "password": TEMPORARY});
            let c = self.call(reqwest::Method::POST, "/v1/session", None, Some(first), &h).await;
            assert_eq!(c.body["challenge"], "NEW_PASSWORD_REQUIRED", "{}", c.body);
            let answer = json!({"email": email, "session": c.body["session"], "new_password": PASSWORD});
            self.call(reqwest::Method::POST, "/v1/session/password", None, Some(answer), &h).await
        } else {
            r
        };
        assert_eq!(r.status, 200, "{}", r.body);
        let set = r.headers["set-cookie"].to_str().unwrap().to_string();
        (set.split(';').next().unwrap().to_string(), set)
    }

    /// A request with the session cookie; `origin` None sends no Origin header at all.
    pub async fn as_user(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
        body: Option<Value>,
        origin: Option<&str>,
    ) -> Reply {
        let mut h = vec![("cookie", cookie)];
        if let Some(o) = origin {
            h.push(("origin", o));
        }
        self.call(method, path, None, body, &h).await
    }
}
