//! The older projects API (`/v2/projects`): the same projects as
//! `/v2/entities/project`, one storage. Its integer id is the entity's
//! `shortId`; either id finds the project here. Its fields are the
//! entity's under older names (`name` is `summary`, `status` is
//! `entityStatus` in capitals, `startDate`/`endDate` are `start`/`end`).

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::EntityRecord;

use crate::access::entities::save_edit;
use crate::access::entities::{self as access, fields_of, uid_of, uids_of};
use crate::access::entity_fields::STATUSES;
use crate::access::issues::check_version_of;
use crate::access::Guard;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::render::Renderer;
use crate::routes::entities::remove;
use crate::routes::queues;

const KIND: &str = "project";

/// The older API's names of the entity's fields.
const NAMES: [(&str, &str); 8] = [
    ("name", "summary"),
    ("description", "description"),
    ("lead", "lead"),
    ("status", "entityStatus"),
    ("startDate", "start"),
    ("endDate", "end"),
    ("queues", "queues"),
    ("teamUsers", "teamUsers"),
];

/// The older API's statuses: the first four of the entity's, in capitals.
const OLD_STATUSES: usize = 4;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    pub expand: Option<String>,
    pub version: Option<i64>,
}

fn wants_queues(p: &Params) -> bool {
    p.expand
        .as_deref()
        .unwrap_or("")
        .split(',')
        .any(|e| matches!(e.trim(), "queues" | "all"))
}

/// A project as the older API answers it.
async fn render(r: &mut Renderer<'_>, e: &EntityRecord, with_queues: bool) -> ApiResult<Value> {
    let f = fields_of(e);
    let name = f.get("summary").cloned().unwrap_or(Value::Null);
    let mut v = json!({
        "self": r.links.api(&format!("projects/{}", e.short_id)),
        "id": e.short_id.to_string(),
        // The same project in the entities API.
        "entityId": e.id,
        "version": e.version,
        "key": name,
        "name": name,
        "description": f.get("description").cloned().unwrap_or(Value::Null),
        "status": f.get("entityStatus").cloned().unwrap_or(Value::Null),
        "startDate": f.get("start").cloned().unwrap_or(Value::Null),
        "endDate": f.get("end").cloned().unwrap_or(Value::Null),
        "teamUsers": r.users(&uids_of(&f, "teamUsers")).await?,
    });
    if let Some(lead) = uid_of(&f, "lead") {
        v["lead"] = r.user(lead).await?;
    }
    if with_queues {
        let mut out = Vec::new();
        for key in queue_keys(&f) {
            if let Some(q) = r.store().queue_by_key(r.org(), &key).await? {
                out.push(r.queue_ref(&q));
            }
        }
        v["queues"] = Value::Array(out);
    }
    Ok(v)
}

fn queue_keys(f: &Map<String, Value>) -> Vec<String> {
    f.get("queues")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The body's fields under the entity's names; an unknown one is refused.
fn to_entity_fields(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    for (key, v) in body {
        let Some((_, to)) = NAMES.iter().find(|(from, _)| from == key) else {
            return Err(ApiError::field(key, "Unknown project field"));
        };
        let v = if *to == "entityStatus" {
            match v.as_str().map(str::to_ascii_lowercase) {
                Some(s) if STATUSES[..OLD_STATUSES].contains(&s.as_str()) => json!(s),
                _ => {
                    return Err(ApiError::field(
                        "status",
                        "Expected DRAFT, IN_PROGRESS, LAUNCHED or POSTPONED",
                    ))
                }
            }
        } else {
            v.clone()
        };
        out.insert((*to).to_owned(), v);
    }
    Ok(out)
}

/// The project an id of either API names, if the caller may do `perm`.
async fn find(cx: &Api, id: &str, perm: Perm) -> ApiResult<EntityRecord> {
    let found = match id.parse::<i64>() {
        Ok(short) => {
            cx.store
                .entity_by_short_id(cx.principal.org.id, KIND, short)
                .await?
        }
        Err(_) => cx.store.entity(cx.principal.org.id, id).await?,
    };
    let e = found
        .filter(|e| e.entity_type == KIND)
        .ok_or_else(|| ApiError::NotFound(format!("Project {id} not found")))?;
    access::require(&cx.principal, &e, perm)?;
    Ok(e)
}

pub async fn create(
    cx: Api,
    ApiQuery(params): ApiQuery<Params>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    if !body.contains_key("name") {
        return Err(ApiError::field("name", "Required: the project's name"));
    }
    if !body.contains_key("queues") {
        return Err(ApiError::field("queues", "Required: the project's queues"));
    }
    let e = access::create(&cx.state, &cx.principal, KIND, &to_entity_fields(&body)?).await?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, &e, wants_queues(&params)).await?,
    ))
}

pub async fn list(cx: Api, ApiQuery(params): ApiQuery<Params>) -> ApiResult<Json<Value>> {
    let mut r = cx.renderer();
    let mut out = Vec::new();
    for e in cx.store.list_entities(cx.principal.org.id, KIND).await? {
        if access::allows(&cx.principal, &e, Perm::Read) {
            out.push(render(&mut r, &e, wants_queues(&params)).await?);
        }
    }
    Ok(Json(Value::Array(out)))
}

pub async fn get(
    cx: Api,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Json<Value>> {
    let e = find(&cx, &id, Perm::Read).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &e, wants_queues(&params)).await?))
}

/// `PUT` (the reference) and `PATCH` (what the official client sends).
pub async fn update(
    cx: Api,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<Params>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let e = find(&cx, &id, Perm::Write).await?;
    check_version_of("project", e.version, params.version, &headers)?;
    let fields = to_entity_fields(&body)?;
    let saved = save_edit(&cx.state, &cx.principal, e, &fields, None, Vec::new()).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &saved, wants_queues(&params)).await?))
}

pub async fn delete(cx: Api, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let e = find(&cx, &id, Perm::Grant).await?;
    remove(&cx, &e).await
}

/// The project's queues the caller may read, as `GET /v2/queues/{key}`
/// answers each.
pub async fn queues(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let e = find(&cx, &id, Perm::Read).await?;
    let mut guard = Guard::new(&cx.state, &cx.principal);
    let mut out = Vec::new();
    for key in queue_keys(&fields_of(&e)) {
        let Some(q) = cx.store.queue_by_key(cx.principal.org.id, &key).await? else {
            continue;
        };
        if q.deleted_at.is_none() && guard.queue_allows(&q, Perm::Read).await? {
            out.push(queues::render(&cx.state, &q, &cx.links).await?);
        }
    }
    Ok(Json(Value::Array(out)))
}
