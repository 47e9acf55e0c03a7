//! What editing, transitioning and moving do to one issue: the next state,
//! its changelog entries and its side effects, as one [`IssueWrite`] for
//! [`super::issues::write`]. The single-issue handlers and the bulk change
//! worker both compute their writes here, so a bulk change makes exactly
//! the change the same request on one issue would.

use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_domain::workflow;
use tracker_store::{CommentWrite, IssueRecord, IssueWrite, QueueRecord};

use crate::access::issues::{changelog, new_comment, simple_write};
use crate::access::{issue_types, Guard};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::fields::{self, FieldChange, Mode};
use crate::state::AppState;

/// An edit's result: nothing to write, or the write.
pub enum Edit {
    Unchanged(Box<IssueRecord>),
    Write(Box<IssueWrite>),
}

/// The edit `body` makes (`PATCH /issues/{key}`), with the files
/// `attach_ids` names (checked by the caller) recorded in the changelog;
/// the caller attaches them to the write.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    mut issue: IssueRecord,
    body: &Map<String, Value>,
    attach_ids: &[i64],
) -> ApiResult<Edit> {
    let changes = fields::apply(
        state,
        principal.org.id,
        &mut issue,
        body,
        Mode::Update,
        None,
    )
    .await?;
    if changes.is_empty() && attach_ids.is_empty() {
        return Ok(Edit::Unchanged(Box::new(issue)));
    }
    let now = state.clock.now();
    issue.updated_at = now;
    issue.updated_by = principal.user.uid;
    let pk = issue.pk;
    let mut entries = Vec::new();
    if !changes.is_empty() {
        entries.push(changelog(
            principal,
            now,
            "IssueUpdated",
            &changes,
            json!({}),
        ));
    }
    if !attach_ids.is_empty() {
        let data = json!({ "attachments": attach_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() });
        entries.push(changelog(principal, now, "IssueAttachmentAdded", &[], data));
    }
    let mut entries = entries.into_iter();
    let Some(first) = entries.next() else {
        return Err(ApiError::internal(anyhow::anyhow!(
            "an update without a changelog entry"
        )));
    };
    let mut w = simple_write(issue, first);
    w.changelog.extend(entries.map(|e| (pk, e)));
    Ok(Edit::Write(Box::new(w)))
}

/// The transition `id` if the issue's status offers it.
pub fn available(issue: &IssueRecord, id: &str) -> ApiResult<workflow::Transition> {
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

/// Executing transition `id` with the fields (and `comment`) of `body`.
pub async fn transition(
    state: &AppState,
    principal: &Principal,
    mut issue: IssueRecord,
    id: &str,
    body: &Map<String, Value>,
) -> ApiResult<IssueWrite> {
    let t = available(&issue, id)?;
    let mut changes = fields::apply(
        state,
        principal.org.id,
        &mut issue,
        body,
        Mode::Transition,
        None,
    )
    .await?;
    let now = state.clock.now();
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
    issue.updated_by = principal.user.uid;
    let comment = match body.get("comment") {
        Some(Value::String(text)) if !text.trim().is_empty() => Some(CommentWrite::Insert(
            new_comment(principal, now, &mut issue, text.clone(), Vec::new()),
        )),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::field("comment", "The comment must be a string")),
    };
    let entry = changelog(
        principal,
        now,
        "IssueWorkflow",
        &changes,
        json!({ "transition": t.id }),
    );
    let mut w = simple_write(issue, entry);
    w.comment = comment;
    Ok(w)
}

/// Components and versions belong to a queue: an issue leaving it for
/// another leaves them behind (they may not exist there).
pub fn drop_catalog(issue: &mut IssueRecord) -> Vec<FieldChange> {
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

/// Moving the issue to `queue` (the caller must be allowed to create issues
/// there), then setting the fields of `values` as an edit would.
pub async fn move_to(
    state: &AppState,
    principal: &Principal,
    mut issue: IssueRecord,
    queue: &QueueRecord,
    values: &Map<String, Value>,
) -> ApiResult<IssueWrite> {
    if queue.id == issue.queue_id {
        return Err(ApiError::field(
            "queue",
            "The issue is already in this queue",
        ));
    }
    Guard::new(state, principal)
        .require_queue(queue, Perm::Create)
        .await?;
    let now = state.clock.now();
    let mut changes = vec![
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
    changes.extend(drop_catalog(&mut issue));
    if !values.is_empty() {
        // The fields are read as in the issue's new queue (its components
        // and versions); the store moves the issue itself.
        issue.queue_id = queue.id;
        changes.extend(
            fields::apply(
                state,
                principal.org.id,
                &mut issue,
                values,
                Mode::Update,
                None,
            )
            .await?,
        );
    }
    // The issue's type (perhaps just set by `values`) must be one the
    // target queue takes.
    issue_types::require_type(queue, &issue.issue_type)?;
    issue.updated_at = now;
    issue.updated_by = principal.user.uid;
    let entry = changelog(principal, now, "IssueMoved", &changes, json!({}));
    let mut w = simple_write(issue, entry);
    w.move_to_queue = Some((queue.id, queue.key.clone()));
    Ok(w)
}
