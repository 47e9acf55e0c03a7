//! An entity's fields document: what each field holds, and reading a
//! body's fields into it (each value checked, every error reported at
//! once, the changes answered for the events log). Creates, edits, bulk
//! changes and imports all read fields here.

use serde_json::{json, Map, Value};
use tracker_store::EntityRecord;

use crate::access::entities::fields_of;
use crate::error::ApiResult;
use crate::fields::{self, FieldErrors};
use crate::state::AppState;

/// Statuses an entity may be in (the reference's list).
pub const STATUSES: [&str; 7] = [
    "draft",
    "in_progress",
    "launched",
    "postponed",
    "at_risk",
    "blocked",
    "according_to_plan",
];

/// What each field holds: how it is read from a body, rendered and matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    User,
    Users,
    Date,
    Tags,
    Parent,
    Status,
    Flag,
    Queues,
    /// Written through `/checklistItems` only.
    Checklist,
}

const FIELDS: [(&str, Kind); 15] = [
    ("summary", Kind::Text),
    ("description", Kind::Text),
    ("author", Kind::User),
    ("lead", Kind::User),
    ("teamUsers", Kind::Users),
    ("clients", Kind::Users),
    ("followers", Kind::Users),
    ("start", Kind::Date),
    ("end", Kind::Date),
    ("tags", Kind::Tags),
    ("parentEntity", Kind::Parent),
    ("entityStatus", Kind::Status),
    ("teamAccess", Kind::Flag),
    ("queues", Kind::Queues),
    ("checklistItems", Kind::Checklist),
];

pub fn field_kind(key: &str) -> Option<Kind> {
    FIELDS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// The longest summary, in characters.
const MAX_SUMMARY: usize = 1024;
/// The longest description, in characters.
const MAX_TEXT: usize = 100_000;

/// One field's change, as the events log shows it.
fn change(key: &str, from: Option<&Value>, to: Option<&Value>) -> Value {
    json!({
        "field": {"id": key, "display": key},
        "from": from.cloned().unwrap_or(Value::Null),
        "to": to.cloned().unwrap_or(Value::Null),
    })
}

/// What a field that takes one item or a list of them was given: nothing
/// when unset, a list's items, or the one item.
fn listed(v: &Value) -> Vec<Value> {
    match fields::unset(v) {
        Value::Null => Vec::new(),
        Value::Array(l) => l.clone(),
        one => vec![one.clone()],
    }
}

/// A list of users (or one), each a login, uid or object of the organization.
async fn users(state: &AppState, org: i64, v: &Value) -> Result<Value, String> {
    let items = listed(v);
    let mut out: Vec<i64> = Vec::new();
    for item in &items {
        match fields::user(state, org, item).await {
            Ok(Ok(Some(uid))) if !out.contains(&uid) => out.push(uid),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("Could not look the user up".into()),
        }
    }
    Ok(json!(out))
}

/// A date: `YYYY-MM-DD`, or a time whose date is kept.
fn date(v: &Value) -> Result<Value, String> {
    let Some(s) = v.as_str() else {
        return Err("Expected a date such as 2026-01-31".into());
    };
    let day = s.get(..10).unwrap_or(s);
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| json!(d.format("%Y-%m-%d").to_string()))
        .map_err(|_| format!("{s:?} is not a date such as 2026-01-31"))
}

/// The queues a value names (a key, an id, an object, or a list of them),
/// as their keys.
async fn queues(state: &AppState, org: i64, v: &Value) -> ApiResult<Result<Value, String>> {
    let items = listed(v);
    let mut keys: Vec<String> = Vec::new();
    for item in &items {
        match crate::access::issues::find_queue(state, org, item).await? {
            Ok(q) if !keys.contains(&q.key) => keys.push(q.key),
            Ok(_) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(json!(keys)))
}

/// The parent a value names (the id or short id of a portfolio, or of a
/// goal for a goal), refusing one that would make a cycle.
async fn parent(
    state: &AppState,
    org: i64,
    e: &EntityRecord,
    v: &Value,
) -> ApiResult<Result<Value, String>> {
    if fields::unset(v).is_null() {
        return Ok(Ok(Value::Null));
    }
    let Some(id) = fields::ident(v) else {
        return Ok(Err("Expected the id of a portfolio".into()));
    };
    let parent_kind = if e.entity_type == "goal" {
        "goal"
    } else {
        "portfolio"
    };
    let found = match id.parse::<i64>() {
        Ok(short) => {
            state
                .store
                .entity_by_short_id(org, parent_kind, short)
                .await?
        }
        Err(_) => state.store.entity(org, &id).await?,
    };
    let Some(mut p) = found.filter(|p| p.entity_type == parent_kind) else {
        return Ok(Err(format!("No {parent_kind} {id}")));
    };
    let chosen = p.id.clone();
    // Up the chain: the entity itself must not be found above its parent.
    for _ in 0..64 {
        if p.pk == e.pk {
            return Ok(Err(format!("{id} is inside this {}", e.entity_type)));
        }
        let up = fields_of(&p)
            .get("parentEntity")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match up {
            Some(up) => match state.store.entity(org, &up).await? {
                Some(next) => p = next,
                None => break,
            },
            None => break,
        }
    }
    Ok(Ok(json!(chosen)))
}

/// Reads the fields of a body into `e`'s document: each checked, every
/// error reported at once. Answers the changes made, for the events log.
pub async fn parse_fields(
    state: &AppState,
    org: i64,
    e: &mut EntityRecord,
    body: &Map<String, Value>,
) -> ApiResult<Vec<Value>> {
    let mut doc = fields_of(e);
    let mut errors = FieldErrors::default();
    let mut changes = Vec::new();
    for (key, raw) in body {
        let Some(kind) = field_kind(key) else {
            errors.add(key, "Unknown entity field");
            continue;
        };
        let v = fields::unset(raw);
        let parsed: Result<Value, String> = match kind {
            Kind::Text => match v {
                Value::Null if key != "summary" => Ok(Value::Null),
                Value::String(s) if key == "summary" && s.trim().is_empty() => {
                    Err("Required: a non-empty name".into())
                }
                Value::String(s) if key == "summary" && s.chars().count() > MAX_SUMMARY => {
                    Err(format!("At most {MAX_SUMMARY} characters"))
                }
                Value::String(s) if s.chars().count() > MAX_TEXT => {
                    Err(format!("At most {MAX_TEXT} characters"))
                }
                Value::String(s) => Ok(json!(s.trim_end())),
                _ => Err("Expected a string".into()),
            },
            Kind::User => match fields::user(state, org, v).await? {
                Ok(None) if key == "author" => Err("An entity always has an author".into()),
                Ok(uid) => Ok(json!(uid)),
                Err(e) => Err(e),
            },
            Kind::Users => users(state, org, v).await,
            Kind::Date if v.is_null() => Ok(Value::Null),
            Kind::Date => date(v),
            Kind::Tags => match v {
                Value::Null => Ok(json!([])),
                Value::String(s) if !s.trim().is_empty() => Ok(json!([s.trim()])),
                Value::Array(l)
                    if l.iter()
                        .all(|t| t.as_str().is_some_and(|s| !s.trim().is_empty())) =>
                {
                    let mut tags: Vec<&str> = Vec::new();
                    for t in l.iter().filter_map(Value::as_str).map(str::trim) {
                        if !tags.contains(&t) {
                            tags.push(t);
                        }
                    }
                    Ok(json!(tags))
                }
                _ => Err("Expected a list of non-empty strings".into()),
            },
            Kind::Parent => parent(state, org, e, v).await?,
            Kind::Status => match v.as_str() {
                Some(s) if STATUSES.contains(&s) => Ok(json!(s)),
                _ => Err(format!("Expected one of {}", STATUSES.join(", "))),
            },
            Kind::Flag => match v {
                Value::Null | Value::Bool(_) => Ok(v.clone()),
                _ => Err("Expected true or false".into()),
            },
            Kind::Queues => queues(state, org, v).await?,
            Kind::Checklist => Err("Change checklist items through …/checklistItems".into()),
        };
        match parsed {
            Ok(new) => {
                let old = doc.get(key).cloned();
                let new = (!new.is_null()).then_some(new);
                if old != new {
                    changes.push(change(key, old.as_ref(), new.as_ref()));
                    match new {
                        Some(n) => doc.insert(key.clone(), n),
                        None => doc.remove(key),
                    };
                }
            }
            Err(message) => errors.add(key, message),
        }
    }
    errors.into_result()?;
    e.fields = Value::Object(doc).to_string();
    Ok(changes)
}
