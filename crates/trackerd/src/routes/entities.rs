//! Projects, portfolios and goals (`/v2/entities/{type}`): create, read with
//! the fields asked for, edit (versioned), delete, search, and the events
//! log. The fields are read and the edits made by the access layer
//! ([`crate::access::entities`], [`crate::access::entity_fields`]), which the
//! older `/v2/projects` API (projects.rs) and the bulk change worker share.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::EntityRecord;

use crate::access::entities::{self as access, fields_of, kind, load, load_for, uids_of};
use crate::access::entity_fields::{field_kind, Kind};
use crate::access::issues::check_version_of;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, OptionalJson};
use crate::fields;
use crate::paging::{Cursor, Page, PageParams};
use crate::render::{time, Renderer};

/// The `fields` and `expand` query parameters of every answer with an entity
/// (and the `version` of an edit): the same query as any versioned edit.
pub type ViewParams = crate::extract::VersionParam;

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
    });
    r.authorship(&mut v, (e.created_by, &e.created_at), (None, &e.updated_at))
        .await?;
    if !view.fields.is_empty() {
        v["fields"] = Value::Object(render_fields(r, e, view).await?);
    }
    if view.attachments {
        v["attachments"] = crate::routes::entity_attachments::files_of(r, e).await?;
    }
    Ok(v)
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
    let e = access::create(&cx.state, &cx.principal, kind, f).await?;
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
        Some(l) => access::parse_links(&cx.state, &cx.principal, &e, l).await?,
    };
    let saved = access::save_edit(&cx.state, &cx.principal, e, f, comment, links).await?;
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
#[serde(default, rename_all = "camelCase")]
pub struct SearchParams {
    pub fields: Option<String>,
    pub expand: Option<String>,
    // Not a flattened `PageParams`: a flattened query reads numbers as text.
    pub page: Option<i64>,
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
