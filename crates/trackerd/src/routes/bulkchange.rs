//! Bulk changes: `POST /v2/bulkchange/_update`, `_transition`, `_move`
//! create a job and answer it at once; the background worker
//! ([`crate::jobs`]) applies it issue by issue. `GET /v2/bulkchange/{id}`
//! reports its progress, `GET /v2/bulkchange/{id}/issues` the issues it
//! could not change and why.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_domain::workflow;
use tracker_store::{JobRecord, JobSpec, NewJob};

use crate::access::entities::kind as entity_kind;
use crate::access::issues::required_queue;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::fields::ident;
use crate::fields::FieldErrors;
use crate::ids::object_id;
use crate::jobs::{BulkPayload, BULK_MOVE, BULK_TRANSITION, BULK_UPDATE, ENTITIES_UPDATE, KINDS};
use crate::paging::{Page, PageParams};
use crate::render::time;
use crate::routes::entities;
use crate::routes::search::matching_keys;

pub async fn update(cx: Api, ApiJson(body): ApiJson<Value>) -> ApiResult<Response> {
    let body = object(body)?;
    let mut errors = FieldErrors::default();
    let values = values(&body, &mut errors, true);
    errors.into_result()?;
    create(
        &cx,
        targets(&cx, &body).await?,
        BULK_UPDATE,
        BulkPayload {
            values,
            ..payload(&cx)
        },
    )
    .await
}

pub async fn transition(cx: Api, ApiJson(body): ApiJson<Value>) -> ApiResult<Response> {
    let body = object(body)?;
    let mut errors = FieldErrors::default();
    let values = values(&body, &mut errors, false);
    let transition = match body.get("transition") {
        None | Some(Value::Null) => {
            errors.add("transition", "Required field");
            None
        }
        Some(Value::String(id)) if workflow::is_known_transition(id) => Some(id.clone()),
        Some(Value::String(id)) => {
            errors.add("transition", format!("Transition {id} not found"));
            None
        }
        Some(_) => {
            errors.add("transition", "Expected a transition id");
            None
        }
    };
    errors.into_result()?;
    let payload = BulkPayload {
        values,
        transition,
        ..payload(&cx)
    };
    create(&cx, targets(&cx, &body).await?, BULK_TRANSITION, payload).await
}

pub async fn move_issues(cx: Api, ApiJson(body): ApiJson<Value>) -> ApiResult<Response> {
    let body = object(body)?;
    let mut errors = FieldErrors::default();
    let values = values(&body, &mut errors, false);
    let org = cx.principal.org.id;
    let queue = required_queue(&cx.state, org, &body, &mut errors).await?;
    let queue = queue.map(|q| q.key);
    let mut flag = |name: &str| match body.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.add(name, "Expected true or false");
            false
        }
    };
    let move_all_fields = flag("moveAllFields");
    let initial_status = flag("initialStatus");
    errors.into_result()?;
    let payload = BulkPayload {
        values,
        queue,
        move_all_fields,
        initial_status,
        ..payload(&cx)
    };
    create(&cx, targets(&cx, &body).await?, BULK_MOVE, payload).await
}

/// `POST /v2/entities/{type}/bulkchange/_update`: the same fields, comment
/// and links on each entity `metaEntities` names. The fields are checked
/// once here, so a misspelt one fails the request rather than every item.
pub async fn update_entities(
    cx: Api,
    Path(kind_segment): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let kind = entity_kind(&kind_segment)?;
    let body = object(body)?;
    let mut errors = FieldErrors::default();
    let values = values(&body, &mut errors, true);
    let ids = match body.get("metaEntities") {
        Some(Value::Array(items)) => items
            .iter()
            .map(ident)
            .collect::<Option<Vec<String>>>()
            .ok_or("Expected entity ids (strings)"),
        None | Some(Value::Null) => Err("Required field"),
        Some(_) => Err("Expected a list of entity ids"),
    };
    let ids = errors.or_default("metaEntities", ids);
    errors.into_result()?;
    let empty = Map::new();
    let fields = entities::fields_object(&values)?.unwrap_or(&empty).clone();
    let comment = entities::comment_in(&values)?;
    let mut probe = crate::access::entities::fresh(&cx.principal, kind, cx.clock.now());
    crate::access::entity_fields::parse_fields(&cx.state, cx.principal.org.id, &mut probe, &fields)
        .await?;
    let links = match values.get("links") {
        None | Some(Value::Null) => None,
        Some(l @ (Value::Array(_) | Value::Object(_))) => Some(l.clone()),
        Some(_) => return Err(ApiError::field("links", "Expected a list of links")),
    };
    let targets = within_limit(&cx, "metaEntities", ids)?;
    let payload = BulkPayload {
        values: fields,
        entity_type: Some(kind.to_owned()),
        comment,
        links,
        ..payload(&cx)
    };
    create(&cx, targets, ENTITIES_UPDATE, payload).await
}

pub async fn get(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let job = find(&cx, &id).await?;
    Ok(Json(view(&cx, &job).await?))
}

/// The issues the change could not make, a page at a time: each with its
/// key and the error a single request on it would have answered.
pub async fn failed_issues(
    cx: Api,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let job = find(&cx, &id).await?;
    let page = Page::from_params(&params)?;
    let (items, total) = cx
        .store
        .failed_items(job.pk, page.offset(), page.size)
        .await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let error: Value = serde_json::from_str(&item.error).unwrap_or(Value::Null);
        // An entity job's items name entities by id; an issue job's, issues.
        let issue = match (job.spec.kind == ENTITIES_UPDATE, item.issue_pk) {
            (true, _) => json!({ "id": item.target }),
            (false, Some(pk)) => cx.renderer().issue_ref(pk).await?,
            (false, None) => json!({ "key": item.target }),
        };
        out.push(json!({
            "issue": issue,
            "status": "FAILED",
            "statusText": error["errorMessages"]
                .get(0)
                .cloned()
                .or_else(|| error["errors"].as_object().and_then(|e| e.values().next().cloned()))
                .unwrap_or(Value::Null),
            "error": error,
        }));
    }
    let url = cx.links.api(&format!("bulkchange/{}/issues", job.spec.id));
    let headers = page.headers(total, &url, raw.as_deref());
    Ok((headers, Json(Value::Array(out))).into_response())
}

fn object(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::BadRequest(
            "The request body must be a JSON object".into(),
        )),
    }
}

/// The fields every issue gets (`values`), as an edit's body.
fn values(
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
    required: bool,
) -> Map<String, Value> {
    let values = match body.get("values") {
        Some(Value::Object(v)) => Ok(v.clone()),
        None | Some(Value::Null) if !required => Ok(Map::new()),
        None | Some(Value::Null) => Err("Required field"),
        Some(_) => Err("Expected an object of issue fields"),
    };
    errors.or_default("values", values)
}

fn payload(cx: &Api) -> BulkPayload {
    BulkPayload {
        org_id: cx.principal.org.org_id.clone(),
        token_id: cx.principal.token_id,
        ..BulkPayload::default()
    }
}

/// The issues `issues` names: a list of keys or ids, or a query.
async fn targets(cx: &Api, body: &Map<String, Value>) -> ApiResult<Vec<String>> {
    let targets = match body.get("issues") {
        None | Some(Value::Null) => return Err(ApiError::field("issues", "Required field")),
        Some(Value::String(query)) if !query.trim().is_empty() => {
            matching_keys(&cx.state, &cx.principal, query).await?
        }
        Some(Value::Array(items)) => {
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() => keys.push(s.trim().to_owned()),
                    Value::Number(n) => keys.push(n.to_string()),
                    _ => {
                        return Err(ApiError::field(
                            "issues",
                            "Expected issue keys or ids (strings)",
                        ))
                    }
                }
            }
            keys
        }
        Some(_) => {
            return Err(ApiError::field(
                "issues",
                "Expected a list of issue keys or a query",
            ))
        }
    };
    within_limit(cx, "issues", targets)
}

/// `targets` if there are some and no more than a bulk change may name.
fn within_limit(cx: &Api, field: &str, targets: Vec<String>) -> ApiResult<Vec<String>> {
    let max = cx.config.jobs.max_bulk_issues;
    if targets.is_empty() {
        return Err(ApiError::field(field, "Nothing to change"));
    }
    if targets.len() > max {
        return Err(ApiError::field(
            field,
            format!(
                "A bulk change may name at most {max} objects (jobs.max_bulk_issues), not {}",
                targets.len()
            ),
        ));
    }
    Ok(targets)
}

async fn create(
    cx: &Api,
    targets: Vec<String>,
    kind: &str,
    payload: BulkPayload,
) -> ApiResult<Response> {
    let now = cx.clock.now();
    let job = cx
        .store
        .create_job(&NewJob {
            spec: JobSpec {
                id: object_id(now),
                org: cx.principal.org.id,
                kind: kind.to_owned(),
                created_by: cx.principal.user.uid,
                created_at: now,
                payload: serde_json::to_string(&payload).map_err(ApiError::internal)?,
            },
            targets,
        })
        .await?;
    Ok(json(StatusCode::CREATED, &view(cx, &job).await?))
}

async fn find(cx: &Api, id: &str) -> ApiResult<JobRecord> {
    cx.store
        .job(cx.principal.org.id, id)
        .await?
        .filter(|j| KINDS.contains(&j.spec.kind.as_str()))
        // A bulk change is its author's (and the administrators'): to other
        // members it does not exist.
        .filter(|j| j.spec.created_by == cx.principal.user.uid || cx.principal.org_admin)
        .ok_or_else(|| ApiError::NotFound(format!("Bulk change {id} not found")))
}

/// Whole percent of `part` in `total`, rounded down (100 only when done).
fn percent(part: i64, total: i64) -> i64 {
    if total <= 0 {
        100
    } else {
        part.saturating_mul(100) / total
    }
}

/// Issues the worker claims at once: the "chunks" whose progress
/// `executionChunkPercent` reports.
fn chunk_size(cx: &Api) -> i64 {
    i64::try_from(cx.config.jobs.batch_size).unwrap_or(1).max(1)
}

async fn view(cx: &Api, job: &JobRecord) -> ApiResult<Value> {
    let finished = job.finished();
    let (status, text) = if finished == 0 {
        ("CREATED", "Bulk change task created.".to_owned())
    } else if finished < job.total {
        ("IN_PROGRESS", "Bulk change task in progress.".to_owned())
    } else if job.done == 0 {
        (
            "FAILED",
            "Bulk change failed: no issue could be changed.".to_owned(),
        )
    } else if job.failed > 0 {
        (
            "COMPLETE",
            format!(
                "Bulk change completed: {} issues changed, {} failed.",
                job.done, job.failed
            ),
        )
    } else {
        ("COMPLETE", "Bulk change completed.".to_owned())
    };
    let chunk = chunk_size(cx);
    let chunks = (job.total + chunk - 1) / chunk;
    Ok(json!({
        "id": job.spec.id,
        "self": cx.links.api(&format!("bulkchange/{}", job.spec.id)),
        "createdBy": cx.renderer().user(job.spec.created_by).await?,
        "createdAt": time(&job.spec.created_at),
        "status": status,
        "statusText": text,
        "executionChunkPercent": percent(
            if finished == job.total { chunks } else { finished / chunk },
            chunks
        ),
        "executionIssuePercent": percent(finished, job.total),
        "totalIssues": job.total,
        "totalCompletedIssues": job.done,
        "totalFailedIssues": job.failed,
    }))
}
