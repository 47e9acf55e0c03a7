//! Issues as handlers reach them: loaded only through the access rules,
//! changed only as one versioned write with its changelog entry.

use axum::http::HeaderMap;
use serde_json::{json, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{
    CommentRecord, IssueRecord, IssueWrite, NewChangelog, QueueRecord, WriteOutcome,
};

use crate::access::{self, Guard};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::fields::{self, changes_json, FieldChange};
use crate::ids::object_id;
use crate::state::AppState;

/// The issue the request names, if the caller may do what the request does
/// to it (read for reads, write otherwise).
pub async fn load(state: &AppState, principal: &Principal, key: &str) -> ApiResult<IssueRecord> {
    load_for(state, principal, key, access::wanted(principal)).await
}

pub async fn load_for(
    state: &AppState,
    principal: &Principal,
    key: &str,
    perm: Perm,
) -> ApiResult<IssueRecord> {
    let issue = state
        .store
        .issue_by_key_or_id(principal.org.id, key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Issue {key} not found")))?;
    Guard::new(state, principal)
        .require_issue(&issue, perm)
        .await?;
    Ok(issue)
}

pub fn changelog(
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
    kind: &str,
    changes: &[FieldChange],
    data: Value,
) -> NewChangelog {
    NewChangelog {
        id: object_id(now),
        kind: kind.to_owned(),
        updated_by: principal.user.uid,
        updated_at: now,
        fields: changes_json(changes),
        data: data.to_string(),
    }
}

/// Writes a change, turning a lost race into the `409` Tracker answers.
pub async fn write(state: &AppState, w: IssueWrite) -> ApiResult<IssueRecord> {
    write_outcome(state, w).await?.map_err(lost)
}

/// Writes a change; a write that lost (to a newer version of the issue, or
/// its job item to another node) is answered as the outcome, so the caller
/// decides (retry, or leave the item to its new owner).
pub async fn write_outcome(
    state: &AppState,
    w: IssueWrite,
) -> ApiResult<Result<IssueRecord, WriteOutcome>> {
    match state.store.write_issue(&w).await? {
        (WriteOutcome::Written, Some(issue)) => {
            crate::automation::after_write(state, crate::automation::Written::of(&w, &issue)).await;
            Ok(Ok(issue))
        }
        (WriteOutcome::Written, None) => Err(ApiError::NotFound("Issue not found".into())),
        (lost, _) => Ok(Err(lost)),
    }
}

fn lost(outcome: WriteOutcome) -> ApiError {
    ApiError::Conflict(match outcome {
        WriteOutcome::ItemTaken => "The change was taken over by another node".into(),
        _ => "The issue was changed by someone else; read it again and retry".into(),
    })
}

/// Writes a change that does not depend on the version the client read
/// (a comment, its edit or removal): on a lost race the issue is read again
/// and the change made again on the fresh copy, as many times as it takes
/// within a bound. Tracker's clients do not retry such requests, so a `409`
/// here would lose the write; only changes conditioned on a version
/// (`If-Match`, `?version=`) answer 409.
pub async fn write_fresh<F>(
    state: &AppState,
    principal: &Principal,
    mut issue: IssueRecord,
    mut change: F,
) -> ApiResult<IssueRecord>
where
    F: FnMut(IssueRecord) -> ApiResult<IssueWrite>,
{
    for attempt in 0..ATTEMPTS {
        let key = issue.key.clone();
        match write_outcome(state, change(issue)?).await? {
            Ok(saved) => return Ok(saved),
            Err(WriteOutcome::VersionConflict) => {
                pause(attempt).await;
                issue = load(state, principal, &key).await?;
            }
            Err(other) => return Err(lost(other)),
        }
    }
    Err(too_fast())
}

pub const ATTEMPTS: u32 = 64;

/// A short random pause after a lost race spreads out writers that
/// collided, so they do not collide again in lockstep.
pub async fn pause(attempt: u32) {
    let ms = rand::random::<u64>() % (1 + u64::from(attempt.min(8)) * 2);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

pub fn too_fast() -> ApiError {
    ApiError::Conflict("The issue is changing too fast to apply this change; retry".into())
}

/// [`write_fresh`] for a change a queue's administrator makes to the queue's
/// issues one by one (removing a tag from all of them): the queue right the
/// caller was checked for covers its issues, so the issue is re-read by pk
/// without a check of its own. `change` answers `None` when there is
/// nothing left to do (the issue left the queue, or someone else made the
/// change first); so does this.
pub async fn write_fresh_in_queue<F>(
    state: &AppState,
    queue: &QueueRecord,
    pk: i64,
    mut change: F,
) -> ApiResult<Option<IssueRecord>>
where
    F: FnMut(IssueRecord) -> Option<IssueWrite>,
{
    for attempt in 0..ATTEMPTS {
        let Some(issue) = state.store.issue_by_pk(queue.org, pk).await? else {
            return Ok(None);
        };
        if issue.queue_id != queue.id {
            return Ok(None);
        }
        let Some(w) = change(issue) else {
            return Ok(None);
        };
        match state.store.write_issue(&w).await? {
            (WriteOutcome::Written, saved) => {
                if let Some(issue) = &saved {
                    crate::automation::after_write(
                        state,
                        crate::automation::Written::of(&w, issue),
                    )
                    .await;
                }
                return Ok(saved);
            }
            (WriteOutcome::VersionConflict, _) => pause(attempt).await,
            (other, _) => return Err(lost(other)),
        }
    }
    Err(too_fast())
}

pub fn simple_write(issue: IssueRecord, entry: NewChangelog) -> IssueWrite {
    let pk = issue.pk;
    IssueWrite {
        issue,
        changelog: vec![(pk, entry)],
        comment: None,
        link: None,
        worklog: None,
        remote_link: None,
        attachments: None,
        move_to_queue: None,
        job_item: None,
    }
}

/// The write of one change the caller makes to `issue` at `now`: the issue
/// stamped with who changed it and when, and the change's changelog entry.
pub fn change_write(
    principal: &Principal,
    mut issue: IssueRecord,
    now: chrono::DateTime<chrono::Utc>,
    kind: &str,
    changes: &[FieldChange],
    data: Value,
) -> IssueWrite {
    issue.updated_at = now;
    issue.updated_by = principal.user.uid;
    simple_write(issue, changelog(principal, now, kind, changes, data))
}

/// A plain edit of fields: `IssueUpdated` with these changes, no more.
pub fn update_write(
    principal: &Principal,
    issue: IssueRecord,
    now: chrono::DateTime<chrono::Utc>,
    changes: &[FieldChange],
) -> IssueWrite {
    change_write(principal, issue, now, "IssueUpdated", changes, json!({}))
}

/// The queue a body's required `queue` field names; a missing or unknown
/// one is noted in `errors`, so that every invalid field is reported at once.
pub async fn required_queue(
    state: &AppState,
    org: i64,
    body: &serde_json::Map<String, Value>,
    errors: &mut fields::FieldErrors,
) -> ApiResult<Option<QueueRecord>> {
    let Some(v) = body.get("queue").filter(|v| !v.is_null()) else {
        errors.add("queue", "Required field");
        return Ok(None);
    };
    Ok(find_queue(state, org, v)
        .await?
        .map_err(|e| errors.add("queue", e))
        .ok())
}

/// The live queue a body or query names by key, id or object; the error is
/// the message for the field that named it.
pub async fn find_queue(
    state: &AppState,
    org: i64,
    v: &Value,
) -> ApiResult<Result<QueueRecord, String>> {
    let Some(id) = fields::ident(v) else {
        return Ok(Err("Expected a queue key, id or object".into()));
    };
    let q = match id.parse::<i64>() {
        Ok(n) => state.store.queue_by_id(org, n).await?,
        Err(_) => {
            state
                .store
                .queue_by_key(org, &id.to_ascii_uppercase())
                .await?
        }
    };
    Ok(match q {
        Some(q) if q.deleted_at.is_none() => Ok(q),
        _ => Err(format!("Queue {id} not found")),
    })
}

/// Checks the versions a client may send: `?version=N` (a mismatch is `409`)
/// and `If-Match: "N"` (a mismatch is `412`).
pub fn check_version(current: i64, query: Option<i64>, headers: &HeaderMap) -> ApiResult<()> {
    check_version_of("issue", current, query, headers)
}

/// The version a body names (`"version": N`), for the objects whose edits
/// may carry it there instead of in the query.
pub fn body_version(body: &serde_json::Map<String, Value>) -> ApiResult<Option<i64>> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::field("version", "The version must be a number")),
    }
}

/// [`check_version`] for any versioned object; `what` names it in errors.
pub fn check_version_of(
    what: &str,
    current: i64,
    query: Option<i64>,
    headers: &HeaderMap,
) -> ApiResult<()> {
    if let Some(v) = query {
        if v != current {
            return Err(ApiError::Conflict(format!(
                "Version mismatch: the {what} is at version {current}, not {v}"
            )));
        }
    }
    if let Some(h) = headers.get(axum::http::header::IF_MATCH) {
        let raw = h.to_str().unwrap_or("").trim();
        if raw != "*" {
            let n = raw
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .ok();
            if n != Some(current) {
                return Err(ApiError::PreconditionFailed(format!(
                    "If-Match {raw} does not match the {what}'s version {current}"
                )));
            }
        }
    }
    Ok(())
}

pub fn new_comment(
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
    issue: &mut IssueRecord,
    text: String,
    summonees: Vec<i64>,
) -> CommentRecord {
    issue.comment_count += 1;
    issue.last_comment_updated_at = Some(now);
    CommentRecord {
        pk: 0,
        id: object_id(now),
        issue_pk: issue.pk,
        text,
        summonees,
        author: principal.user.uid,
        updated_by: principal.user.uid,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// [`IssueRecord::fresh`] with a new public id: create and import start
/// from it.
pub fn fresh_issue(
    org: i64,
    queue: &tracker_store::QueueRecord,
    author: i64,
    at: chrono::DateTime<chrono::Utc>,
    unique: Option<String>,
) -> IssueRecord {
    IssueRecord::fresh(object_id(at), org, queue, author, at, unique)
}
