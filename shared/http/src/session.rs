//! Console sessions over HTTP: the cookie, and the same-origin rule for every request a
//! cookie authenticates that changes something (CONTRACT §15).
use axum::http::{header, HeaderMap, HeaderValue, Method};

pub const COOKIE: &str = "herald_session";

/// The session token the request's cookie carries.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

pub fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the page is served over https (API Gateway says so in `X-Forwarded-Proto`).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The request came from a page of this very origin: its `Origin` (or, without one, the
/// browser's `Sec-Fetch-Site`) names this host. A request with neither is refused: every
/// browser that honours SameSite sends one of them on a state-changing request.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let Some((scheme, authority)) = origin.split_once("://") else { return false };
            let scheme_ok = if over_https(headers) { scheme == "https" } else { scheme == "http" || scheme == "https" };
            scheme_ok && host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
        }
        None => headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"same-origin"),
    }
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Secure over https, lasting
/// as long as the browser session (the server ends it when idle).
pub fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&v).expect("a token is printable ASCII")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; herald_session=hs_abc; b=2")]);
        assert_eq!(cookie_token(&h), Some("hs_abc"));
        assert_eq!(cookie_token(&headers(&[("cookie", "herald_sessionx=1")])), None);
    }

    #[test]
    fn only_this_origin_may_change_things() {
        let ok = headers(&[("host", "api.example.org"), ("origin", "https://api.example.org")]);
        assert!(same_origin(&ok));
        let evil = headers(&[("host", "api.example.org"), ("origin", "https://evil.example")]);
        assert!(!same_origin(&evil));
        let downgrade = headers(&[
            ("host", "api.example.org"),
            ("origin", "http://api.example.org"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(!same_origin(&downgrade));
        assert!(!same_origin(&headers(&[("host", "api.example.org")])), "neither header: refused");
        assert!(same_origin(&headers(&[("host", "a"), ("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("host", "a"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("host", "a"), ("origin", "null")])));
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        let v = set_cookie("hs_1", true);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && v.contains("Secure"));
        assert!(!set_cookie("hs_1", false).to_str().unwrap().contains("Secure"));
    }
}
