//! Issue comments, with `id` cursor paging.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_store::{AttachmentRecord, CommentRecord, CommentWrite, IssueRecord};

use crate::access::attachments as uploads;
use crate::access::issues::{change_write, new_comment, write_fresh};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::fields::{self, FieldChange};
use crate::paging::{array_with_next, Cursor, CursorParams};
use crate::render::Renderer;
use crate::routes::attachments;
use crate::state::AppState;

/// What every comment shows, of an issue or of an entity, with `link` its
/// own path. The two records have the same fields but no common type, so a
/// macro reads them; it runs inside the caller's async fn (for `.await?`).
macro_rules! comment_json {
    ($r:expr, $link:expr, $c:expr) => {{
        let c = $c;
        let mut v = serde_json::json!({
            "self": $r.links.api(&$link),
            "id": c.pk,
            "longId": c.id,
            "text": c.text,
            "createdBy": $r.user(c.author).await?,
            "updatedBy": $r.user(c.updated_by).await?,
            "createdAt": $crate::render::time(&c.created_at),
            "updatedAt": $crate::render::time(&c.updated_at),
            "version": c.version,
            "type": "standard",
            "transport": "internal",
        });
        if !c.summonees.is_empty() {
            v["summonees"] = $r.users(&c.summonees).await?;
        }
        v
    }};
}
pub(crate) use comment_json;

pub async fn render(
    r: &mut Renderer<'_>,
    issue: &IssueRecord,
    c: &CommentRecord,
) -> ApiResult<Value> {
    let files = r.store().list_attachments(issue.pk).await?;
    render_with(r, issue, c, &files).await
}

/// A comment, given its issue's attachments (read once for a whole page).
async fn render_with(
    r: &mut Renderer<'_>,
    issue: &IssueRecord,
    c: &CommentRecord,
    issue_files: &[AttachmentRecord],
) -> ApiResult<Value> {
    let link = format!("issues/{}/comments/{}", issue.key, c.pk);
    let mut v = comment_json!(r, link, c);
    let files: Vec<_> = issue_files
        .iter()
        .filter(|a| a.comment_pk == Some(c.pk))
        .cloned()
        .collect();
    if !files.is_empty() {
        v["attachments"] = attachments::comment_refs(r, issue, &files);
    }
    Ok(v)
}

pub async fn list(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<CursorParams>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let page = Cursor::new(params.per_page)?;
    let mut rows = cx
        .store
        .list_comments(issue.pk, params.id, page.fetch())
        .await?;
    let url = cx.links.api(&format!("issues/{}/comments", issue.key));
    let next = page.next(&mut rows, &url, |last| last.pk);
    let mut r = cx.renderer();
    let files = if rows.is_empty() {
        Vec::new()
    } else {
        cx.store.list_attachments(issue.pk).await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for c in &rows {
        out.push(render_with(&mut r, &issue, c, &files).await?);
    }
    Ok(array_with_next(out, next))
}

async fn find(state: &AppState, issue: &IssueRecord, id: &str) -> ApiResult<CommentRecord> {
    state
        .store
        .comment(issue.pk, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Comment {id} not found")))
}

pub async fn get(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let c = find(&cx.state, &issue, &id).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &issue, &c).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateComment {
    pub text: Option<String>,
    #[serde(default)]
    pub summonees: Vec<Value>,
    pub is_add_to_followers: Option<bool>,
    pub attachment_ids: Option<Value>,
}

/// The users a comment summons, each once; shared with entity comments.
pub async fn summonees(state: &AppState, org: i64, values: &[Value]) -> ApiResult<Vec<i64>> {
    let mut out = Vec::new();
    for v in values {
        match fields::user(state, org, v).await? {
            Ok(Some(uid)) if !out.contains(&uid) => out.push(uid),
            Ok(_) => {}
            Err(e) => return Err(ApiError::field("summonees", e)),
        }
    }
    Ok(out)
}

/// A comment's text: required, not blank.
pub fn required_text(text: Option<String>) -> ApiResult<String> {
    text.filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::field("text", "Required field"))
}

pub async fn create(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<CreateComment>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let attach_ids = uploads::temporary_ids(&cx, body.attachment_ids.as_ref()).await?;
    let text = required_text(body.text)?;
    let summoned = summonees(&cx.state, cx.principal.org.id, &body.summonees).await?;
    let now = cx.clock.now();
    let mut comment_id = String::new();
    let saved = write_fresh(&cx.state, &cx.principal, issue, |mut issue| {
        let mut changes = Vec::new();
        // Tracker adds the commenter to the followers unless told not to.
        if body.is_add_to_followers.unwrap_or(true)
            && !issue.followers.contains(&cx.principal.user.uid)
        {
            let old = issue.followers.clone();
            issue.followers.push(cx.principal.user.uid);
            changes.push(FieldChange {
                field: "followers".into(),
                from: json!(old),
                to: json!(issue.followers),
            });
        }
        let comment = new_comment(
            &cx.principal,
            now,
            &mut issue,
            text.clone(),
            summoned.clone(),
        );
        comment_id = comment.id.clone();
        let mut w = change_write(
            &cx.principal,
            issue,
            now,
            "IssueCommentAdded",
            &changes,
            json!({ "comment": comment.id }),
        );
        w.comment = Some(CommentWrite::Insert(comment));
        w.attachments = uploads::attach(&cx, attach_ids.clone(), true);
        Ok(w)
    })
    .await
    .map_err(uploads::taken)?;
    let c = find(&cx.state, &saved, &comment_id).await?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, &saved, &c).await?,
    ))
}

fn may_change(principal: &Principal, c: &CommentRecord) -> ApiResult<()> {
    may_change_comment_of(principal, c.author)
}

/// Only a comment's author or an administrator changes or removes it (an
/// issue's comment or an entity's).
pub fn may_change_comment_of(principal: &Principal, author: i64) -> ApiResult<()> {
    if author == principal.user.uid || principal.org_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only the author or an administrator may change this comment".into(),
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditComment {
    pub text: Option<String>,
    pub summonees: Option<Vec<Value>>,
    /// Temporary uploads to add to the comment.
    pub attachment_ids: Option<Value>,
}

pub async fn update(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<EditComment>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let mut c = find(&cx.state, &issue, &id).await?;
    may_change(&cx.principal, &c)?;
    let attach_ids = uploads::temporary_ids(&cx, body.attachment_ids.as_ref()).await?;
    let text = required_text(body.text)?;
    if let Some(s) = &body.summonees {
        c.summonees = summonees(&cx.state, cx.principal.org.id, s).await?;
    }
    let now = cx.clock.now();
    c.text = text;
    c.updated_by = cx.principal.user.uid;
    c.updated_at = now;
    let saved = write_fresh(&cx.state, &cx.principal, issue, |mut issue| {
        issue.last_comment_updated_at = Some(now);
        let mut w = change_write(
            &cx.principal,
            issue,
            now,
            "IssueCommentChanged",
            &[],
            json!({ "comment": c.id }),
        );
        w.comment = Some(CommentWrite::Update(c.clone()));
        w.attachments = uploads::attach(&cx, attach_ids.clone(), true);
        Ok(w)
    })
    .await
    .map_err(uploads::taken)?;
    let c = find(&cx.state, &saved, &c.id).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &saved, &c).await?))
}

pub async fn delete(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let issue = cx.issue(&key).await?;
    let c = find(&cx.state, &issue, &id).await?;
    may_change(&cx.principal, &c)?;
    let now = cx.clock.now();
    write_fresh(&cx.state, &cx.principal, issue, |mut issue| {
        issue.comment_count = (issue.comment_count - 1).max(0);
        let mut w = change_write(
            &cx.principal,
            issue,
            now,
            "IssueCommentRemoved",
            &[],
            json!({ "comment": c.id }),
        );
        w.comment = Some(CommentWrite::Delete(c.pk));
        Ok(w)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
