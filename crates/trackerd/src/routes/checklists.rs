//! An issue's checklist, and an entity's. The items are part of the issue,
//! as Tracker answers them (`checklistItems` in the issue, with
//! `checklistDone` and `checklistTotal`): they are kept in the issue's extra
//! fields, so every change to them is one versioned write of the issue with
//! its changelog. An entity keeps them in its fields document the same way
//! (entity_checklists.rs); the reading of bodies and the edits are shared.

use axum::extract::Path;
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tracker_store::IssueRecord;

use crate::access::issues::{update_write, write_fresh};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Api, ApiJson};
use crate::fields::{self, FieldChange, Input};
use crate::ids::object_id;
use crate::render::{GetParams, Renderer};
use crate::state::AppState;

/// The most items one checklist holds: beyond any list people tick off by
/// hand, and it keeps the issue's stored document small.
pub const MAX_ITEMS: usize = 1000;
/// The longest item text, in characters.
pub const MAX_TEXT: usize = 10_000;

/// An item as stored: `assignee` is a uid, `deadline` is
/// `{"date": "…", "deadlineType": "date"}`.
pub type Item = Map<String, Value>;

/// The issue's items, in order.
pub fn items_of(issue: &IssueRecord) -> Vec<Item> {
    items_in(&issue.extra)
}

/// The items kept in a JSON document (an issue's extra fields, an entity's
/// fields), in order.
pub fn items_in(doc: &str) -> Vec<Item> {
    let extra: Map<String, Value> = serde_json::from_str(doc).unwrap_or_default();
    match extra.get("checklistItems") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_object().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Stores `items` into a JSON document with the counters, returning the change.
pub fn store_items(doc: &mut String, items: Vec<Item>) -> FieldChange {
    let mut extra: Map<String, Value> = serde_json::from_str(doc).unwrap_or_default();
    let old = extra.remove("checklistItems").unwrap_or(Value::Null);
    extra.remove("checklistDone");
    extra.remove("checklistTotal");
    let new = if items.is_empty() {
        Value::Null
    } else {
        let done = items
            .iter()
            .filter(|i| i.get("checked") == Some(&Value::Bool(true)))
            .count();
        extra.insert("checklistDone".into(), json!(done));
        extra.insert("checklistTotal".into(), json!(items.len()));
        let list = Value::Array(items.into_iter().map(Value::Object).collect());
        extra.insert("checklistItems".into(), list.clone());
        list
    };
    *doc = Value::Object(extra).to_string();
    FieldChange {
        field: "checklistItems".into(),
        from: old,
        to: new,
    }
}

/// One item as Tracker answers it; `owner` is the path of its issue or
/// entity (`issues/TEST-1`).
pub async fn render_item(
    r: &mut Renderer<'_>,
    owner: &str,
    item: &Item,
    now: Option<DateTime<Utc>>,
) -> ApiResult<Value> {
    let mut v = Map::new();
    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
    // Clients address an item by its `self` (the official one does).
    v.insert(
        "self".into(),
        json!(r.links.api(&format!("{owner}/checklistItems/{id}"))),
    );
    for key in ["id", "text"] {
        v.insert(key.into(), item.get(key).cloned().unwrap_or(Value::Null));
    }
    let text = item.get("text").and_then(Value::as_str).unwrap_or("");
    v.insert("textHtml".into(), json!(html_escape(text)));
    let checked = item.get("checked") == Some(&Value::Bool(true));
    v.insert("checked".into(), json!(checked));
    if let Some(uid) = item.get("assignee").and_then(Value::as_i64) {
        v.insert("assignee".into(), r.user(uid).await?);
    }
    if let Some(Value::Object(d)) = item.get("deadline") {
        let mut d = d.clone();
        if let (Some(now), Some(date)) = (
            now,
            d.get("date")
                .and_then(Value::as_str)
                .and_then(tracker_api::time::parse),
        ) {
            d.insert("isExceeded".into(), json!(!checked && date < now));
        }
        v.insert("deadline".into(), Value::Object(d));
    }
    if let Some(url) = item.get("url") {
        v.insert("url".into(), url.clone());
    }
    v.insert("checklistItemType".into(), json!("standard"));
    Ok(Value::Object(v))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Checks and applies the fields of `body` to `item`. `text` is required
/// for a new item.
async fn apply_fields(
    state: &AppState,
    org: i64,
    item: &mut Item,
    input: Input<'_>,
) -> ApiResult<()> {
    let body = input.body;
    let mut errors = fields::FieldErrors::default();
    match body.get("text") {
        Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= MAX_TEXT => {
            item.insert("text".into(), json!(t));
        }
        Some(Value::String(t)) if !t.trim().is_empty() => {
            errors.add("text", format!("At most {MAX_TEXT} characters"))
        }
        None if !input.creating => {}
        _ => errors.add("text", "Required: a non-empty string"),
    }
    match body.get("url") {
        None => {}
        Some(Value::Null) => {
            item.remove("url");
        }
        Some(Value::String(u)) if u.len() <= 2048 => {
            item.insert("url".into(), json!(u));
        }
        Some(_) => errors.add("url", "Expected a link of at most 2048 characters"),
    }
    match body.get("checked") {
        None => {}
        Some(Value::Bool(b)) => {
            item.insert("checked".into(), json!(b));
        }
        Some(_) => errors.add("checked", "Expected true or false"),
    }
    if let Some(v) = body.get("assignee") {
        match fields::user(state, org, v).await? {
            Ok(Some(uid)) => {
                item.insert("assignee".into(), json!(uid));
            }
            Ok(None) => {
                item.remove("assignee");
            }
            Err(e) => errors.add("assignee", e),
        }
    }
    match body.get("deadline") {
        None => {}
        Some(Value::Null) => {
            item.remove("deadline");
        }
        Some(Value::Object(d)) => {
            let date = d
                .get("date")
                .and_then(Value::as_str)
                .and_then(tracker_api::time::parse);
            let kind = match d.get("deadlineType") {
                None | Some(Value::Null) => Some("date".to_owned()),
                Some(Value::String(k)) if matches!(k.as_str(), "date" | "dateTime") => {
                    Some(k.clone())
                }
                _ => None,
            };
            match (date, kind) {
                (Some(date), Some(kind)) => {
                    item.insert(
                        "deadline".into(),
                        json!({"date": tracker_api::time::format(&date), "deadlineType": kind}),
                    );
                }
                (None, _) => errors.add(
                    "deadline",
                    "deadline.date is a time such as 2021-05-09T00:00:00.000+0000",
                ),
                (_, None) => errors.add("deadline", "deadline.deadlineType is date or dateTime"),
            }
        }
        Some(_) => errors.add("deadline", "Expected an object with date and deadlineType"),
    }
    errors.into_result()
}

/// What a request does to the list; applied to the freshest copy of the
/// issue or entity, as often as a lost race needs.
pub enum Edit {
    Add(Vec<Item>),
    Replace(Vec<Item>),
    Change(String, Box<Item>),
    Move { id: String, before: Option<String> },
    Remove(String),
    Clear,
}

pub fn position(items: &[Item], id: &str) -> ApiResult<usize> {
    items
        .iter()
        .position(|i| i.get("id").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| ApiError::NotFound(format!("Checklist item {id} not found")))
}

pub fn apply_edit(mut items: Vec<Item>, edit: &Edit) -> ApiResult<Vec<Item>> {
    match edit {
        Edit::Add(new) => items.extend(new.iter().cloned()),
        Edit::Replace(all) => items = all.clone(),
        Edit::Change(id, item) => {
            let at = position(&items, id)?;
            items[at] = (**item).clone();
        }
        Edit::Move { id, before } => {
            let item = items.remove(position(&items, id)?);
            let at = match before {
                Some(b) => position(&items, b)?,
                None => items.len(),
            };
            items.insert(at, item);
        }
        Edit::Remove(id) => {
            items.remove(position(&items, id)?);
        }
        Edit::Clear => items.clear(),
    }
    if items.len() > MAX_ITEMS {
        return Err(ApiError::field(
            "checklistItems",
            format!("A checklist holds at most {MAX_ITEMS} items"),
        ));
    }
    Ok(items)
}

/// Applies `edit` and answers the issue, as Tracker does.
async fn save(cx: &Api, issue: IssueRecord, edit: Edit) -> ApiResult<Json<Value>> {
    let now = cx.clock.now();
    let saved = write_fresh(&cx.state, &cx.principal, issue, |mut issue| {
        let items = apply_edit(items_of(&issue), &edit)?;
        let change = store_items(&mut issue.extra, items);
        Ok(update_write(&cx.principal, issue, now, &[change]))
    })
    .await?;
    cx.issue_json(&saved, &GetParams::default()).await
}

async fn new_item(state: &AppState, org: i64, body: &Map<String, Value>) -> ApiResult<Item> {
    let mut item = Item::new();
    item.insert("id".into(), json!(object_id(state.clock.now())));
    apply_fields(state, org, &mut item, Input::create(body)).await?;
    Ok(item)
}

/// The new items a `POST …/checklistItems` body makes: one item, or a list.
pub async fn items_to_add(cx: &Api, body: Value) -> ApiResult<Vec<Item>> {
    let bodies = match body {
        Value::Object(m) => vec![m],
        Value::Array(list) if list.len() <= MAX_ITEMS => list
            .into_iter()
            .map(|v| match v {
                Value::Object(m) => Ok(m),
                _ => Err(ApiError::BadRequest("Each item is an object".into())),
            })
            .collect::<ApiResult<_>>()?,
        _ => {
            return Err(ApiError::BadRequest(
                "The body is an item or a list of at most 1000 items".into(),
            ))
        }
    };
    let mut items = Vec::with_capacity(bodies.len());
    for b in &bodies {
        let mut item = new_item(&cx.state, cx.principal.org.id, b).await?;
        // Ids made within one millisecond differ in their random part.
        if items.iter().any(|i: &Item| i.get("id") == item.get("id")) {
            item.insert("id".into(), json!(object_id(cx.clock.now())));
        }
        items.push(item);
    }
    Ok(items)
}

/// `current` with each item a `PATCH …/checklistItems` body names (by its
/// id) changed; with `only_listed`, the list becomes the named items in the
/// order named (an issue's), otherwise the others stay (an entity's).
pub async fn items_replaced(
    cx: &Api,
    current: &[Item],
    body: &[Map<String, Value>],
    only_listed: bool,
) -> ApiResult<Vec<Item>> {
    let mut all: Vec<Item> = if only_listed {
        Vec::with_capacity(body.len())
    } else {
        current.to_vec()
    };
    let mut seen: Vec<&str> = Vec::new();
    for b in body {
        let id = b
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::field("id", "Each item names its id"))?;
        if seen.contains(&id) {
            return Err(ApiError::field("id", format!("Item {id} is listed twice")));
        }
        seen.push(id);
        let at = position(current, id)?;
        let mut item = current[at].clone();
        apply_fields(&cx.state, cx.principal.org.id, &mut item, Input::update(b)).await?;
        if only_listed {
            all.push(item);
        } else {
            all[at] = item;
        }
    }
    Ok(all)
}

/// The item `id` of `current` with a body's changes.
pub async fn item_changed(
    cx: &Api,
    current: &[Item],
    id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Item> {
    let mut item = current[position(current, id)?].clone();
    apply_fields(
        &cx.state,
        cx.principal.org.id,
        &mut item,
        Input::update(body),
    )
    .await?;
    Ok(item)
}

/// A `…/_move {"before": "<item id>"}` body; without `before`, to the end.
pub fn move_edit(id: String, body: &Map<String, Value>) -> ApiResult<Edit> {
    let before = match body.get("before") {
        None | Some(Value::Null) => None,
        Some(Value::String(b)) if *b != id => Some(b.clone()),
        Some(_) => {
            return Err(ApiError::field(
                "before",
                "Expected the id of another item of the list",
            ))
        }
    };
    Ok(Edit::Move { id, before })
}

/// `POST …/checklistItems`: one item, or a list of them.
pub async fn add(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let items = items_to_add(&cx, body).await?;
    save(&cx, issue, Edit::Add(items)).await
}

pub async fn list(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let mut r = cx.renderer();
    let now = Some(cx.clock.now());
    let mut out = Vec::new();
    for item in items_of(&issue) {
        out.push(render_item(&mut r, &format!("issues/{}", issue.key), &item, now).await?);
    }
    Ok(Json(Value::Array(out)))
}

/// `PATCH …/checklistItems`: the whole list, every item named by its id, in
/// the order wanted.
pub async fn replace(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Vec<Map<String, Value>>>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let all = items_replaced(&cx, &items_of(&issue), &body, true).await?;
    save(&cx, issue, Edit::Replace(all)).await
}

pub async fn change(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let item = item_changed(&cx, &items_of(&issue), &id, &body).await?;
    save(&cx, issue, Edit::Change(id, Box::new(item))).await
}

/// `POST …/checklistItems/{id}/_move {"before": "<item id>"}`; without
/// `before`, to the end.
pub async fn move_item(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let edit = move_edit(id, &body)?;
    save(&cx, issue, edit).await
}

pub async fn remove(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    save(&cx, issue, Edit::Remove(id)).await
}

pub async fn clear(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    save(&cx, issue, Edit::Clear).await
}
