//! Fields beyond the system ones: global fields (`/v2/fields`), their
//! categories (`/v2/fields/categories`) and a queue's local fields
//! (`/v2/queues/{key}/localFields`). Anyone who reads the organization (or
//! the queue) reads its fields; creating or changing a global field or a
//! category is the organization administrators' alone, and a local field is
//! a queue setting, changed by those who administer the queue.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde_json::{Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{FieldCategoryRecord, FieldRecord, QueueRecord, StoreError, WriteOutcome};

use crate::access::issues::check_version_of;
use crate::access::queues::find_for;
use crate::access::Guard;
use crate::auth::Principal;
use crate::custom_fields::{
    self as custom, builtin_category_json, category_json, field_json, BUILTIN_CATEGORIES,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, VersionedEdit};
use crate::fields::{FieldErrors, Input, GLOBAL_FIELDS};
use crate::render::{field_json as system_field_json, global_fields_json};
use crate::state::AppState;

fn require_admin(p: &Principal) -> ApiResult<()> {
    p.require_org_admin(
        "Only organization administrators create and change fields and field categories",
    )
}

/// Names an issue answer or request already uses: a created field may not
/// take one, or issues could not tell the two apart.
const RESERVED: &[&str] = &[
    "self",
    "id",
    "key",
    "version",
    "aliases",
    "unique",
    "votes",
    "favorite",
    "checklistItems",
    "attachmentIds",
    "markupType",
    "comment",
    "statusStartTime",
    "previousStatus",
    "lastCommentUpdatedAt",
    "commentWithoutExternalMessageCount",
    "commentWithExternalMessageCount",
    "categories",
];

/// A new field's key: a letter, then letters, digits and `_`, not a name
/// the system uses.
fn check_key(v: Option<&Value>, errors: &mut FieldErrors) -> Option<String> {
    let Some(k) = v.and_then(Value::as_str).map(str::trim) else {
        errors.add("id", "Required field: the field's id, e.g. myField");
        return None;
    };
    let shaped = k.len() <= 100
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !shaped {
        errors.add(
            "id",
            "A field id is a letter followed by letters, digits and _ (at most 100)",
        );
        return None;
    }
    let system = GLOBAL_FIELDS
        .iter()
        .any(|(f, _, _)| f.eq_ignore_ascii_case(k))
        || RESERVED.iter().any(|f| f.eq_ignore_ascii_case(k))
        || tracker_query::fields::lookup(k).is_some();
    if system {
        errors.add("id", format!("{k} is a system field"));
        return None;
    }
    Some(k.to_owned())
}

fn blank(org: i64, id: String, key: String, queue_id: Option<i64>) -> FieldRecord {
    FieldRecord {
        org,
        id,
        queue_id,
        key,
        name_en: String::new(),
        name_ru: String::new(),
        description: None,
        category: String::new(),
        field_type: String::new(),
        container: false,
        options: None,
        ord: 0,
        readonly: false,
        visible: false,
        hidden: false,
        version: 1,
    }
}

/// Checks a create's required properties and fills in the definition.
async fn new_field(
    state: &AppState,
    org: i64,
    mut f: FieldRecord,
    body: &Map<String, Value>,
    existing: usize,
) -> ApiResult<FieldRecord> {
    let mut errors = FieldErrors::default();
    errors.require(body, &["name", "type", "category"]);
    errors.into_result()?;
    // Fields come after the ones before them unless told otherwise.
    f.ord = existing as i64 + 1;
    custom::apply_definition(state, org, &mut f, Input::create(body)).await?;
    Ok(f)
}

fn taken(id: &str) -> impl FnOnce(StoreError) -> ApiError {
    ApiError::on_conflict(format!("Field {id} already exists"))
}

fn lost_race() -> ApiError {
    ApiError::Conflict("The field was changed by someone else; retry".into())
}

async fn render(cx: &Api, f: &FieldRecord, queue: Option<&QueueRecord>) -> ApiResult<Value> {
    let categories = cx.store.list_field_categories(cx.principal.org.id).await?;
    Ok(field_json(&cx.links, f, &categories, queue))
}

/// The organization's global fields after the system ones.
pub async fn global_fields(cx: &Api) -> ApiResult<Vec<Value>> {
    let org = cx.principal.org.id;
    let categories = cx.store.list_field_categories(org).await?;
    let mut out: Vec<Value> = match global_fields_json(&cx.links) {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    for f in cx.store.list_fields(org, None).await? {
        out.push(field_json(&cx.links, &f, &categories, None));
    }
    Ok(out)
}

/// `GET /v2/fields`.
pub async fn list(cx: Api) -> ApiResult<Json<Value>> {
    Ok(Json(Value::Array(global_fields(&cx).await?)))
}

/// `GET /v2/fields/{id}`: a system field, a global field, or a local field
/// by its full id when the caller reads its queue.
pub async fn get(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if let Some(f) = GLOBAL_FIELDS.iter().find(|(f, _, _)| *f == id) {
        return Ok(Json(system_field_json(&cx.links, f)));
    }
    let (f, q) = find_field(&cx, &id, Perm::Read).await?;
    Ok(Json(render(&cx, &f, q.as_ref()).await?))
}

fn missing(id: &str) -> ApiError {
    ApiError::NotFound(format!("Field {id} not found"))
}

/// A created field by id, with its queue (local fields) if the caller holds
/// `perm` on the queue.
async fn find_field(
    cx: &Api,
    id: &str,
    perm: Perm,
) -> ApiResult<(FieldRecord, Option<QueueRecord>)> {
    let org = cx.principal.org.id;
    let f = cx.store.field(org, id).await?.ok_or_else(|| missing(id))?;
    let Some(queue_id) = f.queue_id else {
        return Ok((f, None));
    };
    let q = cx
        .store
        .queue_by_id(org, queue_id)
        .await?
        .filter(|q| q.deleted_at.is_none())
        .ok_or_else(|| missing(id))?;
    // As for the queue's other settings: the queue's rules answer.
    Guard::new(&cx.state, &cx.principal)
        .require_queue(&q, perm)
        .await?;
    Ok((f, Some(q)))
}

/// `POST /v2/fields`.
pub async fn create(cx: Api, ApiJson(body): ApiJson<Map<String, Value>>) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let key = check_key(body.get("id").or(body.get("key")), &mut errors);
    errors.into_result()?;
    let key = key.unwrap_or_default();
    let existing = cx.store.list_fields(org, None).await?.len();
    let f = new_field(
        &cx.state,
        org,
        blank(org, key.clone(), key.clone(), None),
        &body,
        existing,
    )
    .await?;
    let f = cx.store.create_field(&f).await.map_err(taken(&key))?;
    Ok(json(StatusCode::CREATED, &render(&cx, &f, None).await?))
}

/// Saves an edited field if nobody changed it since it was read.
async fn save(
    cx: &Api,
    mut f: FieldRecord,
    wanted: Option<i64>,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> ApiResult<FieldRecord> {
    check_version_of("field", f.version, wanted, headers)?;
    custom::apply_definition(&cx.state, cx.principal.org.id, &mut f, Input::update(body)).await?;
    if cx.store.update_field(&f).await? == WriteOutcome::VersionConflict {
        return Err(lost_race());
    }
    cx.store
        .field(f.org, &f.id)
        .await?
        .ok_or_else(|| missing(&f.id))
}

/// `PATCH /v2/fields/{id}?version=N`.
pub async fn update(
    cx: Api,
    Path(id): Path<String>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    if GLOBAL_FIELDS.iter().any(|(f, _, _)| *f == id) {
        return Err(ApiError::Forbidden(format!(
            "{id} is a system field and cannot be changed"
        )));
    }
    let (f, q) = find_field(&cx, &id, Perm::Read).await?;
    match &q {
        None => require_admin(&cx.principal)?,
        Some(q) => {
            Guard::new(&cx.state, &cx.principal)
                .require_queue(q, Perm::Grant)
                .await?
        }
    }
    let f = save(&cx, f, edit.wanted()?, &edit.headers, &edit.body).await?;
    Ok(Json(render(&cx, &f, q.as_ref()).await?))
}

// ---------------------------------------------------------------------------------------------
// Categories.

/// `GET /v2/fields/categories`: the built-in categories, then the
/// organization's.
pub async fn list_categories(cx: Api) -> ApiResult<Json<Value>> {
    let mut out: Vec<Value> = BUILTIN_CATEGORIES
        .iter()
        .map(|c| builtin_category_json(&cx.links, c))
        .collect();
    for c in cx.store.list_field_categories(cx.principal.org.id).await? {
        out.push(category_json(&cx.links, &c));
    }
    Ok(Json(Value::Array(out)))
}

pub async fn get_category(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if let Some(c) = BUILTIN_CATEGORIES.iter().find(|(c, _, _)| *c == id) {
        return Ok(Json(builtin_category_json(&cx.links, c)));
    }
    let c = cx
        .store
        .field_category(cx.principal.org.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Field category {id} not found")))?;
    Ok(Json(category_json(&cx.links, &c)))
}

/// `POST /v2/fields/categories`.
pub async fn create_category(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let mut c = FieldCategoryRecord {
        org: cx.principal.org.id,
        id: custom::object_id(),
        name_en: String::new(),
        name_ru: String::new(),
        description: None,
        ord: 0,
        version: 1,
    };
    let mut errors = FieldErrors::default();
    errors.require(&body, &["name", "order"]);
    errors.into_result()?;
    // The field rules read names, descriptions and orders the same way.
    let mut probe = blank(c.org, String::new(), String::new(), None);
    let mut errors = FieldErrors::default();
    let mut parts = Map::new();
    for (k, v) in &body {
        match k.as_str() {
            "name" | "description" | "order" => {
                parts.insert(k.clone(), v.clone());
            }
            other => errors.add(other, "Unknown category property"),
        }
    }
    errors.into_result()?;
    custom::apply_definition(&cx.state, c.org, &mut probe, Input::update(&parts)).await?;
    c.name_en = probe.name_en;
    c.name_ru = probe.name_ru;
    c.description = probe.description;
    c.ord = probe.ord;
    let c = cx.store.create_field_category(&c).await?;
    Ok(json(StatusCode::CREATED, &category_json(&cx.links, &c)))
}

// ---------------------------------------------------------------------------------------------
// Local fields.

async fn local_by_key(cx: &Api, q: &QueueRecord, key: &str) -> ApiResult<FieldRecord> {
    cx.store
        .list_fields(cx.principal.org.id, Some(q.id))
        .await?
        .into_iter()
        .find(|f| f.key == key || f.id == key)
        .ok_or_else(|| ApiError::NotFound(format!("Queue {} has no local field {key}", q.key)))
}

/// The queue's local fields.
pub async fn local_fields(cx: &Api, q: &QueueRecord) -> ApiResult<Vec<Value>> {
    let categories = cx.store.list_field_categories(cx.principal.org.id).await?;
    Ok(cx
        .store
        .list_fields(cx.principal.org.id, Some(q.id))
        .await?
        .iter()
        .map(|f| field_json(&cx.links, f, &categories, Some(q)))
        .collect())
}

/// `GET /v2/queues/{key}/localFields`.
pub async fn list_local(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(Value::Array(local_fields(&cx, &q).await?)))
}

/// `POST /v2/queues/{key}/localFields`.
pub async fn create_local(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let field_key = check_key(body.get("id").or(body.get("key")), &mut errors);
    errors.into_result()?;
    let field_key = field_key.unwrap_or_default();
    let existing = cx.store.list_fields(org, Some(q.id)).await?;
    // A queue's local fields share the prefix of their ids, as in Tracker.
    let prefix = existing
        .first()
        .and_then(|f| f.id.split_once("--"))
        .map(|(p, _)| p.to_owned())
        .unwrap_or_else(custom::object_id);
    let id = format!("{prefix}--{field_key}");
    let f = new_field(
        &cx.state,
        org,
        blank(org, id, field_key.clone(), Some(q.id)),
        &body,
        existing.len(),
    )
    .await?;
    let f = cx.store.create_field(&f).await.map_err(taken(&field_key))?;
    Ok(json(StatusCode::CREATED, &render(&cx, &f, Some(&q)).await?))
}

/// `GET /v2/queues/{key}/localFields/{fieldKey}`.
pub async fn get_local(
    cx: Api,
    Path((key, field_key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    let f = local_by_key(&cx, &q, &field_key).await?;
    Ok(Json(render(&cx, &f, Some(&q)).await?))
}

/// `PATCH /v2/queues/{key}/localFields/{fieldKey}`.
pub async fn update_local(
    cx: Api,
    Path((key, field_key)): Path<(String, String)>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    let f = local_by_key(&cx, &q, &field_key).await?;
    let f = save(&cx, f, edit.wanted()?, &edit.headers, &edit.body).await?;
    Ok(Json(render(&cx, &f, Some(&q)).await?))
}

/// `GET /v2/localFields/{id}`: a local field by its full id (the official
/// client's `LocalFields` collection).
pub async fn get_local_by_id(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    match find_field(&cx, &id, Perm::Read).await? {
        (f, Some(q)) => Ok(Json(render(&cx, &f, Some(&q)).await?)),
        (_, None) => Err(missing(&id)),
    }
}
