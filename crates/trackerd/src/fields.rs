//! Reading field values the way Tracker accepts them: a key, an id, an
//! object with `id`/`key`/`name`, `{"set": …}`, and for lists `add`,
//! `remove`, `set` and `replace`; and applying them to an issue.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_store::{FieldRecord, IssueRecord};

use crate::access::issue_types;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The JSON body of a create or of an edit, as the code reading it onto a
/// record takes it: a create must give the required fields, an edit keeps
/// what it leaves out.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub body: &'a Map<String, Value>,
    pub creating: bool,
}

impl<'a> Input<'a> {
    pub fn create(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            creating: true,
        }
    }

    pub fn update(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            creating: false,
        }
    }

    /// On a create, notes each of `fields` the body lacks (see
    /// [`FieldErrors::require`]).
    pub fn require(&self, errors: &mut FieldErrors, fields: &[&str]) {
        if self.creating {
            errors.require(self.body, fields);
        }
    }
}

/// Field-level errors, answered together as one `422`.
#[derive(Debug, Default)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// Notes each of `fields` that `body` lacks, or has as `null`, as required.
    pub fn require(&mut self, body: &Map<String, Value>, fields: &[&str]) {
        for f in fields {
            if body.get(*f).is_none_or(Value::is_null) {
                self.add(f, "Required field");
            }
        }
    }

    /// `r`'s value; or, with its error noted against `field`, `T`'s default.
    pub fn or_default<T: Default>(&mut self, field: &str, r: Result<T, impl Into<String>>) -> T {
        r.unwrap_or_else(|e| {
            self.add(field, e);
            T::default()
        })
    }

    /// A `true`/`false` field's value; anything else is noted.
    pub fn flag(&mut self, field: &str, v: &Value) -> Option<bool> {
        let b = v.as_bool();
        if b.is_none() {
            self.add(field, "Expected true or false");
        }
        b
    }

    /// A field check's outcome: its value, or its field errors kept with the
    /// others so one answer names every bad field.
    pub fn note<T>(&mut self, r: ApiResult<T>) -> ApiResult<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(ApiError::Unprocessable { errors, .. }) => {
                for (field, message) in errors {
                    self.add(&field, message);
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Unprocessable {
                message: "Invalid field values".into(),
                errors: self.0,
            })
        }
    }
}

/// `{"set": x}` means `x`.
pub(crate) fn unset(v: &Value) -> &Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("set") => &m["set"],
        other => other,
    }
}

/// The identifying string of a reference value: `"bug"`, `1`, `{"key": "bug"}`,
/// `{"id": "1"}`, `{"name": "Bug"}`, `{"login": "alice"}`.
/// The longest name (of a group, component, version, queue) trackerd
/// keeps: far above any real one, and below what the databases index
/// (PostgreSQL refuses an index entry over about 2 700 bytes).
pub const MAX_NAME_CHARS: usize = 512;

/// A name as given: a non-empty string (trimmed) of at most
/// [`MAX_NAME_CHARS`], or what is wrong with it.
pub fn name(v: &Value) -> Result<String, String> {
    match v.as_str().map(str::trim) {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => Err(format!(
            "The name must be at most {MAX_NAME_CHARS} characters"
        )),
        Some(n) if !n.is_empty() => Ok(n.to_owned()),
        _ => Err("The name must be a non-empty string".into()),
    }
}

/// The required name in `body[field]`, or the error for the field.
pub fn required_name(
    body: &serde_json::Map<String, Value>,
    field: &str,
) -> crate::error::ApiResult<String> {
    let v = body
        .get(field)
        .ok_or_else(|| crate::error::ApiError::field(field, "Required field"))?;
    name(v).map_err(|e| crate::error::ApiError::field(field, e))
}

pub fn ident(v: &Value) -> Option<String> {
    match unset(v) {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => ["key", "login", "uid", "id", "name", "display"]
            .iter()
            .find_map(|k| m.get(*k).and_then(ident)),
        _ => None,
    }
}

pub fn dict(v: &Value, dict: &'static [Entry]) -> Result<Option<Entry>, String> {
    if unset(v).is_null() {
        return Ok(None);
    }
    let id = ident(v).ok_or_else(|| "Expected a key, an id or an object".to_owned())?;
    dictionaries::find(dict, &id)
        .map(Some)
        .ok_or_else(|| format!("Unknown value {id:?}"))
}

/// A user of the organization by login or uid.
pub async fn user(state: &AppState, org: i64, v: &Value) -> ApiResult<Result<Option<i64>, String>> {
    if unset(v).is_null() {
        return Ok(Ok(None));
    }
    let Some(id) = ident(v) else {
        return Ok(Err("Expected a login, a uid or an object".into()));
    };
    let user = match id.parse::<i64>() {
        Ok(uid) => state.store.user_by_uid(uid).await?,
        Err(_) => state.store.user_by_login(&id).await?,
    };
    Ok(match user {
        Some(u) if state.store.membership(org, u.uid).await?.is_some() => Ok(Some(u.uid)),
        _ => Err(format!("User {id} not found")),
    })
}

/// A user of the organization that must be given (a list item): `what`
/// names it in the error ("follower", "member").
pub async fn required_user(
    state: &AppState,
    org: i64,
    v: &Value,
    what: &str,
) -> Result<i64, String> {
    match user(state, org, v).await {
        Ok(Ok(Some(uid))) => Ok(uid),
        Ok(Ok(None)) => Err(format!("A {what} cannot be null")),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(e.to_string()),
    }
}

/// A list edit.
pub enum ListOp {
    Set(Vec<Value>),
    Add(Vec<Value>),
    Remove(Vec<Value>),
    Replace(Vec<(Value, Value)>),
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

pub fn list_op(v: &Value) -> Result<Vec<ListOp>, String> {
    match v {
        Value::Object(m)
            if m.keys()
                .all(|k| matches!(k.as_str(), "set" | "add" | "remove" | "replace"))
                && !m.is_empty() =>
        {
            let mut ops = Vec::new();
            if let Some(s) = m.get("set") {
                ops.push(ListOp::Set(as_list(s)));
            }
            if let Some(r) = m.get("remove") {
                ops.push(ListOp::Remove(as_list(r)));
            }
            if let Some(a) = m.get("add") {
                ops.push(ListOp::Add(as_list(a)));
            }
            if let Some(r) = m.get("replace") {
                let pairs = as_list(r)
                    .into_iter()
                    .map(|p| match (p.get("target"), p.get("replacement")) {
                        (Some(t), Some(r)) => Ok((t.clone(), r.clone())),
                        _ => Err("replace takes [{\"target\": …, \"replacement\": …}]".to_owned()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ops.push(ListOp::Replace(pairs));
            }
            Ok(ops)
        }
        other => Ok(vec![ListOp::Set(as_list(other))]),
    }
}

/// Applies list edits to `current` with `resolve` turning each value into an item.
pub async fn edit_list<T, F, Fut>(
    current: &[T],
    ops: Vec<ListOp>,
    mut resolve: F,
) -> Result<Vec<T>, String>
where
    T: PartialEq + Clone,
    F: FnMut(Value) -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut out = current.to_vec();
    for op in ops {
        match op {
            ListOp::Set(vs) => {
                out.clear();
                for v in vs {
                    let item = resolve(v).await?;
                    if !out.contains(&item) {
                        out.push(item);
                    }
                }
            }
            ListOp::Add(vs) => {
                for v in vs {
                    let item = resolve(v).await?;
                    if !out.contains(&item) {
                        out.push(item);
                    }
                }
            }
            ListOp::Remove(vs) => {
                for v in vs {
                    let item = resolve(v).await?;
                    out.retain(|x| *x != item);
                }
            }
            ListOp::Replace(pairs) => {
                for (t, r) in pairs {
                    let (t, r) = (resolve(t).await?, resolve(r).await?);
                    for x in out.iter_mut() {
                        if *x == t {
                            *x = r.clone();
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Fields kept in the issue's `extra` object, with the JSON type each takes.
const EXTRA_FIELDS: &[(&str, &str)] = &[
    ("start", "date"),
    ("end", "date"),
    ("dueDate", "date"),
    ("deadline", "date"),
    ("storyPoints", "number"),
    ("originalEstimation", "duration"),
    ("estimation", "duration"),
    ("spent", "duration"),
];

/// Fields whose values are lists, so their schema type is `array`.
pub const ARRAY_FIELDS: &[&str] = &[
    "followers",
    "tags",
    "fixVersions",
    "affectedVersions",
    "components",
];

/// The global fields `GET /v2/fields` lists: id, display name, schema type
/// (of the items, for array fields).
pub const GLOBAL_FIELDS: &[(&str, &str, &str)] = &[
    ("summary", "Summary", "string"),
    ("description", "Description", "text"),
    ("type", "Type", "issuetype"),
    ("priority", "Priority", "priority"),
    ("status", "Status", "status"),
    ("resolution", "Resolution", "resolution"),
    ("assignee", "Assignee", "user"),
    ("followers", "Followers", "user"),
    ("createdBy", "Author", "user"),
    ("queue", "Queue", "queue"),
    ("parent", "Parent issue", "issue"),
    ("tags", "Tags", "string"),
    ("fixVersions", "Fix Version", "version"),
    ("affectedVersions", "Affected Version", "version"),
    ("components", "Components", "component"),
    ("createdAt", "Created", "datetime"),
    ("updatedAt", "Updated", "datetime"),
    ("resolvedAt", "Resolved", "datetime"),
    ("start", "Start date", "date"),
    ("end", "End date", "date"),
    ("dueDate", "Due date", "date"),
    ("deadline", "Deadline", "date"),
    ("storyPoints", "Story Points", "float"),
    ("originalEstimation", "Original estimate", "period"),
    ("estimation", "Estimate", "period"),
    ("spent", "Time spent", "period"),
];

pub fn field_display(id: &str) -> String {
    GLOBAL_FIELDS
        .iter()
        .find(|(f, _, _)| *f == id)
        .map(|(_, d, _)| (*d).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

/// One field's change, with raw stored values, for the changelog.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

pub fn changes_json(changes: &[FieldChange]) -> String {
    Value::Array(
        changes
            .iter()
            .map(|c| json!({"field": c.field, "from": c.from, "to": c.to}))
            .collect(),
    )
    .to_string()
}

fn opt<T: serde::Serialize>(v: &Option<T>) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Whether a request may set this field directly (status and queue change
/// only through transitions and moves).
pub enum Mode {
    Create,
    Update,
    /// Fields sent with a transition.
    Transition,
}

/// Applies the fields of `body` to `issue`, returning what changed. All
/// invalid fields are reported together.
/// `queue` is the issue's queue when the caller has already read it (a
/// create), saving the lookup.
pub async fn apply(
    state: &AppState,
    org: i64,
    issue: &mut IssueRecord,
    body: &Map<String, Value>,
    mode: Mode,
    queue: Option<&tracker_store::QueueRecord>,
) -> ApiResult<Vec<FieldChange>> {
    let mut errors = FieldErrors::default();
    let mut changes = Vec::new();
    // The lead of a component that assigns its issues to its lead.
    let mut auto_lead: Option<i64> = None;
    let mut extra: Map<String, Value> = serde_json::from_str(&issue.extra).unwrap_or_default();
    // The organization's fields and the queue's local ones, read when the
    // body names a field that is not a system one.
    let mut defs: Option<Vec<FieldRecord>> = None;
    let mut change = |field: &str, from: Value, to: Value| {
        if from != to {
            changes.push(FieldChange {
                field: field.to_owned(),
                from,
                to,
            });
        }
    };
    for (field, value) in body {
        match field.as_str() {
            // Taken by the caller.
            "queue" | "unique" if matches!(mode, Mode::Create) => {}
            "comment" if matches!(mode, Mode::Transition) => {}
            // The optimistic-lock version some clients send in the body.
            "version" if !matches!(mode, Mode::Create) => {}
            // Names and ids are looked up among the issue's queue's own.
            "components" => {
                let known = state
                    .store
                    .list_components(org, Some(issue.queue_id))
                    .await?;
                let items: Vec<(i64, &str)> =
                    known.iter().map(|c| (c.pk, c.name.as_str())).collect();
                match catalog_list(&issue.components, value, &items, "component").await {
                    Ok(new) => {
                        let old = std::mem::replace(&mut issue.components, new.clone());
                        change("components", json!(old), json!(new));
                    }
                    Err(e) => errors.add(field, e),
                }
                auto_lead = known
                    .iter()
                    .filter(|c| issue.components.contains(&c.pk) && c.assign_auto)
                    .find_map(|c| c.lead_uid);
            }
            "fixVersions" | "affectedVersions" => {
                let known = state.store.list_versions(org, Some(issue.queue_id)).await?;
                let items: Vec<(i64, &str)> =
                    known.iter().map(|v| (v.pk, v.name.as_str())).collect();
                let list = if field == "fixVersions" {
                    &mut issue.fix_versions
                } else {
                    &mut issue.affected_versions
                };
                match catalog_list(list, value, &items, "version").await {
                    Ok(new) => {
                        let old = std::mem::replace(list, new.clone());
                        change(field, json!(old), json!(new));
                    }
                    Err(e) => errors.add(field, e),
                }
            }
            // Attached by the caller, in the same write.
            "attachmentIds" => {}
            "summary" => match unset(value) {
                Value::String(s) if !s.trim().is_empty() => {
                    let old = std::mem::replace(&mut issue.summary, s.clone());
                    change("summary", json!(old), json!(s));
                }
                _ => errors.add(field, "The summary must be a non-empty string"),
            },
            "description" => match unset(value) {
                Value::String(s) => {
                    let old = issue.description.replace(s.clone());
                    change("description", opt(&old), json!(s));
                }
                Value::Null => {
                    let old = issue.description.take();
                    change("description", opt(&old), Value::Null);
                }
                _ => errors.add(field, "The description must be a string"),
            },
            "type" => match dict(value, dictionaries::ISSUE_TYPES) {
                Ok(Some(e)) => {
                    let old = std::mem::replace(&mut issue.issue_type, e.key.to_owned());
                    change("type", json!(old), json!(e.key));
                }
                Ok(None) => errors.add(field, "The type is required"),
                Err(e) => errors.add(field, e),
            },
            "priority" => match dict(value, dictionaries::PRIORITIES) {
                Ok(Some(e)) => {
                    let old = std::mem::replace(&mut issue.priority, e.key.to_owned());
                    change("priority", json!(old), json!(e.key));
                }
                Ok(None) => errors.add(field, "The priority is required"),
                Err(e) => errors.add(field, e),
            },
            "resolution" if !matches!(mode, Mode::Transition) => {
                errors.add(field, "The resolution changes only through transitions")
            }
            "resolution" => match dict(value, dictionaries::RESOLUTIONS) {
                Ok(r) => {
                    let new = r.map(|e| e.key.to_owned());
                    let old = std::mem::replace(&mut issue.resolution, new.clone());
                    change("resolution", opt(&old), opt(&new));
                }
                Err(e) => errors.add(field, e),
            },
            "assignee" => match user(state, org, value).await? {
                Ok(uid) => {
                    let old = std::mem::replace(&mut issue.assignee, uid);
                    change("assignee", opt(&old), opt(&uid));
                }
                Err(e) => errors.add(field, e),
            },
            "followers" => {
                let result = match list_op(value) {
                    Ok(ops) => {
                        edit_list(&issue.followers, ops, |v| async move {
                            required_user(state, org, &v, "follower").await
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok(new) => {
                        let old = std::mem::replace(&mut issue.followers, new.clone());
                        change("followers", json!(old), json!(new));
                    }
                    Err(e) => errors.add(field, e),
                }
            }
            "tags" => {
                let result = match list_op(value) {
                    Ok(ops) => {
                        edit_list(&issue.tags, ops, |v| async move {
                            match v {
                                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                                _ => Err("Tags are non-empty strings".to_owned()),
                            }
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok(new) => {
                        let old = std::mem::replace(&mut issue.tags, new.clone());
                        change("tags", json!(old), json!(new));
                    }
                    Err(e) => errors.add(field, e),
                }
            }
            "parent" => {
                if unset(value).is_null() {
                    let old = issue.parent_pk.take();
                    change("parent", opt(&old), Value::Null);
                } else {
                    match ident(value) {
                        Some(k) => match state.store.issue_by_key_or_id(org, &k).await? {
                            Some(p) if p.pk == issue.pk => {
                                errors.add(field, "An issue cannot be its own parent")
                            }
                            Some(p) => {
                                let old = issue.parent_pk.replace(p.pk);
                                change("parent", opt(&old), json!(p.pk));
                            }
                            None => errors.add(field, format!("Issue {k} not found")),
                        },
                        None => errors.add(field, "Expected an issue key or id"),
                    }
                }
            }
            // Some clients send the description's markup on every write;
            // trackerd keeps text as given, whatever its markup.
            "markupType" => {
                if !matches!(value, Value::Null | Value::String(_)) {
                    errors.add(field, "Expected a markup name such as md");
                }
            }
            "sprint" => match sprints(state, org, value).await? {
                Ok(new) => {
                    let old = extra.remove("sprint").unwrap_or(Value::Null);
                    if !new.is_null() {
                        extra.insert("sprint".into(), new.clone());
                    }
                    change("sprint", old, new);
                }
                Err(e) => errors.add(field, e),
            },
            "status" => errors.add(field, "The status changes only through transitions"),
            "queue" => errors.add(field, "The queue changes only through _move"),
            other => {
                let kind = EXTRA_FIELDS
                    .iter()
                    .find(|(f, _)| *f == other)
                    .map(|(_, k)| *k);
                if kind.is_none() {
                    if defs.is_none() {
                        let mut all = state.store.list_fields(org, None).await?;
                        all.extend(state.store.list_fields(org, Some(issue.queue_id)).await?);
                        defs = Some(all);
                    }
                    let Some(def) = defs.as_deref().and_then(|d| created_field(d, other)) else {
                        errors.add(other, "Unknown field");
                        continue;
                    };
                    if def.readonly {
                        errors.add(other, "The field is read-only");
                        continue;
                    }
                    let old = extra.get(&def.id).cloned().unwrap_or(Value::Null);
                    match crate::custom_fields::value(state, org, def, value, &old).await? {
                        Ok(v) => {
                            if v.is_null() {
                                extra.remove(&def.id);
                            } else {
                                extra.insert(def.id.clone(), v.clone());
                            }
                            change(&def.id, old, v);
                        }
                        Err(e) => errors.add(other, format!("{other}: {e}")),
                    }
                    continue;
                }
                let mut v = unset(value).clone();
                // Durations are kept in Tracker's normal form (`P5D` is `P1W`).
                if let (Some("duration"), Value::String(d)) = (kind, &v) {
                    if let Ok(d) = tracker_domain::duration::Duration::parse(d) {
                        v = json!(d.to_string());
                    }
                }
                let ok = match (kind, &v) {
                    (_, Value::Null) => true,
                    (Some("number"), Value::Number(_)) => true,
                    (Some("date"), Value::String(s)) => {
                        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
                    }
                    (Some("duration"), Value::String(s)) => {
                        tracker_domain::duration::Duration::parse(s).is_ok()
                    }
                    _ => false,
                };
                if !ok {
                    errors.add(
                        other,
                        format!("Invalid value for a {} field", kind.unwrap_or("custom")),
                    );
                    continue;
                }
                let old = extra.get(other).cloned().unwrap_or(Value::Null);
                if v.is_null() {
                    extra.remove(other);
                } else {
                    extra.insert(other.to_owned(), v.clone());
                }
                change(other, old, v);
            }
        }
    }
    // The queue decides which types its issues have and how each is resolved.
    let typed = matches!(mode, Mode::Create) || body.contains_key("type");
    let resolved = body.contains_key("resolution") && issue.resolution.is_some();
    if errors.is_empty() && (typed || resolved) {
        let q = match queue.filter(|q| q.id == issue.queue_id) {
            Some(q) => Some(q.clone()),
            None => state.store.queue_by_id(org, issue.queue_id).await?,
        };
        if let Some(q) = q {
            if let Some(e) = typed
                .then(|| issue_types::refuse_type(&q, &issue.issue_type))
                .flatten()
            {
                errors.add("type", e);
            }
            if let Some(e) = issue
                .resolution
                .as_deref()
                .filter(|_| resolved)
                .and_then(|r| issue_types::refuse_resolution(&q, &issue.issue_type, r))
            {
                errors.add("resolution", e);
            }
        }
    }
    errors.into_result()?;
    issue.extra = Value::Object(extra).to_string();
    // As Tracker does: a new issue nobody was assigned to goes to the lead of
    // its component with `assignAuto`.
    if let (Mode::Create, Some(uid), None) = (mode, auto_lead, issue.assignee) {
        if !body.contains_key("assignee") {
            issue.assignee = Some(uid);
            changes.push(FieldChange {
                field: "assignee".into(),
                from: Value::Null,
                to: json!(uid),
            });
        }
    }
    Ok(changes)
}

/// An issue's `sprint`: sprints of the organization named by id, name or
/// object, one or a list; kept as `[{"id", "display"}]` (a sprint is never
/// renamed through the API), null or an empty list for none.
async fn sprints(state: &AppState, org: i64, v: &Value) -> ApiResult<Result<Value, String>> {
    let items = match unset(v) {
        Value::Null => return Ok(Ok(Value::Null)),
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    if items.is_empty() {
        return Ok(Ok(Value::Null));
    }
    let known = state.store.list_sprints(org, None).await?;
    let mut out: Vec<Value> = Vec::new();
    for item in &items {
        let Some(id) = ident(item) else {
            return Ok(Err("Expected a sprint id, name or object".into()));
        };
        let found = known
            .iter()
            .find(|s| s.pk.to_string() == id)
            .or_else(|| known.iter().find(|s| s.name.eq_ignore_ascii_case(&id)));
        let Some(s) = found else {
            return Ok(Err(format!("Sprint {id} not found")));
        };
        let r = json!({"id": s.pk.to_string(), "display": s.name});
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(Ok(Value::Array(out)))
}

/// The created field a request names: by id (`<prefix>--key` for a local
/// field), or by key, a global field's before a local one's.
fn created_field<'a>(defs: &'a [FieldRecord], name: &str) -> Option<&'a FieldRecord> {
    defs.iter()
        .find(|f| f.id == name)
        .or_else(|| {
            defs.iter()
                .find(|f| f.queue_id.is_none() && f.key.eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            defs.iter().find(|f| {
                f.queue_id.is_some()
                    && (f.key.eq_ignore_ascii_case(name) || f.id.eq_ignore_ascii_case(name))
            })
        })
}

/// One of a queue's components or versions (`items`: id and name) named by
/// id, name or object; names compare ignoring case.
fn catalog_item(items: &[(i64, &str)], v: &Value, what: &str) -> Result<i64, String> {
    let Some(id) = ident(v) else {
        return Err(format!("Expected a {what} id, name or object"));
    };
    let by_id = id
        .parse::<i64>()
        .ok()
        .and_then(|n| items.iter().find(|(pk, _)| *pk == n));
    let lower = id.to_lowercase();
    by_id
        .or_else(|| items.iter().find(|(_, name)| name.to_lowercase() == lower))
        .map(|(pk, _)| *pk)
        .ok_or_else(|| format!("The issue's queue has no {what} {id:?}"))
}

/// A list of components or versions after the edits in `value`.
async fn catalog_list(
    current: &[i64],
    value: &Value,
    items: &[(i64, &str)],
    what: &str,
) -> Result<Vec<i64>, String> {
    let ops = list_op(value)?;
    edit_list(current, ops, |v| {
        std::future::ready(catalog_item(items, &v, what))
    })
    .await
}

/// Stores a field's value once it has been read without error.
pub fn set<T>(slot: &mut T, read: Option<T>) {
    if let Some(v) = read {
        *slot = v;
    }
}
