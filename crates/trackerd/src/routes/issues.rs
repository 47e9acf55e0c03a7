//! Issues: create, get, update, transitions, move, clone, find by `unique`.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::{dictionaries, workflow};
use tracker_store::{CommentWrite, IssueRecord, LinkRecord, LinkWrite, NewIssue};

use tracker_domain::permissions::Perm;

use crate::access::issues::{
    changelog, check_version, find_queue, load_for, new_comment, simple_write, write,
};
use crate::access::{issue_types, Guard};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, OptionalJson};
use crate::fields::{self, FieldChange, FieldErrors, Mode};
use crate::ids::object_id;
use crate::render::{
    render_issue, render_issue_with, transition_json, transitions_json, GetParams,
};
use crate::routes::attachments;

pub async fn create(
    cx: Api,
    ApiQuery(params): ApiQuery<GetParams>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let Value::Object(body) = body else {
        return Err(ApiError::BadRequest(
            "The request body must be a JSON object".into(),
        ));
    };
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let queue = match body.get("queue") {
        None | Some(Value::Null) => {
            errors.add("queue", "Required field");
            None
        }
        Some(v) => match find_queue(&cx.state, org, v).await? {
            Ok(q) => Some(q),
            Err(e) => {
                errors.add("queue", e);
                None
            }
        },
    };
    if !body.contains_key("summary") {
        errors.add("summary", "Required field");
    }
    let unique = match body.get("unique") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            errors.add("unique", "Expected a non-empty string");
            None
        }
    };
    errors.into_result()?;
    let Some(queue) = queue else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "queue missing after validation"
        )));
    };
    Guard::new(&cx.state, &cx.principal)
        .require_queue(&queue, Perm::Create)
        .await?;
    let attach_ids = attachments::temporary_ids(&cx, body.get("attachmentIds")).await?;
    if let Some(u) = &unique {
        if let Some(existing) = cx.store.issue_by_unique(org, u).await? {
            return Err(ApiError::Conflict(format!(
                "An issue with unique {u:?} already exists: {}",
                existing.key
            )));
        }
    }
    let now = cx.clock.now();
    let uid = cx.principal.user.uid;
    let mut issue = crate::access::issues::fresh_issue(org, &queue, uid, now, unique);
    let mut changes = fields::apply(&cx.state, org, &mut issue, &body, Mode::Create).await?;
    changes.insert(
        0,
        FieldChange {
            field: "status".into(),
            from: Value::Null,
            to: json!(issue.status),
        },
    );
    let entry = changelog(&cx.principal, now, "IssueCreated", &changes, json!({}));
    let created = cx
        .store
        .create_issue(&NewIssue {
            issue,
            changelog: entry,
            attachments: attachments::attach(&cx, attach_ids, false),
        })
        .await
        .map_err(|e| match e {
            tracker_store::StoreError::Conflict(_) => {
                ApiError::Conflict("An issue with this unique value already exists".into())
            }
            e => attachments::taken(e.into()),
        })?;
    Ok(json(
        StatusCode::CREATED,
        &render_issue_with(
            &mut cx.renderer().knowing(&cx.principal.user, Some(&queue)),
            &cx.links,
            &created,
            &params,
        )
        .await?,
    ))
}

pub async fn get(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<GetParams>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    Ok(Json(
        render_issue(&cx.state, &cx.principal, &cx.links, &issue, &params).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VersionParam {
    pub version: Option<i64>,
    pub expand: Option<String>,
    pub fields: Option<String>,
}

pub async fn update(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<VersionParam>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let mut issue = cx.issue(&key).await?;
    let body_version = match body.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::field("version", "The version must be a number"))?,
        ),
    };
    check_version(issue.version, params.version.or(body_version), &headers)?;
    let changes = fields::apply(
        &cx.state,
        cx.principal.org.id,
        &mut issue,
        &body,
        Mode::Update,
    )
    .await?;
    let attach_ids = attachments::temporary_ids(&cx, body.get("attachmentIds")).await?;
    let get = GetParams {
        expand: params.expand,
        fields: params.fields,
    };
    if changes.is_empty() && attach_ids.is_empty() {
        return Ok(Json(
            render_issue(&cx.state, &cx.principal, &cx.links, &issue, &get).await?,
        ));
    }
    let now = cx.clock.now();
    issue.updated_at = now;
    issue.updated_by = cx.principal.user.uid;
    let pk = issue.pk;
    let mut entries = Vec::new();
    if !changes.is_empty() {
        entries.push(changelog(
            &cx.principal,
            now,
            "IssueUpdated",
            &changes,
            json!({}),
        ));
    }
    if !attach_ids.is_empty() {
        let data = json!({ "attachments": attach_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() });
        entries.push(changelog(
            &cx.principal,
            now,
            "IssueAttachmentAdded",
            &[],
            data,
        ));
    }
    let mut entries = entries.into_iter();
    let Some(first) = entries.next() else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "an update without a changelog entry"
        )));
    };
    let mut w = simple_write(issue, first);
    w.changelog.extend(entries.map(|e| (pk, e)));
    w.attachments = attachments::attach(&cx, attach_ids, false);
    let saved = write(&cx.state, w).await.map_err(attachments::taken)?;
    Ok(Json(
        render_issue(&cx.state, &cx.principal, &cx.links, &saved, &get).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct UniqueParam {
    #[serde(default)]
    pub unique: Option<String>,
}

pub async fn find_by_unique(
    cx: Api,
    ApiQuery(params): ApiQuery<UniqueParam>,
) -> ApiResult<Json<Value>> {
    let unique = params
        .unique
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::BadRequest("The unique parameter is required".into()))?;
    let issue = cx
        .store
        .issue_by_unique(cx.principal.org.id, &unique)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("No issue with unique {unique:?}")))?;
    Guard::new(&cx.state, &cx.principal)
        .require_issue(&issue, Perm::Read)
        .await?;
    Ok(Json(
        render_issue(
            &cx.state,
            &cx.principal,
            &cx.links,
            &issue,
            &GetParams::default(),
        )
        .await?,
    ))
}

pub async fn transitions(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    Ok(Json(transitions_json(&cx.links, &issue)))
}

fn available(issue: &IssueRecord, id: &str) -> ApiResult<workflow::Transition> {
    workflow::transition(&issue.status, id).ok_or_else(|| {
        ApiError::NotFound(if workflow::is_known_transition(id) {
            format!(
                "Transition {id} is not available in status {}",
                issue.status
            )
        } else {
            format!("Transition {id} not found")
        })
    })
}

pub async fn transition(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let t = available(&issue, &id)?;
    Ok(Json(transition_json(&cx.links, &issue, &t)))
}

pub async fn execute_transition(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<VersionParam>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let mut issue = cx.issue(&key).await?;
    check_version(issue.version, params.version, &headers)?;
    let t = available(&issue, &id)?;
    let mut changes = fields::apply(
        &cx.state,
        cx.principal.org.id,
        &mut issue,
        &body,
        Mode::Transition,
    )
    .await?;
    let now = cx.clock.now();
    if workflow::is_resolved_status(t.to) {
        if t.needs_resolution && issue.resolution.is_none() {
            return Err(ApiError::field(
                "resolution",
                "A resolution is required for this transition",
            ));
        }
        issue.resolved_at = Some(now);
    } else if issue.resolution.is_some() {
        let old = issue.resolution.take();
        changes.push(FieldChange {
            field: "resolution".into(),
            from: json!(old),
            to: Value::Null,
        });
        issue.resolved_at = None;
    }
    let from = std::mem::replace(&mut issue.status, t.to.to_owned());
    changes.insert(
        0,
        FieldChange {
            field: "status".into(),
            from: json!(from),
            to: json!(t.to),
        },
    );
    issue.previous_status = Some(from);
    issue.status_start_time = now;
    issue.updated_at = now;
    issue.updated_by = cx.principal.user.uid;
    let comment = match body.get("comment") {
        Some(Value::String(text)) if !text.trim().is_empty() => Some(CommentWrite::Insert(
            new_comment(&cx.principal, now, &mut issue, text.clone(), Vec::new()),
        )),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::field("comment", "The comment must be a string")),
    };
    let entry = changelog(
        &cx.principal,
        now,
        "IssueWorkflow",
        &changes,
        json!({ "transition": t.id }),
    );
    let mut w = simple_write(issue, entry);
    w.comment = comment;
    let saved = write(&cx.state, w).await?;
    Ok(Json(transitions_json(&cx.links, &saved)))
}

/// Components and versions belong to a queue: an issue leaving it for
/// another leaves them behind (they may not exist there).
fn drop_catalog(issue: &mut IssueRecord) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (field, ids) in [
        ("components", &mut issue.components),
        ("fixVersions", &mut issue.fix_versions),
        ("affectedVersions", &mut issue.affected_versions),
    ] {
        if !ids.is_empty() {
            changes.push(FieldChange {
                field: field.into(),
                from: json!(std::mem::take(ids)),
                to: json!([]),
            });
        }
    }
    changes
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveParams {
    #[serde(default)]
    pub queue: Option<String>,
}

pub async fn move_issue(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<MoveParams>,
) -> ApiResult<Json<Value>> {
    let mut issue = cx.issue(&key).await?;
    let target = params
        .queue
        .ok_or_else(|| ApiError::BadRequest("The queue parameter is required".into()))?;
    let queue = find_queue(&cx.state, cx.principal.org.id, &json!(target))
        .await?
        .map_err(|e| ApiError::field("queue", e))?;
    if queue.id == issue.queue_id {
        return Err(ApiError::field(
            "queue",
            "The issue is already in this queue",
        ));
    }
    Guard::new(&cx.state, &cx.principal)
        .require_queue(&queue, Perm::Create)
        .await?;
    issue_types::require_type(&queue, &issue.issue_type)?;
    let now = cx.clock.now();
    let changes = vec![
        FieldChange {
            field: "queue".into(),
            from: json!(issue.queue_id),
            to: json!(queue.id),
        },
        FieldChange {
            field: "key".into(),
            from: json!(issue.key),
            to: Value::Null,
        },
    ];
    let mut changes = changes;
    changes.extend(drop_catalog(&mut issue));
    issue.updated_at = now;
    issue.updated_by = cx.principal.user.uid;
    let entry = changelog(&cx.principal, now, "IssueMoved", &changes, json!({}));
    let mut w = simple_write(issue, entry);
    w.move_to_queue = Some((queue.id, queue.key.clone()));
    let saved = write(&cx.state, w).await?;
    Ok(Json(
        render_issue(
            &cx.state,
            &cx.principal,
            &cx.links,
            &saved,
            &GetParams::default(),
        )
        .await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CloneParams {
    pub queues: Option<String>,
    #[serde(rename = "linkWithOriginal")]
    pub link_with_original: Option<String>,
}

/// `POST /v2/issues/{key}/_clone?queues=A,B`: copies the issue into each
/// queue; with `linkWithOriginal=true` links each copy to the original.
pub async fn clone_issue(
    cx: Api,
    Path(key): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let original = load_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))?;
    let queues: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "queues")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let link = pairs
        .iter()
        .any(|(k, v)| k == "linkWithOriginal" && v.eq_ignore_ascii_case("true"));
    if queues.is_empty() {
        return Err(ApiError::BadRequest(
            "The queues parameter is required".into(),
        ));
    }
    let mut targets = Vec::new();
    let mut guard = Guard::new(&cx.state, &cx.principal);
    for q in &queues {
        let queue = find_queue(&cx.state, cx.principal.org.id, &json!(q))
            .await?
            .map_err(|e| ApiError::field("queues", e))?;
        guard.require_queue(&queue, Perm::Create).await?;
        issue_types::require_type(&queue, &original.issue_type)?;
        targets.push(queue);
    }
    let mut out = Vec::new();
    for queue in targets {
        let now = cx.clock.now();
        let mut copy = original.clone();
        copy.id = object_id(now);
        copy.queue_id = queue.id;
        copy.version = 1;
        copy.status = dictionaries::INITIAL_STATUS.to_owned();
        copy.previous_status = None;
        copy.resolution = None;
        copy.resolved_at = None;
        copy.author = cx.principal.user.uid;
        copy.updated_by = cx.principal.user.uid;
        copy.unique = None;
        copy.created_at = now;
        copy.updated_at = now;
        copy.status_start_time = now;
        copy.comment_count = 0;
        copy.last_comment_updated_at = None;
        copy.votes = 0;
        copy.aliases = Vec::new();
        if copy.queue_id != original.queue_id {
            drop_catalog(&mut copy);
        }
        let changes = [FieldChange {
            field: "status".into(),
            from: Value::Null,
            to: json!(copy.status),
        }];
        let entry = changelog(
            &cx.principal,
            now,
            "IssueCreated",
            &changes,
            json!({ "clonedFrom": original.id }),
        );
        let mut created = cx
            .store
            .create_issue(&NewIssue {
                issue: copy,
                changelog: entry,
                // A clone starts without the original's files.
                attachments: None,
            })
            .await?;
        if link {
            let l = LinkRecord {
                pk: 0,
                org: cx.principal.org.id,
                type_id: "clone".into(),
                source_pk: created.pk,
                target_pk: original.pk,
                created_by: cx.principal.user.uid,
                created_at: now,
                updated_by: cx.principal.user.uid,
                updated_at: now,
            };
            let entry = changelog(
                &cx.principal,
                now,
                "IssueLinked",
                &[],
                json!({ "type": "clone", "with": original.pk }),
            );
            let mut w = simple_write(created.clone(), entry);
            w.link = Some(LinkWrite::Insert(l));
            created = write(&cx.state, w).await?;
        }
        out.push(
            render_issue(
                &cx.state,
                &cx.principal,
                &cx.links,
                &created,
                &GetParams::default(),
            )
            .await?,
        );
    }
    Ok(Json(Value::Array(out)))
}
