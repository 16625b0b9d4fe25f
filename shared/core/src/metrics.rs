//! CloudWatch Embedded Metric Format: one JSON line on stdout per data point. In Lambda the
//! log pipeline turns it into a metric; locally it is just a log line.
use std::time::{SystemTime, UNIX_EPOCH};

/// The default namespace; a stack sets its own (`HERALD_METRICS_NAMESPACE`, the template
/// gives `Herald/<ResourcePrefix>`) so that stacks sharing an account never share alarms.
pub const NAMESPACE: &str = "Herald";

fn namespace() -> &'static str {
    static NS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NS.get_or_init(|| {
        std::env::var("HERALD_METRICS_NAMESPACE").ok().filter(|n| !n.trim().is_empty()).unwrap_or(NAMESPACE.into())
    })
}

pub fn emit(name: &str, value: f64, dimensions: &[(&str, &str)]) {
    println!("{}", line(name, value, dimensions));
}

/// A data point whose `properties` travel in the log line (searchable in Logs Insights)
/// without being dimensions: a per-tenant dimension would be a custom metric per tenant.
pub fn emit_tagged(name: &str, value: f64, properties: &[(&str, &str)]) {
    let mut v: serde_json::Value = serde_json::from_str(&line(name, value, &[])).unwrap_or_default();
    for (k, val) in properties {
        v[*k] = serde_json::json!(val);
    }
    println!("{v}");
}

/// Several values of one metric in one line (EMF takes up to 100).
pub fn emit_values(name: &str, values: &[f64], dimensions: &[(&str, &str)]) {
    let mut v: serde_json::Value = serde_json::from_str(&line(name, 0.0, dimensions)).unwrap_or_default();
    v[name] = serde_json::json!(values);
    println!("{v}");
}

pub fn line(name: &str, value: f64, dimensions: &[(&str, &str)]) -> String {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let dims: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    // The empty set publishes the aggregate too, which the template's alarms watch.
    let sets = if dims.is_empty() { serde_json::json!([[]]) } else { serde_json::json!([[], dims]) };
    let mut v = serde_json::json!({
        "_aws": {"Timestamp": ts, "CloudWatchMetrics": [{"Namespace": namespace(), "Dimensions": sets, "Metrics": [{"Name": name}]}]},
    });
    v[name] = serde_json::json!(value);
    for (k, val) in dimensions {
        v[*k] = serde_json::json!(val);
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn emf_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&super::line("linking_success", 1.0, &[("method", "direct")])).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "linking_success");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], serde_json::json!([]));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][1][0], "method");
        assert_eq!(v["linking_success"], 1.0);
        assert_eq!(v["method"], "direct");
    }
}
