//! Human output: a JSON array of objects as a table, an object as key/value lines.
use serde_json::Value;

fn cell(v: &Value) -> String {
    let s = match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// The list a reply carries: the reply itself, or a page (`{"messages": […], "next_cursor"}`,
/// `{"entries": …}`, `{"tenants": …}`).
fn rows(v: &Value) -> Option<&Vec<Value>> {
    if let Some(a) = v.as_array() {
        return Some(a);
    }
    let obj = v.as_object()?;
    let mut lists = obj.iter().filter(|(k, _)| k.as_str() != "next_cursor");
    match (lists.next(), lists.next()) {
        (Some((_, Value::Array(one))), None) if one.iter().all(Value::is_object) => Some(one),
        _ => None,
    }
}

pub fn render(v: &Value) -> String {
    if let Some(list) = rows(v) {
        let mut text = table(list);
        if let Some(c) = v.get("next_cursor").and_then(Value::as_str) {
            text.push_str(&format!("next cursor: {c}\n"));
        }
        return text;
    }
    match v.as_object() {
        Some(obj) => {
            let width = obj.keys().map(String::len).max().unwrap_or(0);
            obj.iter().map(|(k, v)| format!("{k:width$}  {}\n", cell(v))).collect()
        }
        None => format!("{}\n", cell(v)),
    }
}

fn table(list: &[Value]) -> String {
    if list.is_empty() {
        return "(none)\n".into();
    }
    let mut columns: Vec<String> = Vec::new();
    for row in list {
        for k in row.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            if !columns.contains(&k) && columns.len() < 8 {
                columns.push(k);
            }
        }
    }
    let cells: Vec<Vec<String>> =
        list.iter().map(|r| columns.iter().map(|c| cell(r.get(c).unwrap_or(&Value::Null))).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(c.len()))
        .collect();
    let line = |vals: Vec<&str>| {
        let parts: Vec<String> = vals.iter().zip(&widths).map(|(v, w)| format!("{v:w$}")).collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(columns.iter().map(String::as_str).collect());
    for r in &cells {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn lists_become_tables_and_objects_key_value_lines() {
        let t = super::render(
            &json!({"messages": [{"id": "m1", "status": "sent"}, {"id": "m2", "status": null}], "next_cursor": "abc"}),
        );
        assert_eq!(t, "id  status\nm1  sent\nm2  -\nnext cursor: abc\n");
        assert_eq!(super::render(&json!({"sent": 3, "rate": 0.5})), "rate  0.5\nsent  3\n");
        assert_eq!(super::render(&json!([])), "(none)\n");
        assert_eq!(super::render(&json!({"sent": 1, "top": [{"t": 1}]})), "sent  1\ntop   [{\"t\":1}]\n");
    }
}
