//! Fields an organization creates (global fields and a queue's local
//! fields): their types, reading a definition from a request, checking an
//! issue's value against its field, and how a field is described.

use serde_json::{json, Value};
use tracker_store::{FieldCategoryRecord, FieldRecord, QueueRecord};

use crate::error::ApiResult;
use crate::extract::Links;
use crate::fields::{self, edit_list, list_op, FieldErrors, Input};
use crate::state::AppState;

const CLASS_PREFIX: &str = "ru.yandex.startrek.core.fields.";

/// The value types a created field may have: Tracker's type classes, each
/// with the schema type field descriptions name and its query provider.
pub const KINDS: &[(&str, &str, &str)] = &[
    ("StringFieldType", "string", "StringOptionalQueryProvider"),
    ("TextFieldType", "text", "TextQueryProvider"),
    ("IntegerFieldType", "integer", "NumberQueryProvider"),
    ("FloatFieldType", "float", "NumberQueryProvider"),
    ("DateFieldType", "date", "DateQueryProvider"),
    ("DateTimeFieldType", "datetime", "DateTimeQueryProvider"),
    ("UriFieldType", "uri", "StringOptionalQueryProvider"),
    ("UserFieldType", "user", "UserQueryProvider"),
];

pub const FIXED_LIST: &str = "FixedListOptionsProvider";
pub const FIXED_USERS: &str = "FixedUserListOptionsProvider";

/// Tracker's built-in field categories: id, English and Russian name.
pub const BUILTIN_CATEGORIES: &[(&str, &str, &str)] = &[
    ("000000000000000000000001", "System", "Системные"),
    ("000000000000000000000002", "Timestamps", "Временные метки"),
    ("000000000000000000000003", "Agile", "Agile"),
    ("000000000000000000000004", "Email", "Email"),
    ("000000000000000000000005", "SLA", "SLA"),
    ("000000000000000000000006", "Time tracking", "Учет времени"),
];

/// The schema type of a type class (`None`: not a class trackerd knows).
pub fn schema_type(class: &str) -> Option<&'static str> {
    let short = class.strip_prefix(CLASS_PREFIX)?;
    KINDS
        .iter()
        .find(|(c, _, _)| *c == short)
        .map(|(_, s, _)| *s)
}

fn query_provider(class: &str) -> &'static str {
    let short = class.strip_prefix(CLASS_PREFIX).unwrap_or(class);
    KINDS
        .iter()
        .find(|(c, _, _)| *c == short)
        .map_or("StringOptionalQueryProvider", |(_, _, q)| *q)
}

/// A fresh id in the shape of Tracker's object ids (24 hex digits): new
/// categories' ids and local fields' id prefixes.
pub fn object_id() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// `{"en": …, "ru": …}`, or one string for both.
fn names(v: &Value, errors: &mut FieldErrors) -> Option<(String, String)> {
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    match v {
        Value::String(s) if !s.trim().is_empty() => {
            Some((s.trim().to_owned(), s.trim().to_owned()))
        }
        Value::Object(_) => match (get("en"), get("ru")) {
            (None, None) => {
                errors.add("name", "The name needs en or ru, a non-empty string");
                None
            }
            (en, ru) => {
                let en = en.or(ru).unwrap_or_default().to_owned();
                let ru = ru.map(str::to_owned).unwrap_or_else(|| en.clone());
                Some((en, ru))
            }
        },
        _ => {
            errors.add("name", "Expected {\"en\": …, \"ru\": …}");
            None
        }
    }
}

fn number(field: &str, v: &Value, errors: &mut FieldErrors) -> Option<i64> {
    let n = v.as_i64();
    if n.is_none() {
        errors.add(field, "Expected an integer");
    }
    n
}

/// Whether a category id names a built-in category or one of the
/// organization's.
pub async fn category_exists(state: &AppState, org: i64, id: &str) -> ApiResult<bool> {
    Ok(BUILTIN_CATEGORIES.iter().any(|(c, _, _)| *c == id)
        || state.store.field_category(org, id).await?.is_some())
}

/// The category's id and display name (as field descriptions show it).
pub fn category_ref(links: &Links, id: &str, custom: &[FieldCategoryRecord]) -> Value {
    let display = BUILTIN_CATEGORIES
        .iter()
        .find(|(c, _, _)| *c == id)
        .map(|(_, en, _)| (*en).to_owned())
        .or_else(|| {
            custom
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.name_en.clone())
        })
        .unwrap_or_else(|| id.to_owned());
    json!({
        "self": links.api(&format!("fields/categories/{id}")),
        "id": id,
        "display": display,
    })
}

/// An `optionsProvider` checked against the field's type, as stored:
/// `{"type": …, "values": […]}`.
async fn options(
    state: &AppState,
    org: i64,
    schema: &str,
    v: &Value,
    errors: &mut FieldErrors,
) -> ApiResult<Option<Option<String>>> {
    const F: &str = "optionsProvider";
    if v.is_null() {
        return Ok(Some(None));
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let Some(values) = v.get("values").and_then(Value::as_array) else {
        errors.add(F, "optionsProvider needs type and values (a list)");
        return Ok(None);
    };
    let mut out = Vec::with_capacity(values.len());
    match (kind, schema) {
        (FIXED_LIST, "string") => {
            for x in values {
                match x {
                    Value::String(s) if !s.trim().is_empty() => out.push(json!(s.trim())),
                    Value::Number(n) => out.push(json!(n.to_string())),
                    _ => {
                        errors.add(F, "The values of a string list are non-empty strings");
                        return Ok(None);
                    }
                }
            }
        }
        (FIXED_LIST, "integer") => {
            for x in values {
                match integer(x) {
                    Some(n) => out.push(json!(n)),
                    None => {
                        errors.add(F, "The values of a number list are integers");
                        return Ok(None);
                    }
                }
            }
        }
        (FIXED_USERS, "user") => {
            for x in values {
                match fields::user(state, org, x).await? {
                    Ok(Some(uid)) => match state.store.user_by_uid(uid).await? {
                        Some(u) => out.push(json!(u.login)),
                        None => {
                            errors.add(F, format!("User {uid} not found"));
                            return Ok(None);
                        }
                    },
                    Ok(None) | Err(_) => {
                        errors.add(F, format!("{x} is not a user of the organization"));
                        return Ok(None);
                    }
                }
            }
        }
        (FIXED_LIST | FIXED_USERS, _) => {
            errors.add(
                F,
                format!("{kind} does not go with a field of type {schema}"),
            );
            return Ok(None);
        }
        _ => {
            errors.add(
                F,
                format!("The type is {FIXED_LIST} or {FIXED_USERS}, not {kind:?}"),
            );
            return Ok(None);
        }
    }
    out.dedup();
    Ok(Some(Some(json!({"type": kind, "values": out}).to_string())))
}

/// Applies a create's or an update's body to a field definition. On create
/// `id`, `type` and `container` are taken; on update they may only be
/// echoed back unchanged.
pub async fn apply_definition(
    state: &AppState,
    org: i64,
    f: &mut FieldRecord,
    input: Input<'_>,
) -> ApiResult<()> {
    let mut errors = FieldErrors::default();
    let mut new_options = None;
    for (k, v) in input.body {
        match k.as_str() {
            "name" => {
                if let Some((en, ru)) = names(v, &mut errors) {
                    f.name_en = en;
                    f.name_ru = ru;
                }
            }
            "description" => match v {
                Value::String(s) => f.description = Some(s.clone()),
                Value::Null => f.description = None,
                _ => errors.add(k, "Expected a string"),
            },
            "category" => match fields::ident(v) {
                Some(c) if category_exists(state, org, &c).await? => f.category = c,
                Some(c) => errors.add(k, format!("Field category {c} not found")),
                None => errors.add(k, "Expected a category id"),
            },
            "order" => fields::set(&mut f.ord, number(k, v, &mut errors)),
            "readonly" => fields::set(&mut f.readonly, errors.flag(k, v)),
            "visible" => fields::set(&mut f.visible, errors.flag(k, v)),
            "hidden" => fields::set(&mut f.hidden, errors.flag(k, v)),
            "optionsProvider" => new_options = Some(v),
            "id" | "key" if input.creating => {}
            "type" if input.creating => match v.as_str().and_then(schema_type) {
                Some(_) => f.field_type = v.as_str().unwrap_or_default().to_owned(),
                None => errors.add(
                    k,
                    format!(
                        "Unknown field type; one of {}",
                        KINDS
                            .iter()
                            .map(|(c, _, _)| format!("{CLASS_PREFIX}{c}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            },
            "container" if input.creating => fields::set(&mut f.container, errors.flag(k, v)),
            // What an answer carries, sent back as it was.
            "self" | "version" | "schema" | "queryProvider" | "options" | "suggest" | "queue" => {}
            "id" | "key" if fields::ident(v).as_deref() == Some(f.key.as_str()) => {}
            "id" | "key" if fields::ident(v).as_deref() == Some(f.id.as_str()) => {}
            "type" if v.as_str() == Some(f.field_type.as_str()) => {}
            "type" if !input.creating && matches!(v.as_str(), Some("standard" | "local")) => {}
            "container" if v.as_bool() == Some(f.container) => {}
            "id" | "key" | "type" | "container" => errors.add(
                k,
                "The field's id, key, type and container cannot be changed",
            ),
            other => errors.add(other, "Unknown field property"),
        }
    }
    if let (Some(v), Some(schema)) = (new_options, schema_type(&f.field_type)) {
        if let Some(o) = options(state, org, schema, v, &mut errors).await? {
            f.options = o;
        }
    }
    errors.into_result()
}

/// A field as `/v2/fields` and `/v2/queues/{key}/localFields` describe it.
pub fn field_json(
    links: &Links,
    f: &FieldRecord,
    categories: &[FieldCategoryRecord],
    queue: Option<&QueueRecord>,
) -> Value {
    let schema = schema_type(&f.field_type).unwrap_or("string");
    let options: Option<Value> = f
        .options
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok());
    let mut v = json!({
        "self": match queue {
            Some(q) => links.api(&format!("queues/{}/localFields/{}", q.key, f.key)),
            None => links.api(&format!("fields/{}", f.id)),
        },
        "id": f.id,
        "name": f.name_en,
        "key": f.key,
        "version": f.version,
        "schema": if f.container {
            json!({"type": "array", "items": schema, "required": false})
        } else {
            json!({"type": schema, "required": false})
        },
        "readonly": f.readonly,
        "options": options.is_some(),
        "suggest": schema == "user",
        "queryProvider": {"type": query_provider(&f.field_type)},
        "order": f.ord,
        "category": category_ref(links, &f.category, categories),
        "type": if queue.is_some() { "local" } else { "standard" },
    });
    if let Some(d) = &f.description {
        v["description"] = json!(d);
    }
    if let Some(mut o) = options {
        o["needValidation"] = json!(true);
        v["optionsProvider"] = o;
    }
    if schema == "user" {
        v["suggestProvider"] = json!({"type": "UserSuggestProvider"});
    }
    if let Some(q) = queue {
        v["queue"] = crate::render::queue_ref(links, q);
    }
    v
}

pub fn category_json(links: &Links, c: &FieldCategoryRecord) -> Value {
    let mut v = json!({
        "self": links.api(&format!("fields/categories/{}", c.id)),
        "id": c.id,
        "name": c.name_en,
        "version": c.version,
        "order": c.ord,
    });
    if let Some(d) = &c.description {
        v["description"] = json!(d);
    }
    v
}

pub fn builtin_category_json(links: &Links, (id, en, _): &(&str, &str, &str)) -> Value {
    json!({
        "self": links.api(&format!("fields/categories/{id}")),
        "id": id,
        "name": en,
        "version": 1,
        "order": 0,
    })
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The allowed values of a field with a fixed list.
fn allowed(f: &FieldRecord) -> Option<Vec<Value>> {
    let o: Value = serde_json::from_str(f.options.as_deref()?).ok()?;
    o.get("values").and_then(Value::as_array).cloned()
}

/// One value of the field as stored, or why it is not one.
async fn one_value(
    state: &AppState,
    org: i64,
    f: &FieldRecord,
    v: &Value,
) -> ApiResult<Result<Value, String>> {
    let schema = schema_type(&f.field_type).unwrap_or("string");
    let allowed = allowed(f);
    let pick = |candidate: Value| -> Result<Value, String> {
        match &allowed {
            None => Ok(candidate),
            Some(list) => list
                .iter()
                .find(|a| match (a, &candidate) {
                    (Value::String(a), Value::String(c)) => a.eq_ignore_ascii_case(c.trim()),
                    (a, c) => *a == c,
                })
                .cloned()
                .ok_or_else(|| format!("{candidate} is not one of the field's values")),
        }
    };
    let v = match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("set") => &m["set"],
        other => other,
    };
    Ok(match (schema, v) {
        (_, Value::Null) => Ok(Value::Null),
        ("string" | "text", Value::String(s)) => pick(json!(s)),
        ("string" | "text", Value::Object(_)) if allowed.is_some() => match fields::ident(v) {
            Some(s) => pick(json!(s)),
            None => Err("Expected a string".into()),
        },
        ("string" | "text", _) => Err("Expected a string".into()),
        ("uri", Value::String(s)) => match url::Url::parse(s.trim()) {
            Ok(_) => Ok(json!(s.trim())),
            Err(_) => Err("Expected an absolute URI".into()),
        },
        ("uri", _) => Err("Expected an absolute URI".into()),
        ("integer", x) => match integer(x) {
            Some(n) => pick(json!(n)),
            None => Err("Expected an integer".into()),
        },
        ("float", Value::Number(n)) => Ok(json!(n)),
        ("float", Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(json!(n)),
            _ => Err("Expected a number".into()),
        },
        ("float", _) => Err("Expected a number".into()),
        ("date", Value::String(s))
            if chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok() =>
        {
            Ok(json!(s.trim()))
        }
        ("date", _) => Err("Expected a date in YYYY-MM-DD format".into()),
        ("datetime", Value::String(s)) => match tracker_api::time::parse(s.trim()) {
            Some(t) => Ok(json!(tracker_api::time::format(&t))),
            None => Err("Expected a date and time, e.g. 2026-01-15T12:00:00.000+0000".into()),
        },
        ("datetime", _) => Err("Expected a date and time".into()),
        ("user", x) => match fields::user(state, org, x).await? {
            Ok(Some(uid)) => match state.store.user_by_uid(uid).await? {
                Some(u) => {
                    let stored = json!({"uid": uid, "login": u.login});
                    match &allowed {
                        Some(list) if !list.contains(&json!(u.login)) => {
                            Err(format!("{} is not one of the field's users", u.login))
                        }
                        _ => Ok(stored),
                    }
                }
                None => Err(format!("User {uid} not found")),
            },
            Ok(None) => Ok(Value::Null),
            Err(e) => Err(e),
        },
        _ => Err("Unsupported field type".into()),
    })
}

/// The field's new value after `v` (a value, `{"set": …}`, or for a list
/// field `add` / `remove` / `set` / `replace`), from `current`.
pub async fn value(
    state: &AppState,
    org: i64,
    f: &FieldRecord,
    v: &Value,
    current: &Value,
) -> ApiResult<Result<Value, String>> {
    if !f.container {
        return one_value(state, org, f, v).await;
    }
    let ops = match list_op(v) {
        Ok(ops) => ops,
        Err(e) => return Ok(Err(e)),
    };
    let now: Vec<Value> = match current {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    };
    // A lookup that fails inside the list edit comes out as marked text,
    // and is an internal error again here.
    const FAILED: char = '\u{0}';
    let result = edit_list(&now, ops, |item| async move {
        match one_value(state, org, f, &item).await {
            Ok(Ok(Value::Null)) => Err("A list item cannot be null".to_owned()),
            Ok(r) => r,
            Err(e) => Err(format!("{FAILED}{e}")),
        }
    })
    .await;
    match result {
        Ok(list) if list.is_empty() => Ok(Ok(Value::Null)),
        Ok(list) => Ok(Ok(Value::Array(list))),
        Err(e) if e.starts_with(FAILED) => Err(crate::error::ApiError::Internal(anyhow::anyhow!(
            "{}",
            e.trim_start_matches(FAILED)
        ))),
        Err(e) => Ok(Err(e)),
    }
}
