//! Issues: create, get, update, transitions, move, clone, find by `unique`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::dictionaries;
use tracker_store::{LinkRecord, LinkWrite, NewIssue};

use tracker_domain::permissions::Perm;

use crate::access::attachments as uploads;
use crate::access::changes::{self, Edit};
use crate::access::issues::{
    changelog, check_version, find_queue, load_for, required_queue, simple_write, write,
};
use crate::access::{issue_types, Guard};
use crate::answers::AnswerKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, json_body, json_bytes, Api, ApiJson, ApiQuery, VersionedEdit};
use crate::fields::{self, FieldChange, FieldErrors, Mode};
use crate::ids::object_id;
use crate::render::{
    render_doc_with, render_issue, transition_json, transitions_json, GetParams, Renderer,
};

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
    let queue = required_queue(&cx.state, org, &body, &mut errors).await?;
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
    let attach_ids = uploads::temporary_ids(&cx, body.get("attachmentIds")).await?;
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
    let mut changes = fields::apply(
        &cx.state,
        org,
        &mut issue,
        &body,
        Mode::Create,
        Some(&queue),
    )
    .await?;
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
            changelog: entry.clone(),
            attachments: uploads::attach(&cx, attach_ids, false),
        })
        .await
        .map_err(|e| match e {
            tracker_store::StoreError::Conflict(_) => {
                ApiError::Conflict("An issue with this unique value already exists".into())
            }
            e => uploads::taken(e.into()),
        })?;
    crate::automation::after_write(
        &cx.state,
        crate::automation::Written::created(&created, &entry, &queue),
    )
    .await;
    Ok(json(
        StatusCode::CREATED,
        &render_doc_with(
            &mut cx.renderer().knowing(&cx.principal.user, Some(&queue)),
            &cx.links,
            &created,
            &params,
        )
        .await?,
    ))
}

/// `GET /v2/issues/{key}`: served from the kept answers while the data
/// stamp shows nothing changed (see [`crate::answers`]).
pub async fn get(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<GetParams>,
) -> ApiResult<Response> {
    let answers = &cx.state.answers;
    // The stamp is taken before anything is read: what is read after it is
    // at least as new, so an answer kept under it is current while it holds.
    let kept = if answers.enabled() {
        Some((
            AnswerKey::new(&cx.principal, &cx.links, &key, &params),
            cx.state.store.data_stamp().await?,
        ))
    } else {
        None
    };
    if let Some(body) = kept.as_ref().and_then(|(k, stamp)| answers.get(k, stamp)) {
        return Ok(json_bytes(body));
    }
    let issue = cx.issue(&key).await?;
    // Everything the answer shows is read from the database under the
    // stamp: the caller's own account too, not the copy kept with the
    // authentication, which may be older than the stamp.
    let mut r = Renderer::new(&cx.links, cx.state.store.as_ref(), cx.principal.org.id)
        .at(cx.state.clock.now());
    let body = json_body(&render_doc_with(&mut r, &cx.links, &issue, &params).await?)?;
    if let (Some((k, stamp)), true) = (kept, r.timeless()) {
        answers.put(k, stamp, body.clone());
    }
    Ok(json_bytes(body))
}

pub use crate::extract::VersionParam;

pub async fn update(
    cx: Api,
    Path(key): Path<String>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    check_version(issue.version, edit.wanted()?, &edit.headers)?;
    let body = edit.body;
    let attach_ids = uploads::temporary_ids(&cx, body.get("attachmentIds")).await?;
    let get = GetParams {
        expand: edit.params.expand,
        fields: edit.params.fields,
    };
    let saved = match changes::update(&cx.state, &cx.principal, issue, &body, &attach_ids).await? {
        Edit::Unchanged(issue) => *issue,
        Edit::Write(w) => {
            let mut w = *w;
            w.attachments = uploads::attach(&cx, attach_ids, false);
            write(&cx.state, w).await.map_err(uploads::taken)?
        }
    };
    cx.issue_json(&saved, &get).await
}

#[derive(Debug, Default, Deserialize)]
pub struct UniqueParam {
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
    cx.issue_json(&issue, &GetParams::default()).await
}

pub async fn transitions(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    Ok(Json(transitions_json(&cx.links, &issue)))
}

pub async fn transition(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let t = changes::available(&issue, &id)?;
    Ok(Json(transition_json(&cx.links, &issue, &t)))
}

pub async fn execute_transition(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    edit: VersionedEdit,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    check_version(issue.version, edit.params.version, &edit.headers)?;
    let w = changes::transition(&cx.state, &cx.principal, issue, &id, &edit.body).await?;
    let saved = write(&cx.state, w).await?;
    Ok(Json(transitions_json(&cx.links, &saved)))
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveParams {
    pub queue: Option<String>,
}

pub async fn move_issue(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<MoveParams>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let target = params
        .queue
        .ok_or_else(|| ApiError::BadRequest("The queue parameter is required".into()))?;
    let queue = find_queue(&cx.state, cx.principal.org.id, &json!(target))
        .await?
        .map_err(|e| ApiError::field("queue", e))?;
    let w = changes::move_to(&cx.state, &cx.principal, issue, &queue, &Map::new()).await?;
    let saved = write(&cx.state, w).await?;
    cx.issue_json(&saved, &GetParams::default()).await
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
            changes::drop_catalog(&mut copy);
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
