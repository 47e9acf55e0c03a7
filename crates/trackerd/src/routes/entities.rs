//! Projects, portfolios and goals (`/v2/entities/{type}`): create, read with
//! the fields asked for, edit (versioned), delete, search, and the events
//! log. The older `/v2/projects` API (projects.rs) reads and writes the same
//! entities through [`parse_fields`] and [`save_fields`].

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{
    EntityCommentRecord, EntityCommentWrite, EntityLinkRecord, EntityLinkWrite, EntityRecord,
    EntityWrite,
};

use crate::access::entities::{
    self as access, event, fields_of, kind, load, load_for, simple_write, uids_of,
};
use crate::access::issues::check_version_of;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, OptionalJson};
use crate::fields::{self, FieldErrors};
use crate::ids::object_id;
use crate::paging::{Cursor, Page, PageParams};
use crate::render::{time, Renderer};
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
enum Kind {
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

fn field_kind(key: &str) -> Option<Kind> {
    FIELDS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// The longest summary, in characters.
const MAX_SUMMARY: usize = 1024;
/// The longest description, in characters.
const MAX_TEXT: usize = 100_000;

/// The `fields` and `expand` query parameters of every answer with an entity.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ViewParams {
    pub fields: Option<String>,
    pub expand: Option<String>,
    pub version: Option<i64>,
}

/// What an answer shows of an entity.
pub struct View {
    pub fields: Vec<String>,
    /// `expand=attachments`: the entity's files.
    pub attachments: bool,
}

impl View {
    pub fn of(p: &ViewParams) -> ApiResult<View> {
        // `id` is always answered (links ask for it by name).
        let fields: Vec<String> = split_list(p.fields.as_deref())
            .into_iter()
            .filter(|f| f != "id")
            .collect();
        if let Some(bad) = fields.iter().find(|f| field_kind(f).is_none()) {
            return Err(ApiError::BadRequest(format!(
                "Unknown entity field {bad:?} in fields"
            )));
        }
        let expand = split_list(p.expand.as_deref());
        Ok(View {
            fields,
            attachments: expand.iter().any(|e| e == "attachments" || e == "all"),
        })
    }

    pub fn with_fields(fields: &[&str]) -> View {
        View {
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            attachments: false,
        }
    }
}

fn split_list(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A value of a field as an answer shows it.
async fn render_field(r: &mut Renderer<'_>, key: &str, f: &Map<String, Value>) -> ApiResult<Value> {
    let Some(v) = f.get(key) else {
        return Ok(Value::Null);
    };
    Ok(match field_kind(key) {
        Some(Kind::User) => match v.as_i64() {
            Some(uid) => r.user(uid).await?,
            None => Value::Null,
        },
        Some(Kind::Users) => r.users(&uids_of(f, key)).await?,
        Some(Kind::Parent) => match v.as_str() {
            Some(id) => match r.store().entity(r.org(), id).await? {
                Some(p) => entity_ref(r, &p),
                // A removed parent leaves no reference behind.
                None => Value::Null,
            },
            None => Value::Null,
        },
        Some(Kind::Queues) => {
            let mut out = Vec::new();
            for key in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if let Some(q) = r.store().queue_by_key(r.org(), key).await? {
                    out.push(r.queue_ref(&q));
                }
            }
            Value::Array(out)
        }
        _ => v.clone(),
    })
}

/// The fields a view asks for, as Tracker answers them.
pub async fn render_fields(
    r: &mut Renderer<'_>,
    e: &EntityRecord,
    view: &View,
) -> ApiResult<Map<String, Value>> {
    let f = fields_of(e);
    let mut out = Map::new();
    for key in &view.fields {
        let value = if key == "checklistItems" {
            checklist(r, e).await?
        } else {
            render_field(r, key, &f).await?
        };
        out.insert(key.clone(), value);
    }
    Ok(out)
}

/// The entity's checklist items as Tracker answers them.
async fn checklist(r: &mut Renderer<'_>, e: &EntityRecord) -> ApiResult<Value> {
    let owner = format!("entities/{}/{}", e.entity_type, e.id);
    let now = r.now();
    let mut out = Vec::new();
    for item in crate::routes::checklists::items_in(&e.fields) {
        out.push(crate::routes::checklists::render_item(r, &owner, &item, now).await?);
    }
    Ok(Value::Array(out))
}

/// A reference to an entity (a parent, a link's other end).
pub fn entity_ref(r: &Renderer<'_>, e: &EntityRecord) -> Value {
    let f = fields_of(e);
    json!({
        "self": r.links.api(&format!("entities/{}/{}", e.entity_type, e.id)),
        "id": e.id,
        "shortId": e.short_id,
        "entityType": e.entity_type,
        "display": f.get("summary").cloned().unwrap_or(Value::Null),
    })
}

/// An entity as Tracker answers it: its identity, and the fields the
/// request asked for under `fields`.
pub async fn render(r: &mut Renderer<'_>, e: &EntityRecord, view: &View) -> ApiResult<Value> {
    let mut v = json!({
        "self": r.links.api(&format!("entities/{}/{}", e.entity_type, e.id)),
        "id": e.id,
        "version": e.version,
        "shortId": e.short_id,
        "entityType": e.entity_type,
        "createdBy": r.user(e.created_by).await?,
        "createdAt": time(&e.created_at),
        "updatedAt": time(&e.updated_at),
    });
    if !view.fields.is_empty() {
        v["fields"] = Value::Object(render_fields(r, e, view).await?);
    }
    if view.attachments {
        v["attachments"] = crate::routes::entity_attachments::files_of(r, e).await?;
    }
    Ok(v)
}

// ---------------------------------------------------------------------------
// Reading a body's fields.

/// One field's change, as the events log shows it.
fn change(key: &str, from: Option<&Value>, to: Option<&Value>) -> Value {
    json!({
        "field": {"id": key, "display": key},
        "from": from.cloned().unwrap_or(Value::Null),
        "to": to.cloned().unwrap_or(Value::Null),
    })
}

/// A list of users (or one), each a login, uid or object of the organization.
async fn users(state: &AppState, org: i64, v: &Value) -> Result<Value, String> {
    let items: Vec<Value> = match fields::unset(v) {
        Value::Null => Vec::new(),
        Value::Array(l) => l.clone(),
        one => vec![one.clone()],
    };
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
    let items: Vec<Value> = match fields::unset(v) {
        Value::Null => Vec::new(),
        Value::Array(l) => l.clone(),
        one => vec![one.clone()],
    };
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

/// Checks what a project needs (a name, and queues or a team access
/// setting) once its fields are read.
pub fn check_complete(e: &EntityRecord, creating: bool) -> ApiResult<()> {
    let f = fields_of(e);
    if f.get("summary").and_then(Value::as_str).is_none() {
        return Err(ApiError::field("summary", "Required: the name"));
    }
    if creating
        && e.entity_type == "project"
        && !f.contains_key("queues")
        && !f.contains_key("teamAccess")
    {
        return Err(ApiError::field(
            "queues",
            "A project needs queues or teamAccess",
        ));
    }
    Ok(())
}

/// A fresh entity of `kind` by the caller, before its fields are read.
pub fn fresh(principal: &Principal, kind: &str, now: DateTime<Utc>) -> EntityRecord {
    EntityRecord {
        pk: 0,
        org: principal.org.id,
        id: object_id(now),
        entity_type: kind.to_owned(),
        short_id: 0,
        version: 1,
        created_by: principal.user.uid,
        created_at: now,
        updated_at: now,
        fields: json!({"author": principal.user.uid}).to_string(),
    }
}

/// Creates an entity from a fields object: the one creation both APIs use.
pub async fn create_from(
    cx: &Api,
    kind: &str,
    body: &Map<String, Value>,
) -> ApiResult<EntityRecord> {
    let now = cx.clock.now();
    let mut e = fresh(&cx.principal, kind, now);
    let changes = parse_fields(&cx.state, cx.principal.org.id, &mut e, body).await?;
    check_complete(&e, true)?;
    let created = event(&cx.principal, now, "Entity created", Value::Array(changes));
    Ok(cx.store.create_entity(&e, &created).await?)
}

/// Writes a change of fields (and an optional comment) to an entity read
/// at the version the client saw: the one edit both APIs use.
pub async fn save_fields(
    cx: &Api,
    e: EntityRecord,
    body: &Map<String, Value>,
    comment: Option<String>,
    links: Vec<EntityLinkRecord>,
) -> ApiResult<EntityRecord> {
    let w = edit(cx, e, body, comment, links).await?;
    access::write(&cx.state, &w).await
}

/// The write a change of fields, a comment and links make to `e`, with
/// their events (none when nothing changes): what an edit request and each
/// entity of a bulk change write.
pub async fn edit(
    cx: &Api,
    mut e: EntityRecord,
    body: &Map<String, Value>,
    comment: Option<String>,
    links: Vec<EntityLinkRecord>,
) -> ApiResult<EntityWrite> {
    let now = cx.clock.now();
    let named = crate::routes::entity_links::named(cx, &links).await?;
    let changes = parse_fields(&cx.state, cx.principal.org.id, &mut e, body).await?;
    check_complete(&e, false)?;
    let mut events = Vec::new();
    if !changes.is_empty() {
        events.push(event(
            &cx.principal,
            now,
            "Entity updated",
            Value::Array(changes),
        ));
    }
    let comment = comment.map(|text| {
        events.push(comment_event(
            &cx.principal,
            now,
            "Comment added",
            None,
            Some(&text),
        ));
        new_comment(&cx.principal, now, text, Vec::new())
    });
    if !named.is_empty() {
        events.push(crate::routes::entity_links::links_event(
            &cx.principal,
            now,
            "Link added",
            &named,
        ));
    }
    e.updated_at = now;
    let mut w: EntityWrite = simple_write(e, events);
    w.comment = comment.map(EntityCommentWrite::Insert);
    w.links = links.into_iter().map(EntityLinkWrite::Insert).collect();
    Ok(w)
}

/// A new comment of the caller.
pub fn new_comment(
    principal: &Principal,
    now: DateTime<Utc>,
    text: String,
    summonees: Vec<i64>,
) -> EntityCommentRecord {
    EntityCommentRecord {
        pk: 0,
        entity_pk: 0,
        id: object_id(now),
        text,
        summonees,
        author: principal.user.uid,
        updated_by: principal.user.uid,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A comment's event: its text before and after.
pub fn comment_event(
    principal: &Principal,
    now: DateTime<Utc>,
    display: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> tracker_store::NewEntityEvent {
    let changes = json!([{
        "field": {"id": "comment.text", "display": "Comment text"},
        "from": from,
        "to": to,
    }]);
    event(principal, now, display, changes)
}

// ---------------------------------------------------------------------------
// Handlers.

/// The `fields` object a create or edit body carries.
pub fn fields_object(body: &Map<String, Value>) -> ApiResult<Option<&Map<String, Value>>> {
    match body.get("fields") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::field("fields", "Expected an object of fields")),
    }
}

/// The comment an edit body adds, if any.
pub fn comment_in(body: &Map<String, Value>) -> ApiResult<Option<String>> {
    match body.get("comment") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if !t.trim().is_empty() => Ok(Some(t.clone())),
        Some(_) => Err(ApiError::field("comment", "Expected a non-empty string")),
    }
}

pub async fn answer(
    cx: &Api,
    e: &EntityRecord,
    view: &View,
    status: StatusCode,
) -> ApiResult<Response> {
    let mut r = cx.renderer();
    Ok(json(status, &render(&mut r, e, view).await?))
}

pub async fn create(
    cx: Api,
    Path(kind_segment): Path<String>,
    ApiQuery(params): ApiQuery<ViewParams>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let kind = kind(&kind_segment)?;
    let view = View::of(&params)?;
    let empty = Map::new();
    let f = fields_object(&body)?.unwrap_or(&empty);
    let e = create_from(&cx, kind, f).await?;
    answer(&cx, &e, &view, StatusCode::CREATED).await
}

pub async fn get(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ViewParams>,
) -> ApiResult<Response> {
    let kind = kind(&kind_segment)?;
    let view = View::of(&params)?;
    let e = load(&cx.state, &cx.principal, kind, &id).await?;
    answer(&cx, &e, &view, StatusCode::OK).await
}

pub async fn update(
    cx: Api,
    headers: HeaderMap,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ViewParams>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Response> {
    let kind = kind(&kind_segment)?;
    let view = View::of(&params)?;
    let e = load(&cx.state, &cx.principal, kind, &id).await?;
    check_version_of(kind, e.version, params.version, &headers)?;
    let empty = Map::new();
    let f = fields_object(&body)?.unwrap_or(&empty);
    let comment = comment_in(&body)?;
    let links = match body.get("links") {
        None | Some(Value::Null) => Vec::new(),
        Some(l) => crate::routes::entity_links::parse_links(&cx, &e, l).await?,
    };
    let saved = save_fields(&cx, e, f, comment, links).await?;
    answer(&cx, &saved, &view, StatusCode::OK).await
}

pub async fn delete(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let kind = kind(&kind_segment)?;
    let e = load_for(&cx.state, &cx.principal, kind, &id, Perm::Grant).await?;
    remove(&cx, &e).await
}

/// Removes an entity with everything of it: the one removal both APIs use.
pub async fn remove(cx: &Api, e: &EntityRecord) -> ApiResult<StatusCode> {
    if cx.store.delete_entity(cx.principal.org.id, e.pk).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "The {} {} was not found",
            e.entity_type, e.id
        )))
    }
}

// ---------------------------------------------------------------------------
// Search.

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    pub fields: Option<String>,
    pub expand: Option<String>,
    // Not a flattened `PageParams`: a flattened query reads numbers as text.
    pub page: Option<i64>,
    #[serde(rename = "perPage")]
    pub per_page: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchBody {
    pub input: Option<String>,
    pub filter: Option<Map<String, Value>>,
    pub order_by: Option<String>,
    pub order_asc: Option<bool>,
    pub root_only: Option<bool>,
}

/// One filter condition, resolved once for every entity it is tested on.
enum Test {
    Empty(bool),
    AnyOf(Vec<String>),
}

/// The strings a field's value is compared as: users as uid and login.
async fn comparable(
    r: &mut Renderer<'_>,
    key: &str,
    f: &Map<String, Value>,
) -> ApiResult<Vec<String>> {
    let values: Vec<Value> = match f.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(l)) => l.clone(),
        Some(v) => vec![v.clone()],
    };
    let mut out = Vec::new();
    for v in values {
        match (field_kind(key), &v) {
            (Some(Kind::User | Kind::Users), Value::Number(n)) => {
                out.push(n.to_string());
                if let Some(uid) = n.as_i64() {
                    if let Some(u) = r.store().user_by_uid(uid).await? {
                        out.push(u.login.to_lowercase());
                    }
                }
            }
            (_, Value::String(s)) => out.push(s.to_lowercase()),
            (_, other) => out.push(other.to_string().to_lowercase()),
        }
    }
    Ok(out)
}

fn tests_of(principal: &Principal, filter: &Map<String, Value>) -> ApiResult<Vec<(String, Test)>> {
    let mut out = Vec::new();
    for (key, v) in filter {
        if field_kind(key).is_none() {
            return Err(ApiError::field(key, "Unknown entity field in filter"));
        }
        let one = |v: &Value| -> String {
            match v {
                Value::String(s) if s.eq_ignore_ascii_case("me()") => {
                    principal.user.uid.to_string()
                }
                Value::String(s) => s.to_lowercase(),
                other => fields::ident(other)
                    .unwrap_or_else(|| other.to_string())
                    .to_lowercase(),
            }
        };
        let test = match v {
            Value::String(s) if s.eq_ignore_ascii_case("empty()") => Test::Empty(true),
            Value::String(s) if s.eq_ignore_ascii_case("notEmpty()") => Test::Empty(false),
            Value::Array(l) => Test::AnyOf(l.iter().map(one).collect()),
            Value::Null => Test::Empty(true),
            v => Test::AnyOf(vec![one(v)]),
        };
        out.push((key.clone(), test));
    }
    Ok(out)
}

/// The order key of an entity for `orderBy`.
fn order_key(e: &EntityRecord, by: &str) -> (String, i64) {
    match by {
        "createdAt" => (String::new(), e.created_at.timestamp_millis()),
        "updatedAt" => (String::new(), e.updated_at.timestamp_millis()),
        "shortId" | "id" => (String::new(), e.short_id),
        key => {
            let f = fields_of(e);
            match f.get(key) {
                Some(Value::Number(n)) => (String::new(), n.as_i64().unwrap_or(0)),
                Some(Value::String(s)) => (s.to_lowercase(), 0),
                Some(other) => (other.to_string(), 0),
                None => (String::new(), i64::MIN),
            }
        }
    }
}

pub async fn search(
    cx: Api,
    Path(kind_segment): Path<String>,
    ApiQuery(params): ApiQuery<SearchParams>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let kind = kind(&kind_segment)?;
    let view = View::of(&ViewParams {
        fields: params.fields.clone(),
        expand: params.expand.clone(),
        version: None,
    })?;
    let page = Page::from_params(&PageParams {
        page: params.page,
        per_page: params.per_page,
    })?;
    let body: SearchBody = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::BadRequest(format!("Invalid search body: {e}")))?;
    let tests = tests_of(&cx.principal, body.filter.as_ref().unwrap_or(&Map::new()))?;
    let order_by = body.order_by.clone().unwrap_or_else(|| "shortId".into());
    if !matches!(
        order_by.as_str(),
        "createdAt" | "updatedAt" | "shortId" | "id"
    ) && field_kind(&order_by).is_none()
    {
        return Err(ApiError::field("orderBy", "Unknown entity field"));
    }
    let input = body.input.as_deref().map(str::to_lowercase);
    let mut r = cx.renderer();
    let mut found = Vec::new();
    'entities: for e in cx.store.list_entities(cx.principal.org.id, kind).await? {
        if !access::allows(&cx.principal, &e, Perm::Read) {
            continue;
        }
        let f = fields_of(&e);
        if body.root_only == Some(true) && f.contains_key("parentEntity") {
            continue;
        }
        if let Some(input) = &input {
            let summary = f.get("summary").and_then(Value::as_str).unwrap_or("");
            if !summary.to_lowercase().contains(input.as_str()) {
                continue;
            }
        }
        for (key, test) in &tests {
            let have = comparable(&mut r, key, &f).await?;
            let pass = match test {
                Test::Empty(empty) => have.is_empty() == *empty,
                Test::AnyOf(want) => want.iter().any(|w| have.contains(w)),
            };
            if !pass {
                continue 'entities;
            }
        }
        found.push(e);
    }
    found.sort_by_key(|e| order_key(e, &order_by));
    if body.order_asc == Some(false) {
        found.reverse();
    }
    let hits = found.len() as i64;
    let mut values = Vec::new();
    for e in found
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
    {
        values.push(render(&mut r, e, &view).await?);
    }
    Ok(Json(json!({
        "hits": hits,
        "pages": if hits == 0 { 1 } else { (hits + page.size - 1) / page.size },
        "values": values,
        "orderBy": order_by,
    })))
}

// ---------------------------------------------------------------------------
// The events log.

/// The `_relative` paging of the events log and of comments.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RelativeParams {
    pub per_page: Option<i64>,
    pub from: Option<String>,
    pub selected: Option<String>,
    pub new_events_on_top: Option<bool>,
    pub new_comments_on_top: Option<bool>,
    pub direction: Option<String>,
}

/// What a `_relative` request asks for of `items` (oldest first): `perPage`
/// after `from`, or around `selected` (it, then alternately one before and
/// one after), newest first when asked; and whether items are left before
/// and after the page.
pub fn relative<T>(
    mut items: Vec<T>,
    p: &RelativeParams,
    id_of: impl Fn(&T) -> String,
) -> ApiResult<(Vec<T>, bool, bool)> {
    let size = Cursor::new(p.per_page)?.size as usize;
    let backward = match p.direction.as_deref() {
        None | Some("forward") => false,
        Some("backward") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "direction is forward or backward, not {other:?}"
            )))
        }
    };
    if p.from.is_some() && p.selected.is_some() {
        return Err(ApiError::BadRequest(
            "from and selected are not used together".into(),
        ));
    }
    let on_top = p
        .new_events_on_top
        .or(p.new_comments_on_top)
        .unwrap_or(false);
    if on_top != backward {
        items.reverse();
    }
    let position = |id: &str, what: &str| {
        items
            .iter()
            .position(|i| id_of(i) == id)
            .ok_or_else(|| ApiError::BadRequest(format!("No item {id} ({what})")))
    };
    let (start, end) = if let Some(from) = &p.from {
        let at = position(from, "from")? + 1;
        (at, (at + size).min(items.len()))
    } else if let Some(selected) = &p.selected {
        let at = position(selected, "selected")?;
        let before = (size.saturating_sub(1).div_ceil(2)).min(at);
        let start = at - before;
        let end = (start + size).min(items.len());
        (end.saturating_sub(size).min(start), end)
    } else {
        (0, size.min(items.len()))
    };
    let (has_prev, has_next) = (start > 0, end < items.len());
    items.truncate(end);
    items.drain(..start);
    Ok((items, has_prev, has_next))
}

pub async fn events(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<RelativeParams>,
) -> ApiResult<Json<Value>> {
    let kind = kind(&kind_segment)?;
    let e = load(&cx.state, &cx.principal, kind, &id).await?;
    let all = cx.store.entity_events(e.pk).await?;
    let (page, has_prev, has_next) = relative(all, &params, |ev| ev.id.clone())?;
    let mut r = cx.renderer();
    let mut out = Vec::with_capacity(page.len());
    for ev in &page {
        let changes: Value = serde_json::from_str(&ev.changes).unwrap_or(json!([]));
        out.push(json!({
            "id": ev.id,
            "author": r.user(ev.author).await?,
            "date": time(&ev.created_at),
            "transport": "v2",
            "display": ev.display,
            "changes": changes,
        }));
    }
    Ok(Json(json!({
        "events": out,
        "hasNext": has_next,
        "hasPrev": has_prev,
    })))
}
