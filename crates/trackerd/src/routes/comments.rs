//! Issue comments, with `id` cursor paging.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_store::{CommentRecord, CommentWrite, IssueRecord};

use crate::access::issues::{changelog, load, new_comment, simple_write, write_fresh};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, ApiJson, ApiQuery, Links};
use crate::fields::{self, FieldChange};
use crate::render::{time, Renderer};
use crate::state::AppState;

pub async fn render(
    r: &mut Renderer<'_>,
    issue: &IssueRecord,
    c: &CommentRecord,
) -> ApiResult<Value> {
    let mut v = json!({
        "self": r.links.api(&format!("issues/{}/comments/{}", issue.key, c.pk)),
        "id": c.pk,
        "longId": c.id,
        "text": c.text,
        "createdBy": r.user(c.author).await?,
        "updatedBy": r.user(c.updated_by).await?,
        "createdAt": time(&c.created_at),
        "updatedAt": time(&c.updated_at),
        "version": c.version,
        "type": "standard",
        "transport": "internal",
    });
    if !c.summonees.is_empty() {
        v["summonees"] = r.users(&c.summonees).await?;
    }
    Ok(v)
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    /// Comments after this one (its numeric id).
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default, rename = "perPage")]
    pub per_page: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    let issue = load(&state, &principal, &key).await?;
    let per_page = params.per_page.unwrap_or(50);
    if !(1..=1000).contains(&per_page) {
        return Err(ApiError::BadRequest(
            "perPage must be between 1 and 1000".into(),
        ));
    }
    // One more than asked tells whether a next page exists.
    let mut rows = state
        .store
        .list_comments(issue.pk, params.id, per_page + 1)
        .await?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    let mut r = Renderer::new(&links, state.store.as_ref(), principal.org.id);
    let mut out = Vec::with_capacity(rows.len());
    for c in &rows {
        out.push(render(&mut r, &issue, c).await?);
    }
    let mut headers = HeaderMap::new();
    if let (true, Some(last)) = (more, rows.last()) {
        let next = format!(
            "<{}?id={}&perPage={per_page}>; rel=\"next\"",
            links.api(&format!("issues/{}/comments", issue.key)),
            last.pk
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            headers.insert(axum::http::header::LINK, v);
        }
    }
    Ok((StatusCode::OK, headers, Json(Value::Array(out))).into_response())
}

async fn find(state: &AppState, issue: &IssueRecord, id: &str) -> ApiResult<CommentRecord> {
    state
        .store
        .comment(issue.pk, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Comment {id} not found")))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let issue = load(&state, &principal, &key).await?;
    let c = find(&state, &issue, &id).await?;
    let mut r = Renderer::new(&links, state.store.as_ref(), principal.org.id);
    Ok(Json(render(&mut r, &issue, &c).await?))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateComment {
    pub text: Option<String>,
    #[serde(default)]
    pub summonees: Vec<Value>,
    #[serde(default)]
    pub is_add_to_followers: Option<bool>,
    #[serde(default)]
    pub attachment_ids: Vec<Value>,
}

async fn summonees(state: &AppState, org: i64, values: &[Value]) -> ApiResult<Vec<i64>> {
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

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<CreateComment>,
) -> ApiResult<Response> {
    let issue = load(&state, &principal, &key).await?;
    if !body.attachment_ids.is_empty() {
        return Err(ApiError::field(
            "attachmentIds",
            "Attachments are not supported by trackerd yet",
        ));
    }
    let text = body
        .text
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::field("text", "Required field"))?;
    let summoned = summonees(&state, principal.org.id, &body.summonees).await?;
    let now = state.clock.now();
    let mut comment_id = String::new();
    let saved = write_fresh(&state, &principal, issue, |mut issue| {
        let mut changes = Vec::new();
        // Tracker adds the commenter to the followers unless told not to.
        if body.is_add_to_followers.unwrap_or(true)
            && !issue.followers.contains(&principal.user.uid)
        {
            let old = issue.followers.clone();
            issue.followers.push(principal.user.uid);
            changes.push(FieldChange {
                field: "followers".into(),
                from: json!(old),
                to: json!(issue.followers),
            });
        }
        let comment = new_comment(&principal, now, &mut issue, text.clone(), summoned.clone());
        comment_id = comment.id.clone();
        issue.updated_at = now;
        issue.updated_by = principal.user.uid;
        let entry = changelog(
            &principal,
            now,
            "IssueCommentAdded",
            &changes,
            json!({ "comment": comment.id }),
        );
        let mut w = simple_write(issue, entry);
        w.comment = Some(CommentWrite::Insert(comment));
        Ok(w)
    })
    .await?;
    let c = find(&state, &saved, &comment_id).await?;
    let mut r = Renderer::new(&links, state.store.as_ref(), principal.org.id);
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, &saved, &c).await?,
    ))
}

fn may_change(principal: &Principal, c: &CommentRecord) -> ApiResult<()> {
    if c.author == principal.user.uid || principal.org_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only the author or an administrator may change this comment".into(),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub struct EditComment {
    pub text: Option<String>,
    #[serde(default)]
    pub summonees: Option<Vec<Value>>,
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    Path((key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<EditComment>,
) -> ApiResult<Json<Value>> {
    let issue = load(&state, &principal, &key).await?;
    let mut c = find(&state, &issue, &id).await?;
    may_change(&principal, &c)?;
    let text = body
        .text
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::field("text", "Required field"))?;
    if let Some(s) = &body.summonees {
        c.summonees = summonees(&state, principal.org.id, s).await?;
    }
    let now = state.clock.now();
    c.text = text;
    c.updated_by = principal.user.uid;
    c.updated_at = now;
    let saved = write_fresh(&state, &principal, issue, |mut issue| {
        issue.last_comment_updated_at = Some(now);
        issue.updated_at = now;
        issue.updated_by = principal.user.uid;
        let entry = changelog(
            &principal,
            now,
            "IssueCommentChanged",
            &[],
            json!({ "comment": c.id }),
        );
        let mut w = simple_write(issue, entry);
        w.comment = Some(CommentWrite::Update(c.clone()));
        Ok(w)
    })
    .await?;
    let c = find(&state, &saved, &c.id).await?;
    let mut r = Renderer::new(&links, state.store.as_ref(), principal.org.id);
    Ok(Json(render(&mut r, &saved, &c).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let issue = load(&state, &principal, &key).await?;
    let c = find(&state, &issue, &id).await?;
    may_change(&principal, &c)?;
    let now = state.clock.now();
    write_fresh(&state, &principal, issue, |mut issue| {
        issue.comment_count = (issue.comment_count - 1).max(0);
        issue.updated_at = now;
        issue.updated_by = principal.user.uid;
        let entry = changelog(
            &principal,
            now,
            "IssueCommentRemoved",
            &[],
            json!({ "comment": c.id }),
        );
        let mut w = simple_write(issue, entry);
        w.comment = Some(CommentWrite::Delete(c.pk));
        Ok(w)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
