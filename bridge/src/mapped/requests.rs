//! The write-back side of a mapping: an event's actions sorted into the mapping's
//! requests (what it has no request for goes into the note), each template filled
//! with an action's values (`{text}`, `{text:html}`, `{tags}`, ...), and requests
//! to one method and path merged when their bodies agree (helpdesks cap updates
//! per ticket).

use super::*;
use crate::writes::Writes;

/// The requests that write `actions` (and an agent's `reply`) back through the
/// mapping's `write` templates: what the helpdesk has no request for goes into the
/// note, and requests to one method and path are merged.
///
/// A request carrying a route or fields gets a [`Fallback`]: the same without
/// them, told in its note, for when the helpdesk refuses it as invalid.
pub(super) fn write_back(
    write: &WriteBack,
    target: &Target,
    actions: &[pb::Action],
    reply: Option<&str>,
    rules: &Rules,
) -> Vec<RestCall> {
    let writes = Writes::from_actions(actions, reply);
    let mut plain = writes.clone();
    plain.unroute_all();
    for (key, value) in std::mem::take(&mut plain.fields) {
        plain.notes.push(format!("{key}: {value}"));
    }
    if plain == writes {
        // Neither a route nor fields: nothing to go without.
        return plan(write, target, writes, rules);
    }
    let mut calls = plan(write, target, writes, rules);
    let without = plan(write, target, plain, rules);
    for call in &mut calls {
        let same = without
            .iter()
            .find(|other| other.method == call.method && other.path == call.path);
        call.fallback = match same {
            Some(other) if other.body == call.body => None,
            Some(other) => Some(Fallback::Send(other.body.clone())),
            None => Some(Fallback::Leave),
        };
    }
    calls
}

/// The requests of [`write_back`], for `writes`.
fn plan(write: &WriteBack, target: &Target, mut writes: Writes, rules: &Rules) -> Vec<RestCall> {
    // What the helpdesk has no request (or no value) for goes into the note.
    let priority = writes.priority.take().and_then(|p| {
        let value = write.priorities.get(&p).cloned();
        if value.is_none() {
            writes.unrouted.push(format!("priority {p}"));
        }
        value
    });
    match &write.route {
        None => writes.unroute_all(),
        Some(route) => {
            // An id the helpdesk wants as a number but that is none cannot be set.
            let numeric =
                |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().parse::<u64>().is_ok());
            for (name, id) in [("group", &mut writes.group), ("agent", &mut writes.agent)] {
                if has_placeholder(&route.body, &format!("{{{name}:number}}"))
                    && !numeric(id)
                    && let Some(id) = id.take()
                {
                    writes.unrouted.push(format!("{name} {id}"));
                }
            }
        }
    }
    if write.tags.is_none() && !writes.tags.is_empty() {
        let tags = std::mem::take(&mut writes.tags).join(", ");
        writes.notes.push(format!("Tags: {tags}"));
    }
    match &write.fields {
        None => {
            for (key, value) in std::mem::take(&mut writes.fields) {
                writes.notes.push(format!("{key}: {value}"));
            }
        }
        // Fields keyed by numeric id: a name cannot be set, the agent sees it.
        Some(request) if has_placeholder(&request.body, "{fields:id-list}") => {
            let named: Vec<String> = writes
                .fields
                .keys()
                .filter(|k| k.trim().parse::<u64>().is_err())
                .cloned()
                .collect();
            for key in named {
                if let Some(value) = writes.fields.remove(&key) {
                    writes.notes.push(format!("{key}: {value}"));
                }
            }
        }
        Some(_) => {}
    }
    // Each value as its field's type wants it; one that is not of that type goes
    // into the note instead (the helpdesk would refuse the whole update).
    let mut fields = Map::new();
    for (key, text) in std::mem::take(&mut writes.fields) {
        match rules.field_value(&key, &text) {
            Ok(value) => {
                fields.insert(key, value);
            }
            Err(line) => writes.notes.push(line),
        }
    }
    let note = writes.note_text(rules.note_line(target).as_deref(), rules.notes);

    let mut values: BTreeMap<&str, Value> = BTreeMap::new();
    let mut calls = Vec::new();
    let mut add = |request: &Request, values: &BTreeMap<&str, Value>, note: bool| {
        if let Some(mut call) = render(request, target, values) {
            call.note = note;
            merge_or_push(&mut calls, call);
        }
    };
    if let Some(note) = note {
        values.insert("text", Value::String(note));
        add(&write.note, &values, true);
    }
    if let (Some(request), false) = (&write.tags, writes.tags.is_empty()) {
        values.insert("tags", Value::from(writes.tags.clone()));
        add(request, &values, false);
    }
    if let (Some(request), false) = (&write.fields, fields.is_empty()) {
        values.insert("fields", Value::Object(fields));
        add(request, &values, false);
    }
    if let Some(request) = &write.route {
        let route_values: BTreeMap<&str, Value> = [
            ("group", writes.group.clone().map(Value::String)),
            ("agent", writes.agent.clone().map(Value::String)),
            ("priority", priority),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if !route_values.is_empty() {
            add(request, &route_values, false);
        }
    }
    if let Some(reply) = writes.public_reply() {
        let mut reply_values = BTreeMap::new();
        reply_values.insert("text", Value::String(reply));
        add(&write.reply, &reply_values, false);
    }
    calls
}

/// The request a template makes with `values`; `None` when a placeholder of the
/// path has no value.
fn render(request: &Request, target: &Target, values: &BTreeMap<&str, Value>) -> Option<RestCall> {
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
        whole_set: None,
        fallback: None,
    })
}

/// The template with its placeholders replaced; `None` for a placeholder without a
/// value, so that the key holding it is left out.
fn fill(template: &Value, values: &BTreeMap<&str, Value>) -> Option<Value> {
    match template {
        Value::String(s)
            if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) =>
        {
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
    let mut html = String::with_capacity(text.len().saturating_add(16));
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
