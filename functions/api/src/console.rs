//! The console (CONTRACT §15), served by the API itself at `/console`: one HTML page for
//! every console path, its script and its style sheet (compiled in, gzip when the browser
//! takes it). The pages call the same JSON API with the session cookie.
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::io::Write;
use std::sync::LazyLock;

const HTML: &str = include_str!("../console/index.html");
const CSS: &str = include_str!("../console/app.css");
/// The pages, concatenated into one script (no build step; each file is plain JS).
const JS: &str = concat!(
    include_str!("../console/core.js"),
    include_str!("../console/pages_messages.js"),
    include_str!("../console/pages_account.js"),
    include_str!("../console/pages_settings.js"),
    include_str!("../console/main.js"),
);

/// What the pages may load: their own script and style only; media (a voicemail's
/// presigned URL) from S3; never framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    media-src 'self' https: http://127.0.0.1:* http://localhost:*; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

struct Asset {
    body: &'static str,
    gzip: Vec<u8>,
    content_type: &'static str,
    cache: &'static str,
}

fn asset(body: &'static str, content_type: &'static str, cache: &'static str) -> Asset {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(body.as_bytes()).expect("gzip into memory");
    Asset { body, gzip: gz.finish().expect("gzip into memory"), content_type, cache }
}

static PAGE: LazyLock<Asset> = LazyLock::new(|| asset(HTML, "text/html; charset=utf-8", "no-cache"));
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| asset(JS, "text/javascript; charset=utf-8", "public, max-age=300"));
static STYLE: LazyLock<Asset> = LazyLock::new(|| asset(CSS, "text/css; charset=utf-8", "public, max-age=300"));

fn serve(a: &'static Asset, req: &HeaderMap) -> Response {
    let gzip = req
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut r = if gzip { a.gzip.clone().into_response() } else { a.body.into_response() };
    let h = r.headers_mut();
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(a.cache));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A voicemail's presigned URL must not leak through a Referer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    r
}

async fn shell(headers: HeaderMap) -> Response {
    serve(&PAGE, &headers)
}

async fn any(Path(rest): Path<String>, headers: HeaderMap) -> Response {
    match rest.as_str() {
        "assets/app.js" => serve(&SCRIPT, &headers),
        "assets/app.css" => serve(&STYLE, &headers),
        r if r.starts_with("assets/") => StatusCode::NOT_FOUND.into_response(),
        _ => serve(&PAGE, &headers),
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/console", get(shell)).route("/console/", get(shell)).route("/console/{*rest}", get(any))
}

#[cfg(test)]
mod tests {
    /// The contract's budget: a page's script and style sheet together ≤ 100 KB compressed.
    #[test]
    fn the_console_stays_small() {
        let total = super::SCRIPT.gzip.len() + super::STYLE.gzip.len() + super::PAGE.gzip.len();
        assert!(total < 100 * 1024, "{total} bytes compressed");
        assert!(super::HTML.contains("<html lang=\"en\">"));
    }
}
