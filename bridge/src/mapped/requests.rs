//! The write-back side of a mapping: filling a request template with an
//! action's values (`{text}`, `{text:html}`, `{tags}`, ...) and merging requests
//! to one method and path when their bodies agree (helpdesks cap updates per
//! ticket).

use super::*;

/// The request a template makes with `values`; `None` when a placeholder of the
/// path has no value.
pub(super) fn render(
    request: &Request,
    target: &Target,
    values: &BTreeMap<&str, Value>,
) -> Option<RestCall> {
    if request.path.contains("{account}") && target.account_id.is_empty() {
        return None;
    }
    let path = request
        .path
        .replace("{ticket}", &target.ticket_id)
        .replace("{account}", &target.account_id);
    let method = http::Method::from_bytes(request.method.as_bytes()).ok()?;
    let body = fill(&request.body, values).unwrap_or(Value::Object(Map::new()));
    Some(RestCall {
        method,
        path,
        body,
        note: false,
    })
}

/// The template with its placeholders replaced; `None` for a placeholder without a
/// value, so that the key holding it is left out.
fn fill(template: &Value, values: &BTreeMap<&str, Value>) -> Option<Value> {
    match template {
        Value::String(s) if s.starts_with('{') && s.ends_with('}') => {
            let inner = &s[1..s.len() - 1];
            let (name, conversion) = inner.split_once(':').unwrap_or((inner, ""));
            let value = values.get(name)?;
            match conversion {
                "number" => value
                    .as_str()
                    .and_then(|t| t.trim().parse::<u64>().ok())
                    .map(Value::from),
                "html" => value.as_str().map(|t| Value::String(html_text(t))),
                // `[{"id": 123, "value": ...}]`, for fields keyed by numeric id.
                "id-list" => {
                    let mut list: Vec<(u64, Value)> = value
                        .as_object()?
                        .iter()
                        .filter_map(|(k, v)| Some((k.trim().parse::<u64>().ok()?, v.clone())))
                        .collect();
                    list.sort_by_key(|(id, _)| *id);
                    Some(Value::Array(
                        list.into_iter()
                            .map(|(id, value)| serde_json::json!({ "id": id, "value": value }))
                            .collect(),
                    ))
                }
                _ => Some(value.clone()),
            }
        }
        Value::Object(object) => Some(Value::Object(
            object
                .iter()
                .filter_map(|(k, v)| fill(v, values).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|v| fill(v, values)).collect(),
        )),
        other => Some(other.clone()),
    }
}

/// Plain text as HTML: escaped, line breaks kept.
fn html_text(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\n' => html.push_str("<br>"),
            c => html.push(c),
        }
    }
    html
}

/// Whether `template` holds the placeholder `placeholder` somewhere.
pub(super) fn has_placeholder(template: &Value, placeholder: &str) -> bool {
    match template {
        Value::String(s) => s == placeholder,
        Value::Object(object) => object.values().any(|v| has_placeholder(v, placeholder)),
        Value::Array(items) => items.iter().any(|v| has_placeholder(v, placeholder)),
        _ => false,
    }
}

/// Adds `call` to the first earlier call to the same method and path whose body
/// agrees with it (no key set to two values), else appends it: one update instead
/// of several, as helpdesks cap updates per ticket.
pub(super) fn merge_or_push(calls: &mut Vec<RestCall>, call: RestCall) {
    for earlier in calls.iter_mut() {
        if earlier.method == call.method && earlier.path == call.path {
            let mut merged = earlier.body.clone();
            if merge(&mut merged, &call.body) {
                earlier.body = merged;
                earlier.note |= call.note;
                return;
            }
        }
    }
    calls.push(call);
}

/// Deep-merges `from` into `into`; false when they disagree on a value.
fn merge(into: &mut Value, from: &Value) -> bool {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(key) {
                    Some(existing) => {
                        if !merge(existing, value) {
                            return false;
                        }
                    }
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
            true
        }
        (into, from) => into == from,
    }
}
