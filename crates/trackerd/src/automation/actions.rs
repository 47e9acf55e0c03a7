//! The actions of triggers and auto-actions (and what a macro's
//! `fieldChanges` do): read from JSON, refusing what trackerd does not run
//! by name, and Tracker's `{{issue.key}}` placeholders filled in. No I/O:
//! mod.rs runs the actions.

use serde_json::{json, Map, Value};

use super::conditions::{field_id, typed, value_strings};

/// An HTTP request an action makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub endpoint: String,
    pub method: String,
    pub content_type: String,
    pub headers: Map<String, Value>,
    /// `noauth`, `basic` (login, password) or `oauth` (header, token type, token).
    pub auth: Map<String, Value>,
    /// An object (sent as JSON) or a string, with placeholders.
    pub body: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Executes the transition leading to this status (key).
    Transition(String),
    /// Field edits, as the body of an issue edit.
    Update(Map<String, Value>),
    Comment(String),
    Webhook(Webhook),
}

/// The most actions one trigger or auto-action may hold.
pub const MAX_ACTIONS: usize = 50;

/// Reads `actions`: a non-empty array of action objects.
pub fn parse_list(v: &Value) -> Result<Vec<Action>, String> {
    let Some(items) = v.as_array() else {
        return Err("actions must be an array of action objects".into());
    };
    if items.is_empty() {
        return Err("at least one action is required".into());
    }
    if items.len() > MAX_ACTIONS {
        return Err(format!("at most {MAX_ACTIONS} actions are allowed"));
    }
    items.iter().map(parse).collect()
}

fn string(o: &Map<String, Value>, key: &str, ty: &str) -> Result<String, String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(format!("action {ty} needs {key} as a non-empty string")),
    }
}

fn parse(v: &Value) -> Result<Action, String> {
    let (o, ty) = typed(v, "an action")?;
    match ty {
        "Transition" => {
            let status = o
                .get("status")
                .and_then(|s| value_strings(s).into_iter().next())
                .ok_or("action Transition needs a status")?;
            Ok(Action::Transition(status))
        }
        "Update" => {
            let Some(list) = o.get("update").and_then(Value::as_array) else {
                return Err("action Update needs update: an array of {field, update}".into());
            };
            let mut body = Map::new();
            for item in list {
                let field = item
                    .get("field")
                    .and_then(|f| value_strings(f).into_iter().next())
                    .ok_or("each update of action Update needs a field")?;
                let op = match item.get("update") {
                    None | Some(Value::Null) => Value::Null,
                    Some(Value::Object(op)) => {
                        let Some((verb, value)) = op.iter().next().filter(|_| op.len() == 1) else {
                            return Err(format!(
                                "the update of {field} must be one of set, add, remove"
                            ));
                        };
                        match verb.as_str() {
                            "set" => value.clone(),
                            "add" | "remove" => json!({ verb.clone(): value }),
                            other => {
                                return Err(format!(
                                "update operation {other} of {field} is not supported by trackerd"
                            ))
                            }
                        }
                    }
                    Some(_) => {
                        return Err(format!("the update of {field} must be an object or null"))
                    }
                };
                body.insert(field_id(&field), op);
            }
            Ok(Action::Update(body))
        }
        "CreateComment" | "Event.comment-create" => {
            let text = o.get("text").or(o.get("comment")).and_then(Value::as_str);
            match text {
                Some(t) if !t.trim().is_empty() => Ok(Action::Comment(t.to_owned())),
                _ => Err(format!("action {ty} needs text")),
            }
        }
        "Webhook" => {
            let endpoint = string(o, "endpoint", ty)?;
            let url = reqwest::Url::parse(&endpoint)
                .map_err(|e| format!("the endpoint {endpoint:?} is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!(
                    "the endpoint {endpoint:?} must be an http(s) URL with a host"
                ));
            }
            let method = match o.get("method") {
                None | Some(Value::Null) => "POST".to_owned(),
                Some(Value::String(m))
                    if ["GET", "POST", "PUT", "DELETE", "PATCH"]
                        .contains(&m.to_ascii_uppercase().as_str()) =>
                {
                    m.to_ascii_uppercase()
                }
                Some(m) => {
                    return Err(format!(
                        "webhook method {m} is not one of GET, POST, PUT, DELETE"
                    ))
                }
            };
            let headers = match o.get("headers") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(h)) if h.values().all(Value::is_string) => h.clone(),
                Some(_) => return Err("webhook headers must be an object of strings".into()),
            };
            let auth = match o.get("authContext") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(a)) => {
                    match a.get("type").and_then(Value::as_str).unwrap_or("noauth") {
                        "noauth" | "basic" | "oauth" => a.clone(),
                        other => {
                            return Err(format!(
                                "webhook authorization {other} is not supported by trackerd"
                            ))
                        }
                    }
                }
                Some(_) => return Err("authContext must be an object".into()),
            };
            let body = match o.get("body") {
                None | Some(Value::Null) => None,
                Some(b @ (Value::String(_) | Value::Object(_) | Value::Array(_))) => {
                    Some(b.clone())
                }
                Some(_) => return Err("the webhook body must be an object or a string".into()),
            };
            Ok(Action::Webhook(Webhook {
                endpoint,
                method,
                content_type: o
                    .get("contentType")
                    .and_then(Value::as_str)
                    .unwrap_or("application/json")
                    .to_owned(),
                headers,
                auth,
                body,
            }))
        }
        other => Err(format!("action type {other} is not supported by trackerd")),
    }
}

/// Fills Tracker's placeholders in `text`: `{{issue.FIELD}}` from the
/// issue's values, `{{currentUser}}`, `{{currentDateTime}}` and
/// `{{currentDateTime.date}}`; an unknown one is left as written, and the
/// documentation's `not_var` escape is dropped.
pub fn fill(text: &str, vars: &Map<String, Value>) -> String {
    let text = text.replace("not_var{{", "{{");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match vars.get(name) {
            Some(v) => out.push_str(&display(v)),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// [`fill`] in every string of a JSON body.
pub fn fill_json(v: &Value, vars: &Map<String, Value>) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_json(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_json(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_from_the_issue_and_unknown_ones_left_alone() {
        let vars = json!({"issue.key": "TEST-1", "issue.tags": ["a", "b"], "currentUser": "robot"});
        let vars = vars.as_object().unwrap();
        assert_eq!(
            fill(
                "{{issue.key}} by {{ currentUser }}: {{issue.tags}} {{issue.nope}}",
                vars
            ),
            "TEST-1 by robot: a, b {{issue.nope}}"
        );
        assert_eq!(fill("not_var{{issue.key}} {{open", vars), "TEST-1 {{open");
        let body = fill_json(
            &json!({"text": "{{issue.key}}", "n": 1, "l": ["{{issue.key}}"]}),
            vars,
        );
        assert_eq!(body, json!({"text": "TEST-1", "n": 1, "l": ["TEST-1"]}));
    }

    #[test]
    fn actions_are_read_and_unsupported_ones_refused_by_name() {
        let a = parse_list(&json!([
            {"type": "Transition", "status": {"key": "closed"}},
            {"type": "Update", "update": [
                {"field": "Priority", "update": {"set": {"key": "critical"}}},
                {"field": "tags", "update": {"add": ["x"]}},
                {"field": "resolution", "update": null}
            ]},
            {"type": "CreateComment", "text": "hi"},
            {"type": "Webhook", "endpoint": "http://example.com/h", "body": {"k": "{{issue.key}}"}}
        ]))
        .unwrap();
        assert_eq!(a[0], Action::Transition("closed".into()));
        assert_eq!(
            a[1],
            Action::Update(json!({"priority": {"key": "critical"}, "tags": {"add": ["x"]}, "resolution": null}).as_object().unwrap().clone())
        );
        assert_eq!(a[2], Action::Comment("hi".into()));
        assert!(matches!(&a[3], Action::Webhook(w) if w.method == "POST"));
        for (bad, word) in [
            (json!([{"type": "CreateChecklist"}]), "CreateChecklist"),
            (json!([{"type": "Webhook", "endpoint": "ftp://x/"}]), "http"),
            (json!([]), "at least one"),
            (
                json!([{"type": "Update", "update": [{"field": "tags", "update": {"toggle": 1}}]}]),
                "toggle",
            ),
        ] {
            let e = parse_list(&bad).unwrap_err();
            assert!(e.contains(word), "{bad}: {e}");
        }
    }
}
