//! The first queue calls: create, get, list. Queue settings belong to the
//! organization's administrators until the permission model arrives.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_api::Reference;
use tracker_domain::dictionaries;
use tracker_store::{NewQueue, QueueRecord, WriteOutcome};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, Links, OptionalJson};
use crate::state::AppState;
use tracker_domain::permissions::Perm;

use crate::access::issues::{update_write, write_fresh_in_queue};
use crate::access::queues::{find_any, find_for, find_live, valid_queue_key};
use crate::access::{issue_types, Guard};
use crate::fields::{self, FieldChange, FieldErrors};
use crate::paging::Paged;
use crate::routes::catalog;

pub async fn render(state: &AppState, q: &QueueRecord, links: &Links) -> ApiResult<Value> {
    let base = render_base(state, q, links).await?;
    let mut v = serde_json::to_value(base).map_err(ApiError::internal)?;
    let dict = |collection: &str, d: &'static [dictionaries::Entry], key: &str| {
        dictionaries::by_key(d, key).map(|e| {
            json!({
                "self": links.api(&format!("{collection}/{}", e.id)),
                "id": e.id.to_string(),
                "key": e.key,
                "display": e.display,
            })
        })
    };
    v["defaultType"] = json!(dict(
        "issuetypes",
        dictionaries::ISSUE_TYPES,
        &q.default_type
    ));
    v["defaultPriority"] = json!(dict(
        "priorities",
        dictionaries::PRIORITIES,
        &q.default_priority
    ));
    v["issueTypes"] = issue_types::types_json(q, links);
    Ok(v)
}

async fn render_expanded(
    state: &AppState,
    q: &QueueRecord,
    links: &Links,
    expand: Option<&str>,
) -> ApiResult<Value> {
    let mut v = render(state, q, links).await?;
    let expand: Vec<&str> = expand.unwrap_or("").split(',').map(str::trim).collect();
    let wants = |what: &str| expand.contains(&what) || expand.contains(&"all");
    if wants("workflows") {
        v["workflows"] = json!({ "default": [crate::render::workflow_json(links)] });
    }
    if wants("issueTypesConfig") {
        v["issueTypesConfig"] = issue_types::config_json(q, links);
    }
    if wants("versions") {
        v["versions"] = catalog::queue_versions(state, links, q).await?;
    }
    if wants("components") {
        v["components"] = catalog::queue_components(state, links, q).await?;
    }
    if wants("projects") {
        v["projects"] = json!([]);
    }
    if wants("team") {
        v["teamUsers"] = json!([]);
    }
    Ok(v)
}

async fn render_base(
    state: &AppState,
    q: &QueueRecord,
    links: &Links,
) -> ApiResult<tracker_api::Queue> {
    let lead = state.store.user_by_uid(q.lead_uid).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "queue {} has a lead that does not exist",
            q.key
        ))
    })?;
    Ok(tracker_api::Queue {
        self_url: links.api(&format!("queues/{}", q.key)),
        id: q.id,
        key: q.key.clone(),
        version: q.version,
        name: q.name.clone(),
        description: q.description.clone(),
        lead: Reference {
            self_url: links.api(&format!("users/{}", lead.uid)),
            id: lead.uid.to_string(),
            key: None,
            display: lead.display(),
        },
        assign_auto: false,
        deny_voting: false,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQueue {
    pub key: Option<String>,
    pub name: Option<String>,
    pub lead: Option<Value>,
    pub description: Option<String>,
    pub default_type: Option<Value>,
    pub default_priority: Option<Value>,
    /// The queue's types and their resolutions; all of them when absent.
    pub issue_types_config: Option<Value>,
}

/// The default type must be one of the queue's types (checked only once
/// both are valid, so one mistake is reported once).
fn check_default_type(issue_types: &str, default_type: &str, errors: &mut FieldErrors) {
    if errors.is_empty()
        && !default_type.is_empty()
        && !issue_types::has_type(issue_types, default_type)
    {
        errors.add(
            "defaultType",
            format!("The default type {default_type} must be one of the queue's issue types"),
        );
    }
}

fn require_admin(principal: &Principal) -> ApiResult<()> {
    principal.require_org_admin("Only organization administrators may change queue settings")
}

pub async fn create(cx: Api, ApiJson(body): ApiJson<CreateQueue>) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let mut errors = FieldErrors::default();
    let key = body
        .key
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    if body.key.is_none() {
        errors.add("key", "Required field");
    } else if !valid_queue_key(&key) {
        errors.add("key", "The queue key must be 1 to 15 Latin letters");
    }
    let name = match body.name.as_deref() {
        None => {
            errors.add("name", "Required field");
            String::new()
        }
        Some(n) => crate::fields::name(&Value::String(n.to_owned()))
            .map_err(|e| errors.add("name", e))
            .unwrap_or_default(),
    };
    let lead = match &body.lead {
        None => {
            errors.add("lead", "Required field");
            None
        }
        Some(v) => match fields::user(&cx.state, cx.principal.org.id, v).await? {
            Ok(Some(uid)) => Some(uid),
            Ok(None) => {
                errors.add("lead", "Required field");
                None
            }
            Err(e) => {
                errors.add("lead", e);
                None
            }
        },
    };
    // The key of a dictionary entry a field names, the default when unset.
    type Dict = &'static [dictionaries::Entry];
    let mut default_of = |field: &str, v: &Option<Value>, dict: Dict, default: &str| match v
        .as_ref()
        .map(|v| fields::dict(v, dict))
    {
        None | Some(Ok(None)) => default.to_owned(),
        Some(Ok(Some(e))) => e.key.to_owned(),
        Some(Err(e)) => {
            errors.add(field, e);
            String::new()
        }
    };
    let default_type = default_of(
        "defaultType",
        &body.default_type,
        dictionaries::ISSUE_TYPES,
        dictionaries::DEFAULT_TYPE,
    );
    let default_priority = default_of(
        "defaultPriority",
        &body.default_priority,
        dictionaries::PRIORITIES,
        dictionaries::DEFAULT_PRIORITY,
    );
    let issue_types = match &body.issue_types_config {
        None | Some(Value::Null) => String::new(),
        Some(v) => issue_types::parse(v, &mut errors),
    };
    check_default_type(&issue_types, &default_type, &mut errors);
    errors.into_result()?;
    let lead_uid =
        lead.ok_or_else(|| ApiError::internal(anyhow::anyhow!("lead missing after validation")))?;
    let queue = cx
        .store
        .create_queue(
            cx.principal.org.id,
            &NewQueue {
                key: key.clone(),
                name,
                description: body.description,
                lead_uid,
                default_type,
                default_priority,
                created_at: cx.clock.now(),
                issue_types,
            },
        )
        .await
        .map_err(ApiError::on_conflict(format!("Queue {key} already exists")))?;
    Ok(json(
        StatusCode::CREATED,
        &render(&cx.state, &queue, &cx.links).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct ExpandParam {
    pub expand: Option<String>,
}

pub async fn get(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ExpandParam>,
) -> ApiResult<Json<Value>> {
    let queue = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(
        render_expanded(&cx.state, &queue, &cx.links, params.expand.as_deref()).await?,
    ))
}

pub async fn update(
    cx: Api,
    Path(key): Path<String>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let mut q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    let mut errors = FieldErrors::default();
    for (field, v) in &body {
        match field.as_str() {
            "name" => match crate::fields::name(v) {
                Ok(n) => q.name = n,
                Err(e) => errors.add(field, e),
            },
            "description" => match v {
                Value::String(d) => q.description = Some(d.clone()),
                Value::Null => q.description = None,
                _ => errors.add(field, "The description must be a string"),
            },
            "lead" => match fields::user(&cx.state, cx.principal.org.id, v).await? {
                Ok(Some(uid)) => q.lead_uid = uid,
                Ok(None) => errors.add(field, "A queue needs a lead"),
                Err(e) => errors.add(field, e),
            },
            "defaultType" => match fields::dict(v, dictionaries::ISSUE_TYPES) {
                Ok(Some(e)) => q.default_type = e.key.to_owned(),
                Ok(None) => errors.add(field, "Required"),
                Err(e) => errors.add(field, e),
            },
            "defaultPriority" => match fields::dict(v, dictionaries::PRIORITIES) {
                Ok(Some(e)) => q.default_priority = e.key.to_owned(),
                Ok(None) => errors.add(field, "Required"),
                Err(e) => errors.add(field, e),
            },
            "issueTypesConfig" => q.issue_types = issue_types::parse(v, &mut errors),
            "version" => {}
            other => errors.add(other, "Unknown or read-only queue field"),
        }
    }
    check_default_type(&q.issue_types, &q.default_type, &mut errors);
    errors.into_result()?;
    if cx.store.update_queue(&q).await? == WriteOutcome::VersionConflict {
        return Err(ApiError::Conflict(
            "The queue was changed by someone else; retry".into(),
        ));
    }
    let q = find_live(&cx.state, &cx.principal, &key).await?;
    Ok(Json(render(&cx.state, &q, &cx.links).await?))
}

pub async fn delete(cx: Api, Path(key): Path<String>) -> ApiResult<StatusCode> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    cx.state
        .store
        .set_queue_deleted(cx.principal.org.id, q.id, Some(cx.clock.now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_any(&cx.state, &cx.principal, &key).await?;
    Guard::new(&cx.state, &cx.principal)
        .require_queue(&q, Perm::Grant)
        .await?;
    if q.deleted_at.is_none() {
        return Err(ApiError::Conflict(format!("Queue {key} is not deleted")));
    }
    cx.state
        .store
        .set_queue_deleted(cx.principal.org.id, q.id, None)
        .await?;
    let q = find_live(&cx.state, &cx.principal, &key).await?;
    Ok(Json(render(&cx.state, &q, &cx.links).await?))
}

pub async fn versions(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(
        catalog::queue_versions(&cx.state, &cx.links, &q).await?,
    ))
}

pub async fn components(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(
        catalog::queue_components(&cx.state, &cx.links, &q).await?,
    ))
}

pub async fn tags(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(json!(cx.store.queue_tags(q.id).await?)))
}

/// Removes a tag from every issue of the queue that carries it: each issue
/// is one versioned write with its changelog entry, as if edited by hand.
/// Tracker refuses to remove a tag still in use; trackerd's queue tags are
/// the tags its issues carry, so that refusal would leave nothing
/// removable (see docs/COMPATIBILITY.md).
pub async fn remove_tag(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult<StatusCode> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    let tag = match body.get("tag") {
        None | Some(Value::Null) => return Err(ApiError::field("tag", "Required field")),
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(_) => return Err(ApiError::field("tag", "Expected a non-empty string")),
    };
    let pks = cx.store.issues_with_tag(q.id, &tag).await?;
    if pks.is_empty() {
        return Err(ApiError::NotFound(format!(
            "Queue {} has no tag {tag:?}",
            q.key
        )));
    }
    let now = cx.clock.now();
    for pk in pks {
        write_fresh_in_queue(&cx.state, &q, pk, |mut issue| {
            let old = issue.tags.clone();
            issue.tags.retain(|t| *t != tag);
            if issue.tags.len() == old.len() {
                return None;
            }
            let change = FieldChange {
                field: "tags".into(),
                from: json!(old),
                to: json!(issue.tags),
            };
            Some(update_write(&cx.principal, issue, now, &[change]))
        })
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn queue_fields(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    let mut all = crate::routes::fields::global_fields(&cx).await?;
    all.extend(crate::routes::fields::local_fields(&cx, &q).await?);
    Ok(Json(Value::Array(all)))
}

pub async fn workflows(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Ok(Json(json!([crate::render::workflow_json(&cx.links)])))
}

pub async fn list(cx: Api, paged: Paged) -> ApiResult<Response> {
    // Queues the caller may not read are not counted either; organizations
    // have few queues, so they are filtered here rather than in SQL.
    let (all, _) = cx
        .store
        .list_queues(cx.principal.org.id, 0, i64::MAX)
        .await?;
    let mut guard = Guard::new(&cx.state, &cx.principal);
    let mut visible = Vec::with_capacity(all.len());
    for q in all {
        if guard.queue_allows(&q, Perm::Read).await? {
            visible.push(q);
        }
    }
    let mut body = Vec::new();
    for q in paged.page.of(&visible) {
        body.push(render(&cx.state, q, &cx.links).await?);
    }
    let total = visible.len() as i64;
    Ok(paged.answer(total, &cx.links.api("queues"), body))
}
