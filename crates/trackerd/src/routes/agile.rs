//! Agile boards (`/v2/boards`), their columns (`/v2/boards/{id}/columns`)
//! and sprints (`/v2/sprints`, `/v2/boards/{id}/sprints`), and saved
//! filters (`/v2/filters`, the official client's `Filters` collection).
//!
//! A board and a saved filter are named, versioned JSON objects of the
//! organization, stored as [`TemplateRecord`]s of kind `board` and `filter`
//! (a board's default queue is the record's queue). A board's columns live
//! in the board and change with its version, as the reference's `If-Match`
//! on column requests says. Which issues are a board's is its `filter` or
//! `query` (see `routes/search/body.rs`: `filter: {"boards": id}`), so the
//! search's own access rules decide what a caller sees of a board.
//!
//! Every member reads the organization's boards and sprints; a board, its
//! columns and its sprints are changed by the board's creator or an
//! administrator of the organization. A saved filter is its owner's alone.
//! The choices are listed in docs/COMPATIBILITY.md.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::permissions::Perm;
use tracker_store::{SprintRecord, TemplateRecord};

use crate::access::by_number;
use crate::access::issues::{check_version_of, find_queue};
use crate::access::Guard;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, VersionedEdit};
use crate::fields::{self, FieldErrors, Input};
use crate::paging::{Page, PageParams};
use crate::render::{time, Renderer};
use crate::routes::issues::VersionParam;
use crate::routes::template_content as content;

/// The kinds, as the handlers' const parameter.
pub const BOARDS: u8 = 0;
pub const FILTERS: u8 = 1;

template_kinds! {
    BOARDS => Board { key: "board", path: "boards", what: "Board" },
    _ => Filter { key: "filter", path: "filters", what: "Filter" },
}

const BOARD_TYPES: &[&str] = &["default", "scrum", "kanban"];

/// A board's column as kept in the board.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Column {
    id: i64,
    name: String,
    statuses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
}

fn columns_of(content: &Map<String, Value>) -> Vec<Column> {
    content
        .get("columns")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

fn put_columns(content: &mut Map<String, Value>, columns: &[Column]) {
    content.insert("columns".into(), json!(columns));
}

/// Column ids are never reused within a board.
fn next_column_id(content: &mut Map<String, Value>) -> i64 {
    let used = columns_of(content).iter().map(|c| c.id).max().unwrap_or(0);
    let next = content
        .get("nextColumn")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(used + 1);
    content.insert("nextColumn".into(), json!(next + 1));
    next
}

fn missing(kind: Kind, id: &str) -> ApiError {
    ApiError::NotFound(format!("{} {id} not found", kind.what()))
}

/// The board or filter the path names. Another member's filter is not
/// found: saved filters are private to their owner.
async fn find(cx: &Api, kind: Kind, id: &str) -> ApiResult<TemplateRecord> {
    let pk = id.parse::<i64>().map_err(|_| missing(kind, id))?;
    cx.store
        .template(cx.principal.org.id, kind.key(), pk)
        .await?
        .filter(|t| kind == Kind::Board || t.created_by == cx.principal.user.uid)
        .ok_or_else(|| missing(kind, id))
}

/// A board is changed by its creator or an administrator of the organization.
fn may_change(cx: &Api, board: &TemplateRecord) -> ApiResult<()> {
    if board.created_by == cx.principal.user.uid || cx.principal.org_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only the board's creator or an administrator of the organization may change it".into(),
        ))
    }
}

async fn find_to_change(cx: &Api, kind: Kind, id: &str) -> ApiResult<TemplateRecord> {
    let t = find(cx, kind, id).await?;
    may_change(cx, &t)?;
    Ok(t)
}

fn column_ref(cx: &Api, board: i64, c: &Column) -> Value {
    json!({
        "self": cx.links.api(&format!("boards/{board}/columns/{}", c.id)),
        "id": c.id.to_string(),
        "display": c.name,
    })
}

fn render_column(r: &Renderer<'_>, board: i64, c: &Column) -> Value {
    let mut v = json!({
        "self": r.links.api(&format!("boards/{board}/columns/{}", c.id)),
        "id": c.id,
        "name": c.name,
        "statuses": c.statuses.iter().map(|s| r.status(s)).collect::<Vec<_>>(),
    });
    if let Some(l) = c.limit {
        v["limit"] = json!(l);
    }
    v
}

/// Fields of a board or filter answered as they were sent.
const BOARD_FIELDS: &[&str] = &[
    "boardType",
    "filter",
    "orderBy",
    "orderAsc",
    "query",
    "useRanking",
];
const FILTER_FIELDS: &[&str] = &["filter", "query", "sorts", "groupBy"];

async fn render(
    cx: &Api,
    r: &mut Renderer<'_>,
    kind: Kind,
    t: &TemplateRecord,
) -> ApiResult<Value> {
    let c = content(t);
    let mut v = json!({
        "self": cx.links.api(&format!("{}/{}", kind.path(), t.pk)),
        "id": t.pk,
        "version": t.version,
        "name": t.name,
        "createdAt": time(&t.created_at),
        "updatedAt": time(&t.updated_at),
    });
    let kept = match kind {
        Kind::Board => {
            v["createdBy"] = r.user(t.created_by).await?;
            v["columns"] = Value::Array(
                columns_of(&c)
                    .iter()
                    .map(|col| column_ref(cx, t.pk, col))
                    .collect(),
            );
            if let Some(id) = c.get("country").and_then(fields::ident) {
                v["country"] = json!({"self": cx.links.api(&format!("countries/{id}")), "id": id});
            }
            if let Some(q) = t.queue_id {
                if let Some(q) = r.queue_record(q).await? {
                    // A queue the caller cannot read is not named to them.
                    let mut guard = Guard::new(&cx.state, &cx.principal);
                    if guard.queue_allows(&q, Perm::Read).await? {
                        v["defaultQueue"] = r.queue_ref(&q);
                    }
                }
            }
            BOARD_FIELDS
        }
        Kind::Filter => {
            v["owner"] = r.user(t.created_by).await?;
            FILTER_FIELDS
        }
    };
    for k in kept {
        if let Some(x) = c.get(*k).filter(|x| !x.is_null()) {
            v[*k] = x.clone();
        }
    }
    Ok(v)
}

/// A status named by key, id or object.
fn status_key(v: &Value) -> Option<&'static str> {
    let id = fields::ident(v)?;
    dictionaries::STATUSES
        .iter()
        .find(|e: &&Entry| e.key.eq_ignore_ascii_case(&id) || e.id.to_string() == id)
        .map(|e| e.key)
}

/// `statuses`: one status or a list of them, none twice.
fn statuses(v: &Value) -> Result<Vec<String>, String> {
    let items = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        let key = status_key(item).ok_or_else(|| format!("Unknown status {item}"))?;
        if !out.iter().any(|k| k == key) {
            out.push(key.to_owned());
        }
    }
    if out.is_empty() {
        return Err("A column needs at least one status".into());
    }
    Ok(out)
}

/// Applies a column's fields; every invalid one is reported together.
fn apply_column(c: &mut Column, input: Input<'_>) -> ApiResult<()> {
    let mut errors = FieldErrors::default();
    input.require(&mut errors, &["name", "statuses"]);
    for (field, v) in input.body {
        match field.as_str() {
            "name" => match fields::name(v) {
                Ok(n) => c.name = n,
                Err(e) => errors.add(field, e),
            },
            "statuses" => match statuses(v) {
                Ok(s) => c.statuses = s,
                Err(e) => errors.add(field, e),
            },
            "limit" => match v {
                Value::Null => c.limit = None,
                v => match v.as_i64().filter(|n| *n >= 0) {
                    Some(n) => c.limit = Some(n),
                    None => errors.add(field, "The limit must be a number of issues"),
                },
            },
            "self" | "id" | "version" | "display" => {}
            other => errors.add(other, "Unknown column field"),
        }
    }
    errors.into_result()
}

/// A status shows in one column of a board at most.
fn check_columns(columns: &[Column]) -> ApiResult<()> {
    for (i, c) in columns.iter().enumerate() {
        for s in &c.statuses {
            if let Some(other) = columns[..i].iter().find(|o| o.statuses.contains(s)) {
                return Err(ApiError::field(
                    "statuses",
                    format!("Status {s} is already in column {:?}", other.name),
                ));
            }
        }
    }
    Ok(())
}

/// An error of one column as the text of the `columns` field's error.
fn message(e: ApiError) -> String {
    match e {
        ApiError::Unprocessable { errors, .. } if !errors.is_empty() => errors
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        e => e.to_string(),
    }
}

/// `columns` of a board edit: the board's new columns, in order. A column
/// named by an id it already has keeps that id.
fn replace_columns(content: &mut Map<String, Value>, v: &Value) -> Result<(), String> {
    let Value::Array(items) = v else {
        return Err("Expected a list of columns".into());
    };
    let old = columns_of(content);
    let mut new = Vec::new();
    for item in items {
        let Value::Object(m) = item else {
            return Err("Each column is an object with a name and statuses".into());
        };
        let kept = m
            .get("id")
            .and_then(fields::ident)
            .and_then(|id| old.iter().find(|c| c.id.to_string() == id));
        let mut c = match kept {
            Some(c) => c.clone(),
            None => Column {
                id: 0,
                name: String::new(),
                statuses: Vec::new(),
                limit: None,
            },
        };
        apply_column(
            &mut c,
            Input {
                body: m,
                creating: kept.is_none(),
            },
        )
        .map_err(message)?;
        new.push(c);
    }
    for c in new.iter_mut().filter(|c| c.id == 0) {
        c.id = next_column_id(content);
    }
    check_columns(&new).map_err(message)?;
    put_columns(content, &new);
    Ok(())
}

/// `filter`: an object of field → value(s).
fn filter_object(v: &Value) -> Result<Value, String> {
    match v {
        Value::Object(m) if m.keys().all(|k| !k.trim().is_empty()) => Ok(v.clone()),
        _ => Err("Expected an object of field → value".into()),
    }
}

/// `query`: text of the query language, checked as the search checks it.
fn query_text(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) => tracker_query::parse(s)
            .map(|_| v.clone())
            .map_err(|e| format!("Invalid query: {e}")),
        _ => Err("Expected query language text".into()),
    }
}

/// `sorts` of a filter: `"[+-]field"` or `{"expr": field, "dir": "asc|desc"}`
/// items, kept as the strings the search's `order` takes.
fn sorts(v: &Value) -> Result<Value, String> {
    let items = v.as_array().ok_or("Expected a list of sorts")?;
    let mut out = Vec::new();
    for item in items {
        let s = match item {
            Value::String(s) if !s.trim_start_matches(['+', '-']).trim().is_empty() => s.clone(),
            Value::Object(m) => {
                let field = m
                    .get("expr")
                    .or_else(|| m.get("field"))
                    .and_then(Value::as_str)
                    .filter(|f| !f.trim().is_empty())
                    .ok_or("A sort names its field in expr")?;
                let desc = m
                    .get("dir")
                    .or_else(|| m.get("direction"))
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                format!("{}{field}", if desc { "-" } else { "+" })
            }
            _ => return Err(format!("Invalid sort {item}")),
        };
        out.push(json!(s));
    }
    Ok(Value::Array(out))
}

fn flag(v: &Value) -> Result<Value, String> {
    v.as_bool()
        .map(Value::Bool)
        .ok_or_else(|| "Expected true or false".into())
}

fn text(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(v.clone()),
        _ => Err("Expected a non-empty string".into()),
    }
}

/// Reads the fields a create or an edit sets onto a board or filter; every
/// invalid field is reported together.
async fn apply(cx: &Api, kind: Kind, t: &mut TemplateRecord, input: Input<'_>) -> ApiResult<()> {
    let org = cx.principal.org.id;
    let body = input.body;
    let mut errors = FieldErrors::default();
    let mut c = content(t);
    input.require(&mut errors, &["name"]);
    if kind == Kind::Board {
        input.require(&mut errors, &["defaultQueue"]);
    }
    let given = |f: &str| body.get(f).is_some_and(|v| !v.is_null());
    if given("query") && (given("filter") || (kind == Kind::Board && given("orderBy"))) {
        errors.add(
            "query",
            "query cannot be combined with filter, orderBy and orderAsc",
        );
    }
    for (field, v) in body {
        let checked: Option<Result<Value, String>> = match (field.as_str(), kind) {
            ("name", _) => {
                match fields::name(v) {
                    Ok(n) => t.name = n,
                    Err(e) => errors.add(field, e),
                }
                None
            }
            ("defaultQueue", Kind::Board) => {
                match find_queue(&cx.state, org, v).await? {
                    Ok(q) => {
                        Guard::new(&cx.state, &cx.principal)
                            .require_queue(&q, Perm::Read)
                            .await?;
                        t.queue_id = Some(q.id);
                    }
                    Err(e) => errors.add(field, e),
                }
                None
            }
            ("columns", Kind::Board) => {
                if let Err(e) = replace_columns(&mut c, v) {
                    errors.add(field, e);
                }
                None
            }
            ("boardType", Kind::Board) => Some(match v.as_str() {
                Some(s) if BOARD_TYPES.contains(&s) => Ok(v.clone()),
                _ => Err(format!("One of {}", BOARD_TYPES.join(", "))),
            }),
            ("country", Kind::Board) => Some(
                fields::ident(v)
                    .map(|id| json!({ "id": id }))
                    .ok_or_else(|| "Expected a country id".into()),
            ),
            ("orderBy", Kind::Board) | ("groupBy", Kind::Filter) => Some(text(v)),
            ("orderAsc" | "useRanking", Kind::Board) => Some(flag(v)),
            ("filter", _) => Some(filter_object(v)),
            ("query", _) => Some(query_text(v)),
            ("sorts", Kind::Filter) => Some(sorts(v)),
            // Sent back unchanged from an answer.
            ("self" | "id" | "version" | "createdBy" | "createdAt" | "updatedAt" | "owner", _) => {
                None
            }
            _ => {
                errors.add(field, "Unknown field");
                None
            }
        };
        match checked {
            Some(_) if v.is_null() => {
                c.remove(field);
            }
            Some(Ok(x)) => {
                // The two ways of choosing issues replace each other.
                if field == "query" {
                    for f in ["filter", "orderBy", "orderAsc"] {
                        c.remove(f);
                    }
                } else if field == "filter" {
                    c.remove("query");
                }
                c.insert(field.clone(), x);
            }
            Some(Err(e)) => errors.add(field, e),
            None => {}
        }
    }
    errors.into_result()?;
    t.body = Value::Object(c).to_string();
    Ok(())
}

/// A new board has a column for each status of the default workflow.
fn default_columns(content: &mut Map<String, Value>) {
    let columns: Vec<Column> = dictionaries::STATUSES
        .iter()
        .map(|s| Column {
            id: s.id,
            name: s.display.to_owned(),
            statuses: vec![s.key.to_owned()],
            limit: None,
        })
        .collect();
    put_columns(content, &columns);
}

// ---------------------------------------------------------------------------------------------
// Boards and saved filters: one handler of each kind for both (`K`, as the router names them).

pub async fn create<const K: u8>(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    if kind == Kind::Filter
        && ["filter", "query"]
            .iter()
            .all(|f| body.get(*f).is_none_or(Value::is_null))
    {
        return Err(ApiError::field(
            "query",
            "A filter needs a query or a filter object",
        ));
    }
    let now = cx.clock.now();
    let mut t = TemplateRecord::new(cx.principal.org.id, kind.key(), cx.principal.user.uid, now);
    if kind == Kind::Board && !body.contains_key("columns") {
        let mut c = Map::new();
        default_columns(&mut c);
        t.body = Value::Object(c).to_string();
    }
    apply(&cx, kind, &mut t, Input::create(&body)).await?;
    let saved = cx.store.create_template(&t).await?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&cx, &mut r, kind, &saved).await?,
    ))
}

/// The version a change names: `?version=`, the body's `version`, or
/// `If-Match` (a stale one is `412`).
fn check_version(
    t: &TemplateRecord,
    kind: Kind,
    query: Option<i64>,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> ApiResult<()> {
    let in_body = body.get("version").and_then(Value::as_i64);
    check_version_of(
        &kind.what().to_lowercase(),
        t.version,
        query.or(in_body),
        headers,
    )
}

/// Saves a changed board or filter if it is still at the version read.
async fn save(cx: &Api, mut t: TemplateRecord) -> ApiResult<TemplateRecord> {
    t.updated_at = cx.clock.now();
    cx.store.update_template(&t).await?.ok_or_else(|| {
        ApiError::Conflict("It was changed by someone else; read it again and retry".into())
    })
}

pub async fn update<const K: u8>(
    cx: Api,
    Path(id): Path<String>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let mut t = find_to_change(&cx, kind, &id).await?;
    check_version(&t, kind, edit.params.version, &edit.headers, &edit.body)?;
    apply(&cx, kind, &mut t, Input::update(&edit.body)).await?;
    let saved = save(&cx, t).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&cx, &mut r, kind, &saved).await?))
}

pub async fn delete<const K: u8>(cx: Api, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let kind = Kind::of(K);
    let t = find_to_change(&cx, kind, &id).await?;
    if kind == Kind::Board {
        let sprints = cx.store.list_sprints(t.org, Some(t.pk)).await?;
        if !sprints.is_empty() {
            return Err(ApiError::Conflict(format!(
                "Board {id} has {} sprint(s); issues refer to them",
                sprints.len()
            )));
        }
    }
    if !cx.store.delete_template(t.org, kind.key(), t.pk).await? {
        return Err(missing(kind, &id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the boards (every member sees all) or of the caller's filters.
pub async fn list<const K: u8>(
    cx: Api,
    ApiQuery(p): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    let page = Page::from_params(&p)?;
    let (all, _) = cx
        .store
        .list_templates(cx.principal.org.id, kind.key(), None, 0, i64::MAX)
        .await?;
    let visible: Vec<TemplateRecord> = all
        .into_iter()
        .filter(|t| kind == Kind::Board || t.created_by == cx.principal.user.uid)
        .collect();
    let mut r = cx.renderer();
    let mut out = Vec::new();
    for t in page.of(&visible) {
        out.push(render(&cx, &mut r, kind, t).await?);
    }
    let url = cx.links.api(kind.path());
    Ok((
        page.headers(visible.len() as i64, &url, raw.as_deref()),
        Json(Value::Array(out)),
    )
        .into_response())
}

pub async fn get<const K: u8>(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let t = find(&cx, kind, &id).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&cx, &mut r, kind, &t).await?))
}

// ---------------------------------------------------------------------------------------------
// Columns: each change is a change of the board, at the board's version.

fn find_column(content: &Map<String, Value>, board: &str, id: &str) -> ApiResult<Column> {
    columns_of(content)
        .into_iter()
        .find(|c| c.id.to_string() == id)
        .ok_or_else(|| ApiError::NotFound(format!("Column {id} of board {board} not found")))
}

pub async fn list_columns(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let t = find(&cx, Kind::Board, &id).await?;
    let r = cx.renderer();
    Ok(Json(Value::Array(
        columns_of(&content(&t))
            .iter()
            .map(|c| render_column(&r, t.pk, c))
            .collect(),
    )))
}

pub async fn get_column(
    cx: Api,
    Path((board, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let t = find(&cx, Kind::Board, &board).await?;
    let c = find_column(&content(&t), &board, &id)?;
    Ok(Json(render_column(&cx.renderer(), t.pk, &c)))
}

/// Changes the board's columns with `change` (given the columns, answering
/// the column to show), at the version the request names.
async fn change_columns(
    cx: &Api,
    board: &str,
    version: Option<i64>,
    headers: &HeaderMap,
    change: impl FnOnce(&mut Map<String, Value>, &mut Vec<Column>) -> ApiResult<Option<Column>>,
) -> ApiResult<(i64, Option<Column>)> {
    let mut t = find_to_change(cx, Kind::Board, board).await?;
    check_version_of("board", t.version, version, headers)?;
    let mut c = content(&t);
    let mut columns = columns_of(&c);
    let shown = change(&mut c, &mut columns)?;
    check_columns(&columns)?;
    put_columns(&mut c, &columns);
    t.body = Value::Object(c).to_string();
    let saved = save(cx, t).await?;
    Ok((saved.pk, shown))
}

pub async fn create_column(
    cx: Api,
    Path(board): Path<String>,
    ApiQuery(p): ApiQuery<VersionParam>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let (pk, shown) = change_columns(&cx, &board, p.version, &headers, |c, columns| {
        let mut col = Column {
            id: 0,
            name: String::new(),
            statuses: Vec::new(),
            limit: None,
        };
        apply_column(&mut col, Input::create(&body))?;
        col.id = next_column_id(c);
        columns.push(col.clone());
        Ok(Some(col))
    })
    .await?;
    let col = shown.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no column created")))?;
    Ok(json(
        StatusCode::CREATED,
        &render_column(&cx.renderer(), pk, &col),
    ))
}

pub async fn update_column(
    cx: Api,
    Path((board, id)): Path<(String, String)>,
    VersionedEdit {
        params: p,
        headers,
        body,
    }: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let (pk, shown) = change_columns(&cx, &board, p.version, &headers, |c, columns| {
        let col = find_column(c, &board, &id)?;
        let slot = columns
            .iter_mut()
            .find(|x| x.id == col.id)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a column vanished")))?;
        apply_column(slot, Input::update(&body))?;
        Ok(Some(slot.clone()))
    })
    .await?;
    let col = shown.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no column changed")))?;
    Ok(Json(render_column(&cx.renderer(), pk, &col)))
}

pub async fn delete_column(
    cx: Api,
    Path((board, id)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<VersionParam>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    change_columns(&cx, &board, p.version, &headers, |c, columns| {
        let col = find_column(c, &board, &id)?;
        columns.retain(|x| x.id != col.id);
        Ok(None)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Sprints.

/// A sprint's status: `archived`, or what its dates say today (Tracker
/// starts and finishes sprints from the board's page; the API has no call
/// for it).
fn sprint_status(s: &SprintRecord, today: NaiveDate) -> &'static str {
    let date = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    if s.archived {
        "archived"
    } else if date(&s.start_date).is_some_and(|d| today < d) {
        "draft"
    } else if date(&s.end_date).is_some_and(|d| today <= d) {
        "in_progress"
    } else {
        "released"
    }
}

async fn render_sprint(
    cx: &Api,
    r: &mut Renderer<'_>,
    board: &TemplateRecord,
    s: &SprintRecord,
) -> ApiResult<Value> {
    let today = cx.clock.now().date_naive();
    Ok(json!({
        "self": cx.links.api(&format!("sprints/{}", s.pk)),
        "id": s.pk,
        "version": s.version,
        "name": s.name,
        "board": {
            "self": cx.links.api(&format!("boards/{}", board.pk)),
            "id": board.pk.to_string(),
            "display": board.name,
        },
        "status": sprint_status(s, today),
        "archived": s.archived,
        "createdBy": r.user(s.created_by).await?,
        "createdAt": time(&s.created_at),
        "startDate": s.start_date,
        "endDate": s.end_date,
        // The planned days, from midnight UTC.
        "startDateTime": format!("{}T00:00:00.000+0000", s.start_date),
        "endDateTime": format!("{}T00:00:00.000+0000", s.end_date),
    }))
}

fn date_field(body: &Map<String, Value>, field: &str, errors: &mut FieldErrors) -> String {
    match body.get(field) {
        None | Some(Value::Null) => errors.add(field, "Required field"),
        Some(Value::String(s)) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
            return s.clone()
        }
        Some(_) => errors.add(field, "Expected a date in YYYY-MM-DD format"),
    }
    String::new()
}

pub async fn create_sprint(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let mut errors = FieldErrors::default();
    let name = match body.get("name").map(fields::name) {
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            errors.add("name", e);
            String::new()
        }
        None => {
            errors.add("name", "Required field");
            String::new()
        }
    };
    let start_date = date_field(&body, "startDate", &mut errors);
    let end_date = date_field(&body, "endDate", &mut errors);
    if !start_date.is_empty() && !end_date.is_empty() && end_date < start_date {
        errors.add("endDate", "The sprint cannot end before it starts");
    }
    for field in body.keys() {
        if !matches!(
            field.as_str(),
            "name" | "board" | "startDate" | "endDate" | "self" | "id" | "version"
        ) {
            errors.add(field, "Unknown field");
        }
    }
    let board_id = body.get("board").and_then(fields::ident);
    if board_id.is_none() {
        errors.add("board", "Required field: the board's id");
    }
    errors.into_result()?;
    let board_id = board_id.unwrap_or_default();
    let board = find(&cx, Kind::Board, &board_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(m) => ApiError::field("board", m),
            e => e,
        })?;
    may_change(&cx, &board)?;
    let s = SprintRecord {
        pk: 0,
        org: cx.principal.org.id,
        board_pk: board.pk,
        name,
        archived: false,
        start_date,
        end_date,
        version: 1,
        created_by: cx.principal.user.uid,
        created_at: cx.clock.now(),
    };
    let saved = cx.store.create_sprint(&s).await?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render_sprint(&cx, &mut r, &board, &saved).await?,
    ))
}

pub async fn get_sprint(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = by_number("Sprint", &id, |pk| cx.store.sprint(cx.principal.org.id, pk)).await?;
    let board = find(&cx, Kind::Board, &s.board_pk.to_string()).await?;
    let mut r = cx.renderer();
    Ok(Json(render_sprint(&cx, &mut r, &board, &s).await?))
}

async fn sprints_of(cx: &Api, board: Option<i64>) -> ApiResult<Json<Value>> {
    let org = cx.principal.org.id;
    let boards: std::collections::HashMap<i64, TemplateRecord> = cx
        .store
        .list_templates(org, Kind::Board.key(), None, 0, i64::MAX)
        .await?
        .0
        .into_iter()
        .map(|t| (t.pk, t))
        .collect();
    let mut r = cx.renderer();
    let mut out = Vec::new();
    for s in cx.store.list_sprints(org, board).await? {
        if let Some(b) = boards.get(&s.board_pk) {
            out.push(render_sprint(cx, &mut r, b, &s).await?);
        }
    }
    Ok(Json(Value::Array(out)))
}

pub async fn list_board_sprints(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let board = find(&cx, Kind::Board, &id).await?;
    sprints_of(&cx, Some(board.pk)).await
}

pub async fn list_sprints(cx: Api) -> ApiResult<Json<Value>> {
    sprints_of(&cx, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sprint(start: &str, end: &str, archived: bool) -> SprintRecord {
        SprintRecord {
            pk: 1,
            org: 1,
            board_pk: 1,
            name: "s".into(),
            archived,
            start_date: start.into(),
            end_date: end.into(),
            version: 1,
            created_by: 1,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_sprints_status_follows_its_dates_unless_archived() {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let s = sprint("2026-01-10", "2026-01-20", false);
        assert_eq!(sprint_status(&s, day("2026-01-09")), "draft");
        assert_eq!(sprint_status(&s, day("2026-01-10")), "in_progress");
        assert_eq!(sprint_status(&s, day("2026-01-20")), "in_progress");
        assert_eq!(sprint_status(&s, day("2026-01-21")), "released");
        let a = sprint("2026-01-10", "2026-01-20", true);
        assert_eq!(sprint_status(&a, day("2026-01-15")), "archived");
    }

    #[test]
    fn filter_sorts_become_order_strings() {
        let v = sorts(&json!(["-updatedAt", {"expr": "key", "dir": "ASC"}, {"expr": "status", "dir": "desc"}]))
            .unwrap();
        assert_eq!(v, json!(["-updatedAt", "+key", "-status"]));
        assert!(sorts(&json!([""])).is_err());
        assert!(sorts(&json!("key")).is_err());
    }
}
