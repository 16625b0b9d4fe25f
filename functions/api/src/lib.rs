//! Herald's HTTP API. The same router runs behind API Gateway (lambda_http) and in
//! herald-local (hyper), so what the tests call is what AWS runs.
mod console;
pub mod openapi;
mod responses;
mod routes;
mod views;

pub use herald_http::{error, parse_json, with_context, Auth, RequestContext, MAX_BODY};
pub use herald_runtime::AppState;

pub fn router(app: AppState) -> axum::Router {
    with_context(console::routes().merge(routes::routes()), MAX_BODY).with_state(app)
}

#[cfg(test)]
mod tests {
    /// The sample events in events/ are what `sam local invoke -e` and
    /// `cargo lambda invoke --data-file` send: they must parse as API Gateway v2 requests.
    #[test]
    fn sample_events_are_api_gateway_v2_requests() {
        for (file, method, path) in [
            (include_str!("../../../events/api-health.json"), "GET", "/health"),
            (include_str!("../../../events/api-send-message.json"), "POST", "/v1/messages"),
        ] {
            let req = lambda_http::request::from_str(file).expect("valid API Gateway v2 event");
            assert_eq!(req.method().as_str(), method);
            assert_eq!(req.uri().path(), path);
        }
    }

    /// Every routed path (and method) is in the OpenAPI document, and nothing else.
    #[test]
    fn openapi_lists_every_routed_path() {
        use utoipa::OpenApi;
        let doc = crate::openapi::ApiDoc::openapi();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in &doc.paths.paths {
            let methods = [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("put", item.put.is_some()),
                ("patch", item.patch.is_some()),
                ("delete", item.delete.is_some()),
            ];
            documented.extend(methods.iter().filter(|(_, on)| *on).map(|(m, _)| (path.clone(), m.to_string())));
        }
        let mut routed: Vec<(String, String)> = Vec::new();
        let table = include_str!("routes/mod.rs");
        for line in table.lines().filter(|l| l.contains(".route(\"")) {
            let path = line.split('"').nth(1).unwrap().to_string();
            for m in ["get", "post", "put", "patch", "delete"] {
                if line.contains(&format!("{m}(")) || line.contains(&format!(".{m}(")) {
                    routed.push((path.clone(), m.to_string()));
                }
            }
        }
        documented.sort();
        routed.sort();
        routed.dedup();
        assert_eq!(documented, routed);
        assert!(serde_json::to_value(&doc).unwrap()["openapi"].as_str().unwrap().starts_with("3.1"));
    }

    /// Every success answer with a body names its schema (no untyped `Object`), and every
    /// schema it names is in the document.
    #[test]
    fn every_success_response_has_a_schema() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(crate::openapi::ApiDoc::openapi()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut untyped = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    // The document itself is an OpenAPI document, described by its own spec.
                    if !status.starts_with('2') || status == "204" || path == "/openapi.json" {
                        continue;
                    }
                    let schema = &response["content"]["application/json"]["schema"];
                    let text = schema.to_string();
                    let typed = schema.get("$ref").is_some()
                        || schema.get("items").is_some_and(|i| i.get("$ref").is_some() || i.get("type").is_some())
                        || schema.get("type").is_some_and(|t| t != "object")
                        || schema.get("oneOf").is_some()
                        || schema.get("properties").is_some();
                    if !typed {
                        untyped.push(format!("{method} {path} {status}: {text}"));
                    }
                    for name in text.split("#/components/schemas/").skip(1) {
                        let name = name.split('"').next().unwrap();
                        assert!(schemas.contains_key(name), "{method} {path} names {name}, not in the document");
                    }
                }
            }
        }
        assert!(untyped.is_empty(), "responses without a schema:\n{}", untyped.join("\n"));
    }

    #[test]
    fn serde_errors_name_the_field() {
        let e = serde_json::from_str::<herald_core::service::SendRequest>(r#"{"channel":"sms","to":"+1","colour":1}"#)
            .unwrap_err();
        match super::error::json_error(&e) {
            super::error::ApiError::Herald(herald_core::service::HeraldError::Validation { fields, .. }) => {
                assert_eq!(fields.get("colour").map(String::as_str), Some("UNKNOWN_FIELD"))
            }
            other => panic!("{other:?}"),
        }
    }
}
