//! Import from other trackers: issues, comments and links created with the
//! authors and dates they had there (`POST …/_import`). Everything else is
//! as for their ordinary creation, so imported objects render, list, search
//! and appear in the changelog with the dates given.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tracker_domain::dictionaries;
use tracker_store::{
    CommentRecord, CommentWrite, IssueRecord, NewChangelog, NewIssue, WorklogRecord,
};

use crate::access::issues::{required_queue, simple_write, write_fresh};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::fields::{self, changes_json, FieldChange, FieldErrors, Mode};
use crate::ids::object_id;
use crate::render::{render_issue_with, GetParams};
use crate::routes::{comments, entities, links, worklog};
use crate::state::AppState;

/// The longest summary and texts Tracker accepts.
const MAX_SUMMARY: usize = 255;
const MAX_TEXT: usize = 512_000;

/// Issue fields the reference lists for import that trackerd has nowhere
/// to keep; refused rather than dropped, so an import never loses data
/// silently.
const UNSUPPORTED: &[&str] = &[
    "access",
    "sprint",
    "followingMaillists",
    "votedBy",
    "favoritedBy",
];

/// Fields only an import sets; the rest go through the ordinary field rules.
const IMPORT_ONLY: &[&str] = &[
    "queue",
    "key",
    "unique",
    "status",
    "resolution",
    "createdAt",
    "createdBy",
    "updatedAt",
    "updatedBy",
    "resolvedAt",
    "resolvedBy",
];

fn object(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::BadRequest(
            "The request body must be a JSON object".into(),
        )),
    }
}

fn given<'a>(body: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    body.get(field).filter(|v| !v.is_null())
}

/// The entry of `dict` that `field` names, if given; a bad one is noted.
fn entry(
    body: &Map<String, Value>,
    field: &str,
    dict: &'static [dictionaries::Entry],
    errors: &mut FieldErrors,
) -> Option<dictionaries::Entry> {
    let v = given(body, field)?;
    fields::dict(v, dict).unwrap_or_else(|e| {
        errors.add(field, e);
        None
    })
}

/// A field validation let through missing after all: a bug of trackerd's,
/// not the client's, so a `500` naming what was imported.
fn unchecked(what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("{what} fields missing after validation"))
}

/// A timestamp field: `None` when absent, an error noted when malformed.
fn when(body: &Map<String, Value>, field: &str, errors: &mut FieldErrors) -> Option<DateTime<Utc>> {
    let v = given(body, field)?;
    let parsed = v.as_str().and_then(tracker_api::time::parse);
    if parsed.is_none() {
        errors.add(
            field,
            "Expected a date and time like 2017-08-29T12:34:41.740+0000",
        );
    }
    parsed
}

/// A user field: a login or uid of the organization's member.
async fn who(
    state: &AppState,
    org: i64,
    body: &Map<String, Value>,
    field: &str,
    errors: &mut FieldErrors,
) -> ApiResult<Option<i64>> {
    let Some(v) = given(body, field) else {
        return Ok(None);
    };
    Ok(match fields::user(state, org, v).await? {
        Ok(uid) => uid,
        Err(e) => {
            errors.add(field, e);
            None
        }
    })
}

/// A pair the reference only accepts together (`updatedAt` with
/// `updatedBy`): both or neither.
fn pair<A, B>(
    a: (Option<A>, &str),
    b: (Option<B>, &str),
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> Option<(A, B)> {
    match (a.0, b.0) {
        (Some(x), Some(y)) => Some((x, y)),
        (x, y) => {
            // Only a missing partner is this rule's error; a malformed value
            // has its own.
            if x.is_none() && y.is_some() && given(body, a.1).is_none() {
                errors.add(a.1, format!("Required together with {}", b.1));
            }
            if y.is_none() && x.is_some() && given(body, b.1).is_none() {
                errors.add(b.1, format!("Required together with {}", a.1));
            }
            None
        }
    }
}

fn required<T>(
    v: Option<T>,
    field: &str,
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> Option<T> {
    if v.is_none() && given(body, field).is_none() {
        errors.add(field, "Required field");
    }
    v
}

/// What every imported object carries: when and by whom it was made
/// (required), and when and by whom it was last changed (both or neither).
struct Stamps {
    created_at: Option<DateTime<Utc>>,
    created_by: Option<i64>,
    updated: Option<(DateTime<Utc>, i64)>,
}

async fn stamps(
    state: &AppState,
    org: i64,
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> ApiResult<Stamps> {
    let created_at = when(body, "createdAt", errors);
    let created_at = required(created_at, "createdAt", body, errors);
    let created_by = who(state, org, body, "createdBy", errors).await?;
    let created_by = required(created_by, "createdBy", body, errors);
    let updated_at = when(body, "updatedAt", errors);
    let updated_by = who(state, org, body, "updatedBy", errors).await?;
    let updated = pair(
        (updated_at, "updatedAt"),
        (updated_by, "updatedBy"),
        body,
        errors,
    );
    Ok(Stamps {
        created_at,
        created_by,
        updated,
    })
}

/// `POST /v2/issues/_import`. Only an organization's administrator may
/// import (the reference: "only on behalf of the administrator").
pub async fn issue(cx: Api, ApiJson(body): ApiJson<Value>) -> ApiResult<Response> {
    let body = object(body)?;
    cx.principal
        .require_org_admin("Only an administrator of the organization may import issues")?;
    let org = cx.principal.org.id;
    let now = cx.clock.now();
    let mut errors = FieldErrors::default();
    let queue = required_queue(&cx.state, org, &body, &mut errors).await?;
    match given(&body, "summary") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_SUMMARY => {}
        None => errors.add("summary", "Required field"),
        Some(_) => errors.add(
            "summary",
            format!("The summary must be a non-empty string of at most {MAX_SUMMARY} characters"),
        ),
    }
    if let Some(Value::String(d)) = given(&body, "description") {
        if d.chars().count() > MAX_TEXT {
            errors.add("description", format!("At most {MAX_TEXT} characters"));
        }
    }
    let Stamps {
        created_at,
        created_by,
        updated,
    } = stamps(&cx.state, org, &body, &mut errors).await?;
    let resolved_at = when(&body, "resolvedAt", &mut errors);
    let resolved_by = who(&cx.state, org, &body, "resolvedBy", &mut errors).await?;
    let resolution = entry(&body, "resolution", dictionaries::RESOLUTIONS, &mut errors);
    let resolved = match pair(
        (resolved_at, "resolvedAt"),
        (resolved_by, "resolvedBy"),
        &body,
        &mut errors,
    ) {
        Some((at, by)) => match resolution {
            Some(r) => Some((at, by, r)),
            None => {
                if given(&body, "resolution").is_none() {
                    errors.add(
                        "resolution",
                        "Required together with resolvedAt and resolvedBy",
                    );
                }
                None
            }
        },
        None => {
            if resolution.is_some() && resolved_at.is_none() && resolved_by.is_none() {
                errors.add("resolvedAt", "Required together with resolution");
            }
            None
        }
    };
    let status = entry(&body, "status", dictionaries::STATUSES, &mut errors);
    let unique = match given(&body, "unique") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            errors.add("unique", "Expected a non-empty string");
            None
        }
    };
    let key = match (given(&body, "key"), &queue) {
        (None, _) | (_, None) => None,
        (Some(v), Some(q)) => {
            let number = v
                .as_str()
                .and_then(|k| {
                    k.trim()
                        .to_ascii_uppercase()
                        .strip_prefix(&format!("{}-", q.key))
                        .map(str::to_owned)
                })
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n >= 1 && !n.to_string().starts_with('0'));
            match number {
                Some(n) => Some((format!("{}-{n}", q.key), n)),
                None => {
                    errors.add(
                        "key",
                        format!(
                            "The key must be {}-<number>: an issue key of the queue",
                            q.key
                        ),
                    );
                    None
                }
            }
        }
    };
    for field in UNSUPPORTED {
        if given(&body, field).is_some() {
            errors.add(field, "Importing this field is not supported by trackerd");
        }
    }
    // The dates in the order the reference sets: creation no later than
    // now, the last update between creation and now, the resolution
    // between creation and the last update.
    let last_update = updated.map(|(at, _)| at).or(created_at);
    if let Some(c) = created_at {
        if c > now {
            errors.add("createdAt", "The creation cannot be later than now");
        }
        if let Some((u, _)) = updated {
            if u < c || u > now {
                errors.add(
                    "updatedAt",
                    "The last update must lie between the creation and now",
                );
            }
        }
        if let (Some((r, _, _)), Some(u)) = (&resolved, last_update) {
            if *r < c || *r > u {
                errors.add(
                    "resolvedAt",
                    "The resolution must lie between the creation and the last update",
                );
            }
        }
    }
    errors.into_result()?;
    let (Some(queue), Some(created_at), Some(author)) = (queue, created_at, created_by) else {
        return Err(unchecked("import"));
    };
    if let Some(u) = &unique {
        if let Some(existing) = cx.store.issue_by_unique(org, u).await? {
            return Err(ApiError::Conflict(format!(
                "An issue with unique {u:?} already exists: {}",
                existing.key
            )));
        }
    }
    let (updated_at, updated_by) = updated.unwrap_or((created_at, author));
    let status = status
        .map(|s| s.key.to_owned())
        .unwrap_or_else(|| dictionaries::INITIAL_STATUS.to_owned());
    let mut issue = IssueRecord {
        status: status.clone(),
        resolution: resolved.map(|(_, _, r)| r.key.to_owned()),
        updated_by,
        updated_at,
        resolved_at: resolved.map(|(at, _, _)| at),
        // When the issue entered its status is not imported: the
        // resolution's time for a resolved issue, else its creation.
        status_start_time: resolved.map(|(at, _, _)| at).unwrap_or(created_at),
        ..crate::access::issues::fresh_issue(org, &queue, author, created_at, unique)
    };
    let rest: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| !IMPORT_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut changes = fields::apply(
        &cx.state,
        org,
        &mut issue,
        &rest,
        Mode::Create,
        Some(&queue),
    )
    .await?;
    if let Some((_, by, _)) = resolved {
        let mut extra: Map<String, Value> = serde_json::from_str(&issue.extra).unwrap_or_default();
        extra.insert("resolvedBy".into(), json!(by));
        issue.extra = Value::Object(extra).to_string();
    }
    changes.insert(
        0,
        FieldChange {
            field: "status".into(),
            from: Value::Null,
            to: json!(status),
        },
    );
    if let Some(r) = &issue.resolution {
        changes.push(FieldChange {
            field: "resolution".into(),
            from: Value::Null,
            to: json!(r),
        });
    }
    // The history starts where it started elsewhere: with its author, then.
    let entry = NewChangelog {
        id: object_id(created_at),
        kind: "IssueCreated".into(),
        updated_by: author,
        updated_at: created_at,
        fields: changes_json(&changes),
        data: json!({ "imported": true }).to_string(),
    };
    let new = NewIssue {
        issue,
        changelog: entry,
        // Files come with their own import (`…/attachments/_import`).
        attachments: None,
    };
    let created = cx
        .store
        .import_issue(&new, key.as_ref().map(|(k, n)| (k.as_str(), *n)))
        .await
        .map_err(|e| match e {
            tracker_store::StoreError::Conflict(_) => match &key {
                Some((k, _)) => ApiError::Conflict(format!(
                    "Issue {k} already exists, or an issue had this key before it moved"
                )),
                None => ApiError::Conflict("An issue with this unique value already exists".into()),
            },
            e => e.into(),
        })?;
    Ok(json(
        StatusCode::OK,
        &render_issue_with(
            &mut cx
                .renderer()
                .knowing(&cx.principal.user, Some(&queue))
                .at(now),
            &cx.links,
            &created,
            &GetParams::default(),
        )
        .await?,
    ))
}

/// The span an imported comment's dates must lie in: the issue's life.
fn within(issue: &IssueRecord, at: DateTime<Utc>) -> bool {
    at >= issue.created_at && at <= issue.updated_at
}

/// `POST /v2/issues/{key}/comments/_import`: needs the right to change the
/// issue, like commenting.
pub async fn comment(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let body = object(body)?;
    let issue = cx.issue(&key).await?;
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let text = match given(&body, "text") {
        Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= MAX_TEXT => {
            Ok(Some(t.clone()))
        }
        None => Err("Required field".to_owned()),
        Some(_) => Err(format!(
            "The text must be a non-empty string of at most {MAX_TEXT} characters"
        )),
    };
    let text = errors.or_default("text", text);
    let Stamps {
        created_at,
        created_by,
        updated,
    } = stamps(&cx.state, org, &body, &mut errors).await?;
    if let Some(c) = created_at {
        if !within(&issue, c) {
            errors.add(
                "createdAt",
                "The comment must be created between the issue's creation and its last update",
            );
        }
        if let Some((u, _)) = updated {
            if u < c || !within(&issue, u) {
                errors.add(
                    "updatedAt",
                    "The comment must be updated between its creation and the issue's last update",
                );
            }
        }
    }
    errors.into_result()?;
    let (Some(text), Some(created_at), Some(author)) = (text, created_at, created_by) else {
        return Err(unchecked("comment"));
    };
    let (updated_at, updated_by) = updated.unwrap_or((created_at, author));
    let comment = CommentRecord {
        pk: 0,
        id: object_id(created_at),
        issue_pk: issue.pk,
        text,
        summonees: Vec::new(),
        author,
        updated_by,
        created_at,
        updated_at,
        version: 1,
    };
    let comment_id = comment.id.clone();
    // History, not a change now: the issue's update time stays as it was.
    let saved = write_fresh(&cx.state, &cx.principal, issue, |mut issue| {
        issue.comment_count += 1;
        issue.last_comment_updated_at = Some(
            issue
                .last_comment_updated_at
                .map_or(updated_at, |t| t.max(updated_at)),
        );
        let entry = NewChangelog {
            id: object_id(created_at),
            kind: "IssueCommentAdded".into(),
            updated_by: author,
            updated_at: created_at,
            fields: "[]".into(),
            data: json!({ "comment": comment.id, "imported": true }).to_string(),
        };
        let mut w = simple_write(issue, entry);
        w.comment = Some(CommentWrite::Insert(comment.clone()));
        Ok(w)
    })
    .await?;
    let c = cx
        .store
        .comment(saved.pk, &comment_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("comment vanished after import")))?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::OK,
        &comments::render(&mut r, &saved, &c).await?,
    ))
}

/// `POST /v2/issues/{key}/links/_import`: needs the right to change the
/// issue, like linking.
pub async fn link(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let body = object(body)?;
    let issue = cx.issue(&key).await?;
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let relationship = match given(&body, "relationship") {
        Some(Value::String(r)) => Ok(Some(r.clone())),
        None => Err("Required field"),
        Some(_) => Err("Expected a relationship name such as relates"),
    };
    let relationship = errors.or_default("relationship", relationship);
    let other = match given(&body, "issue") {
        None => Err("Required field"),
        Some(v) => fields::ident(v)
            .map(Some)
            .ok_or("Expected an issue key or id"),
    };
    let other = errors.or_default("issue", other);
    let Stamps {
        created_at,
        created_by,
        updated,
    } = stamps(&cx.state, org, &body, &mut errors).await?;
    errors.into_result()?;
    let (Some(relationship), Some(other), Some(created_at), Some(created_by)) =
        (relationship, other, created_at, created_by)
    else {
        return Err(unchecked("link"));
    };
    let (updated_at, updated_by) = updated.unwrap_or((created_at, created_by));
    let origin = links::Origin {
        created_by,
        created_at,
        updated_by,
        updated_at,
        imported: true,
    };
    links::link_and_answer(&cx, issue, &relationship, &other, origin, StatusCode::OK).await
}

/// `POST /v2/issues/{key}/worklogs/_import` (the official client's path;
/// `…/worklog/_import` too): a record of time spent, with the author and
/// dates it had. Needs the right to change the issue, like adding one.
pub async fn worklog(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let body = object(body)?;
    let issue = cx.issue(&key).await?;
    let mut errors = FieldErrors::default();
    let required = |field: &str| ApiError::field(field, "Required field");
    let start = errors.note(
        given(&body, "start")
            .ok_or_else(|| required("start"))
            .and_then(|v| worklog::time_field("start", v)),
    )?;
    let duration = errors.note(
        given(&body, "duration")
            .ok_or_else(|| required("duration"))
            .and_then(worklog::duration_field),
    )?;
    let comment = errors.note(worklog::comment_field(body.get("comment")))?;
    let Stamps {
        created_at,
        created_by,
        updated,
    } = stamps(&cx.state, cx.principal.org.id, &body, &mut errors).await?;
    if let Some(c) = created_at {
        if !within(&issue, c) {
            errors.add(
                "createdAt",
                "The record must be created between the issue's creation and its last update",
            );
        }
        if updated.is_some_and(|(u, _)| u < c || !within(&issue, u)) {
            errors.add(
                "updatedAt",
                "The record must be updated between its creation and the issue's last update",
            );
        }
    }
    errors.into_result()?;
    let (Some(start), Some(duration), Some(comment), Some(created_at), Some(author)) =
        (start, duration, comment, created_at, created_by)
    else {
        return Err(unchecked("worklog"));
    };
    let (updated_at, updated_by) = updated.unwrap_or((created_at, author));
    let record = WorklogRecord {
        pk: 0,
        org: cx.principal.org.id,
        issue_pk: issue.pk,
        comment: comment.unwrap_or_default(),
        start,
        seconds: duration.seconds(),
        created_by: author,
        updated_by,
        created_at,
        updated_at,
        version: 1,
    };
    let v = worklog::add(&cx, issue, record, Some((created_at, author))).await?;
    Ok(json(StatusCode::OK, &v))
}

/// `POST /v2/entities/{type}/_import` (the official client's
/// `import_object`): an entity with the author and dates it had elsewhere.
/// The body is a create's (`fields`) with the import stamps beside it; only
/// an organization's administrator may import, as for issues.
pub async fn entity(
    cx: Api,
    Path(kind_segment): Path<String>,
    ApiQuery(params): ApiQuery<entities::ViewParams>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let kind = crate::access::entities::kind(&kind_segment)?;
    let view = entities::View::of(&params)?;
    let body = object(body)?;
    cx.principal
        .require_org_admin("Only an administrator of the organization may import entities")?;
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let stamps = stamps(&cx.state, org, &body, &mut errors).await?;
    let empty = Map::new();
    let fields = entities::fields_object(&body)?.unwrap_or(&empty);
    errors.into_result()?;
    let (Some(created_at), Some(created_by)) = (stamps.created_at, stamps.created_by) else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "import stamps passed their checks but are missing"
        )));
    };
    let (updated_at, _) = stamps.updated.unwrap_or((created_at, created_by));
    if updated_at < created_at {
        return Err(ApiError::field("updatedAt", "Earlier than createdAt"));
    }
    let mut e = crate::access::entities::fresh(&cx.principal, kind, created_at);
    e.created_by = created_by;
    e.updated_at = updated_at;
    e.fields = json!({ "author": created_by }).to_string();
    let changes =
        crate::access::entity_fields::parse_fields(&cx.state, org, &mut e, fields).await?;
    crate::access::entities::check_complete(&e, true)?;
    let mut created =
        crate::access::entities::event(&cx.principal, created_at, "Entity created", changes.into());
    created.author = created_by;
    let saved = cx.store.create_entity(&e, &created).await?;
    entities::answer(&cx, &saved, &view, StatusCode::CREATED).await
}
