//! A queue's components and versions (`/v2/components`, `/v2/versions`).
//! Reading one needs the right to read its queue; creating, changing or
//! deleting one is a queue setting, so it needs the queue's admin right, as
//! `PATCH /v2/queues/{key}` does.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{
    ComponentRecord, DeleteOutcome, QueueRecord, StoreError, VersionRecord, WriteOutcome,
};

use crate::access::by_number;
use crate::access::issues::{check_version_of, find_queue};
use crate::access::Guard;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, Links, VersionedEdit};
use crate::fields::{self, set, FieldErrors};
use crate::render::{queue_ref, Renderer};
use crate::state::AppState;

async fn render_component(
    r: &mut Renderer<'_>,
    q: &QueueRecord,
    c: &ComponentRecord,
) -> ApiResult<Value> {
    let mut v = json!({
        "self": r.links.api(&format!("components/{}", c.pk)),
        "id": c.pk,
        "version": c.version,
        "name": c.name,
        "queue": queue_ref(r.links, q),
        "assignAuto": c.assign_auto,
        "archived": c.archived,
    });
    if let Some(d) = &c.description {
        v["description"] = json!(d);
    }
    if let Some(uid) = c.lead_uid {
        v["lead"] = r.user(uid).await?;
    }
    Ok(v)
}

fn render_version(links: &Links, q: &QueueRecord, v: &VersionRecord) -> Value {
    let mut out = json!({
        "self": links.api(&format!("versions/{}", v.pk)),
        "id": v.pk,
        "version": v.version,
        "queue": queue_ref(links, q),
        "name": v.name,
        "released": v.released,
        "archived": v.archived,
    });
    for (k, val) in [
        ("description", &v.description),
        ("startDate", &v.start_date),
        ("dueDate", &v.due_date),
    ] {
        if let Some(s) = val {
            out[k] = json!(s);
        }
    }
    out
}

/// The queue's components as `GET /v2/queues/{key}/components` and the
/// queue's `expand=components` answer them.
pub async fn queue_components(
    state: &AppState,
    links: &Links,
    q: &QueueRecord,
) -> ApiResult<Value> {
    let mut r = Renderer::new(links, state.store.as_ref(), q.org);
    let mut out = Vec::new();
    for c in state.store.list_components(q.org, Some(q.id)).await? {
        out.push(render_component(&mut r, q, &c).await?);
    }
    Ok(Value::Array(out))
}

/// The queue's versions, as [`queue_components`] for components.
pub async fn queue_versions(state: &AppState, links: &Links, q: &QueueRecord) -> ApiResult<Value> {
    let versions = state.store.list_versions(q.org, Some(q.id)).await?;
    Ok(Value::Array(
        versions
            .iter()
            .map(|v| render_version(links, q, v))
            .collect(),
    ))
}

/// The live queue an object belongs to, if the caller holds `perm` on it.
/// An object of a deleted queue is gone with its queue.
async fn queue_for(
    state: &AppState,
    principal: &Principal,
    queue_id: i64,
    perm: Perm,
    missing: impl FnOnce() -> ApiError,
) -> ApiResult<QueueRecord> {
    let q = state
        .store
        .queue_by_id(principal.org.id, queue_id)
        .await?
        .filter(|q| q.deleted_at.is_none())
        .ok_or_else(missing)?;
    Guard::new(state, principal).require_queue(&q, perm).await?;
    Ok(q)
}

/// A component or a version (`what`) by its id, with its queue, if the
/// caller holds `perm` on the queue; `get` reads it by organization and pk.
async fn find_in_queue<T, Fut>(
    state: &AppState,
    principal: &Principal,
    what: &str,
    id: &str,
    perm: Perm,
    get: impl FnOnce(i64, i64) -> Fut,
    queue_of: fn(&T) -> i64,
) -> ApiResult<(T, QueueRecord)>
where
    Fut: std::future::Future<Output = tracker_store::Result<Option<T>>>,
{
    let missing = || ApiError::NotFound(format!("{what} {id} not found"));
    let found = by_number(what, id, |pk| get(principal.org.id, pk)).await?;
    let q = queue_for(state, principal, queue_of(&found), perm, missing).await?;
    Ok((found, q))
}

async fn find_component(
    cx: &Api,
    id: &str,
    perm: Perm,
) -> ApiResult<(ComponentRecord, QueueRecord)> {
    let get = |org, pk| cx.store.component(org, pk);
    find_in_queue(&cx.state, &cx.principal, "Component", id, perm, get, |c| {
        c.queue_id
    })
    .await
}

async fn find_version(cx: &Api, id: &str, perm: Perm) -> ApiResult<(VersionRecord, QueueRecord)> {
    let get = |org, pk| cx.store.version(org, pk);
    find_in_queue(&cx.state, &cx.principal, "Version", id, perm, get, |v| {
        v.queue_id
    })
    .await
}

/// The queue a create names in its body, if the caller may administer it;
/// a create also needs a name.
async fn body_queue(
    state: &AppState,
    principal: &Principal,
    body: &Map<String, Value>,
) -> ApiResult<QueueRecord> {
    let v = body
        .get("queue")
        .filter(|v| !v.is_null())
        .ok_or_else(|| ApiError::field("queue", "Required field"))?;
    let q = find_queue(state, principal.org.id, v)
        .await?
        .map_err(|e| ApiError::field("queue", e))?;
    Guard::new(state, principal)
        .require_queue(&q, Perm::Grant)
        .await?;
    if body.get("name").is_none() {
        return Err(ApiError::field("name", "Required field"));
    }
    Ok(q)
}

/// A unique-name violation as the client sees it.
fn taken(what: &str, name: &str, q: &QueueRecord) -> impl FnOnce(StoreError) -> ApiError {
    ApiError::on_conflict(format!("{what} {name:?} already exists in queue {}", q.key))
}

fn name_field(v: &Value, errors: &mut FieldErrors) -> Option<String> {
    fields::name(v).map_err(|e| errors.add("name", e)).ok()
}

fn text_field(field: &str, v: &Value, errors: &mut FieldErrors) -> Option<Option<String>> {
    match v {
        Value::String(s) => Some(Some(s.clone())),
        Value::Null => Some(None),
        _ => {
            errors.add(field, "Expected a string");
            None
        }
    }
}

/// `YYYY-MM-DD`, or null to clear it.
fn date_field(field: &str, v: &Value, errors: &mut FieldErrors) -> Option<Option<String>> {
    match v {
        Value::Null => Some(None),
        Value::String(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
            Some(Some(s.clone()))
        }
        _ => {
            errors.add(field, "Expected a date in YYYY-MM-DD format");
            None
        }
    }
}

/// Fields a client may send back unchanged from an answer.
fn echoed(field: &str) -> bool {
    matches!(field, "self" | "id" | "version" | "queue")
}

/// Applies a create's or an update's fields to a component.
async fn apply_component(
    state: &AppState,
    org: i64,
    c: &mut ComponentRecord,
    body: &Map<String, Value>,
) -> ApiResult<()> {
    let mut errors = FieldErrors::default();
    for (field, v) in body {
        match field.as_str() {
            "name" => set(&mut c.name, name_field(v, &mut errors)),
            "description" => set(&mut c.description, text_field(field, v, &mut errors)),
            "lead" => match fields::user(state, org, v).await? {
                Ok(uid) => c.lead_uid = uid,
                Err(e) => errors.add(field, e),
            },
            "assignAuto" => set(&mut c.assign_auto, errors.flag(field, v)),
            "archived" => set(&mut c.archived, errors.flag(field, v)),
            f if echoed(f) => {}
            other => errors.add(other, "Unknown or read-only component field"),
        }
    }
    errors.into_result()
}

fn apply_version(v: &mut VersionRecord, body: &Map<String, Value>) -> ApiResult<()> {
    let mut errors = FieldErrors::default();
    for (field, val) in body {
        match field.as_str() {
            "name" => set(&mut v.name, name_field(val, &mut errors)),
            "description" => set(&mut v.description, text_field(field, val, &mut errors)),
            "startDate" => set(&mut v.start_date, date_field(field, val, &mut errors)),
            "dueDate" => set(&mut v.due_date, date_field(field, val, &mut errors)),
            "released" => set(&mut v.released, errors.flag(field, val)),
            "archived" => set(&mut v.archived, errors.flag(field, val)),
            f if echoed(f) => {}
            other => errors.add(other, "Unknown or read-only version field"),
        }
    }
    errors.into_result()
}

/// An update may not move the object to another queue.
fn same_queue(body: &Map<String, Value>, q: &QueueRecord) -> ApiResult<()> {
    match body.get("queue") {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match fields::ident(v) {
            Some(id) if id.eq_ignore_ascii_case(&q.key) || id == q.id.to_string() => Ok(()),
            _ => Err(ApiError::field(
                "queue",
                "The queue of a component or version cannot be changed",
            )),
        },
    }
}

/// What an update checks before it applies anything: the version the client
/// read (query, `If-Match` or body) and that the queue stays the same.
fn check_update(what: &str, current: i64, edit: &VersionedEdit, q: &QueueRecord) -> ApiResult<()> {
    check_version_of(what, current, edit.wanted()?, &edit.headers)?;
    same_queue(&edit.body, q)
}

/// An update that lost the race against another writer.
fn written(outcome: WriteOutcome) -> ApiResult<()> {
    match outcome {
        WriteOutcome::VersionConflict => Err(ApiError::Conflict(
            "It was changed by someone else; retry".into(),
        )),
        _ => Ok(()),
    }
}

pub async fn list_components(cx: Api) -> ApiResult<Json<Value>> {
    let org = cx.principal.org.id;
    let mut guard = Guard::new(&cx.state, &cx.principal);
    let mut r = Renderer::new(&cx.links, cx.store.as_ref(), org);
    let mut queues: std::collections::HashMap<i64, Option<QueueRecord>> = Default::default();
    let mut out = Vec::new();
    // Components of queues the caller may not read are left out.
    for c in cx.store.list_components(org, None).await? {
        if let std::collections::hash_map::Entry::Vacant(slot) = queues.entry(c.queue_id) {
            let q = match cx.store.queue_by_id(org, c.queue_id).await? {
                Some(q) if q.deleted_at.is_none() && guard.queue_allows(&q, Perm::Read).await? => {
                    Some(q)
                }
                _ => None,
            };
            slot.insert(q);
        }
        if let Some(Some(q)) = queues.get(&c.queue_id) {
            out.push(render_component(&mut r, q, &c).await?);
        }
    }
    Ok(Json(Value::Array(out)))
}

pub async fn create_component(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let q = body_queue(&cx.state, &cx.principal, &body).await?;
    let mut c = ComponentRecord {
        pk: 0,
        org: cx.principal.org.id,
        queue_id: q.id,
        name: String::new(),
        description: None,
        lead_uid: None,
        assign_auto: false,
        archived: false,
        version: 1,
    };
    apply_component(&cx.state, cx.principal.org.id, &mut c, &body).await?;
    let c = cx
        .store
        .create_component(&c)
        .await
        .map_err(taken("Component", &c.name, &q))?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render_component(&mut r, &q, &c).await?,
    ))
}

pub async fn get_component(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (c, q) = find_component(&cx, &id, Perm::Read).await?;
    let mut r = cx.renderer();
    Ok(Json(render_component(&mut r, &q, &c).await?))
}

pub async fn update_component(
    cx: Api,
    Path(id): Path<String>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let (mut c, q) = find_component(&cx, &id, Perm::Grant).await?;
    check_update("component", c.version, &edit, &q)?;
    apply_component(&cx.state, cx.principal.org.id, &mut c, &edit.body).await?;
    written(
        cx.store
            .update_component(&c)
            .await
            .map_err(taken("Component", &c.name, &q))?,
    )?;
    let (c, q) = find_component(&cx, &id, Perm::Read).await?;
    let mut r = cx.renderer();
    Ok(Json(render_component(&mut r, &q, &c).await?))
}

/// A component issues still refer to is not deleted: the client is told to
/// take it off them first, rather than issues changing behind their
/// version and history.
pub async fn delete_component(cx: Api, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let (c, _) = find_component(&cx, &id, Perm::Grant).await?;
    match cx.store.delete_component(cx.principal.org.id, c.pk).await? {
        DeleteOutcome::Deleted => Ok(StatusCode::NO_CONTENT),
        DeleteOutcome::NotFound => Err(ApiError::NotFound(format!("Component {id} not found"))),
        DeleteOutcome::InUse(n) => Err(ApiError::Conflict(format!(
            "Component {id} is used by {n} issue(s); remove it from them first"
        ))),
    }
}

pub async fn create_version(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let q = body_queue(&cx.state, &cx.principal, &body).await?;
    let mut v = VersionRecord {
        pk: 0,
        org: cx.principal.org.id,
        queue_id: q.id,
        name: String::new(),
        description: None,
        start_date: None,
        due_date: None,
        released: false,
        archived: false,
        version: 1,
    };
    apply_version(&mut v, &body)?;
    let v = cx
        .store
        .create_version(&v)
        .await
        .map_err(taken("Version", &v.name, &q))?;
    Ok(json(
        StatusCode::CREATED,
        &render_version(&cx.links, &q, &v),
    ))
}

pub async fn get_version(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (v, q) = find_version(&cx, &id, Perm::Read).await?;
    Ok(Json(render_version(&cx.links, &q, &v)))
}

pub async fn update_version(
    cx: Api,
    Path(id): Path<String>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let (mut v, q) = find_version(&cx, &id, Perm::Grant).await?;
    check_update("version", v.version, &edit, &q)?;
    apply_version(&mut v, &edit.body)?;
    written(
        cx.store
            .update_version(&v)
            .await
            .map_err(taken("Version", &v.name, &q))?,
    )?;
    let (v, q) = find_version(&cx, &id, Perm::Read).await?;
    Ok(Json(render_version(&cx.links, &q, &v)))
}
