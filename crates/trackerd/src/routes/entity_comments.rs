//! Comments on projects, portfolios and goals. Each change is one write of
//! the entity (its version moves, the events log records it), as for an
//! issue's comments, whose checks (text, summonees, who may edit) these
//! share.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};
use tracker_store::{EntityCommentRecord, EntityCommentWrite, EntityRecord};

use crate::access::entities::{
    comment_event, fields_of, kind, load, new_comment, simple_write, uids_of, write_fresh,
};
use crate::access::written;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::paging::{array_with_next, Cursor, CursorParams};
use crate::render::Renderer;
use crate::routes::comments::{
    comment_json, may_change_comment_of, required_text, summonees, CreateComment, EditComment,
};
use crate::routes::entities::{relative, RelativeParams};

pub async fn render(
    r: &mut Renderer<'_>,
    e: &EntityRecord,
    c: &EntityCommentRecord,
) -> ApiResult<Value> {
    let link = format!("entities/{}/{}/comments/{}", e.entity_type, e.id, c.pk);
    Ok(comment_json!(r, link, c))
}

/// The entity the path names and its comment (by number or long id).
async fn find(
    cx: &Api,
    kind_segment: &str,
    id: &str,
    comment: &str,
) -> ApiResult<(EntityRecord, EntityCommentRecord)> {
    let e = load(&cx.state, &cx.principal, kind(kind_segment)?, id).await?;
    let missing = || ApiError::NotFound(format!("Comment {comment} not found"));
    let c = match comment.parse::<i64>() {
        Ok(pk) => cx.store.entity_comment(e.pk, pk).await?,
        Err(_) => cx
            .store
            .entity_comments(e.pk, None, i64::MAX)
            .await?
            .into_iter()
            .find(|c| c.id == comment),
    }
    .ok_or_else(missing)?;
    Ok((e, c))
}

pub async fn list(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<CursorParams>,
) -> ApiResult<Response> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let page = Cursor::new(params.per_page)?;
    let mut rows = cx
        .store
        .entity_comments(e.pk, params.id, page.fetch())
        .await?;
    let url = cx
        .links
        .api(&format!("entities/{}/{}/comments", e.entity_type, e.id));
    let next = page.next(&mut rows, &url, |last| last.pk);
    let mut r = cx.renderer();
    let mut out = Vec::with_capacity(rows.len());
    for c in &rows {
        out.push(render(&mut r, &e, c).await?);
    }
    Ok(array_with_next(out, next))
}

pub async fn relative_list(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<RelativeParams>,
) -> ApiResult<Json<Value>> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let all = cx.store.entity_comments(e.pk, None, i64::MAX).await?;
    // `from` and `selected` name a comment by its long id or its number.
    let (page, has_prev, has_next) = match (&params.from, &params.selected) {
        (Some(c), _) | (_, Some(c)) if c.parse::<i64>().is_ok() => {
            relative(all, &params, |c| c.pk.to_string())?
        }
        _ => relative(all, &params, |c| c.id.clone())?,
    };
    let mut r = cx.renderer();
    let mut out = Vec::with_capacity(page.len());
    for c in &page {
        out.push(render(&mut r, &e, c).await?);
    }
    Ok(Json(
        json!({"comments": out, "hasNext": has_next, "hasPrev": has_prev}),
    ))
}

pub async fn get(
    cx: Api,
    Path((kind_segment, id, comment)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (e, c) = find(&cx, &kind_segment, &id, &comment).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &e, &c).await?))
}

/// Files are attached to an entity, not to its comments, in trackerd.
fn no_attachments(ids: Option<&Value>) -> ApiResult<()> {
    match ids {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(l)) if l.is_empty() => Ok(()),
        Some(_) => Err(ApiError::field(
            "attachmentIds",
            "Attach files to the entity (…/attachments/{id}), not to its comments",
        )),
    }
}

pub async fn create(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CreateComment>,
) -> ApiResult<Response> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    no_attachments(body.attachment_ids.as_ref())?;
    let text = required_text(body.text)?;
    let summoned = summonees(&cx.state, cx.principal.org.id, &body.summonees).await?;
    let now = cx.clock.now();
    let comment = new_comment(&cx.principal, now, text, summoned);
    let uid = cx.principal.user.uid;
    let saved = write_fresh(&cx.state, &cx.principal, e, |mut e| {
        let mut events = vec![comment_event(
            &cx.principal,
            now,
            "Comment added",
            None,
            Some(&comment.text),
        )];
        // Tracker adds the commenter to the followers unless told not to.
        let mut f = fields_of(&e);
        let mut followers = uids_of(&f, "followers");
        if body.is_add_to_followers.unwrap_or(true) && !followers.contains(&uid) {
            let old = json!(followers);
            followers.push(uid);
            events.push(crate::access::entities::event(
                &cx.principal,
                now,
                "Entity updated",
                json!([{"field": {"id": "followers", "display": "followers"},
                        "from": old, "to": followers}]),
            ));
            f.insert("followers".into(), json!(followers));
            e.fields = Value::Object(f).to_string();
        }
        e.updated_at = now;
        let mut w = simple_write(e, events);
        w.comment = Some(EntityCommentWrite::Insert(comment.clone()));
        Ok(w)
    })
    .await?;
    let rows = cx.store.entity_comments(saved.pk, None, i64::MAX).await?;
    let c = written(rows, "a comment", |c| c.id == comment.id)?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, &saved, &c).await?,
    ))
}

pub async fn update(
    cx: Api,
    Path((kind_segment, id, comment)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<EditComment>,
) -> ApiResult<Json<Value>> {
    let (e, mut c) = find(&cx, &kind_segment, &id, &comment).await?;
    may_change_comment_of(&cx.principal, c.author)?;
    no_attachments(body.attachment_ids.as_ref())?;
    let text = required_text(body.text)?;
    if let Some(s) = &body.summonees {
        c.summonees = summonees(&cx.state, cx.principal.org.id, s).await?;
    }
    let now = cx.clock.now();
    let before = std::mem::replace(&mut c.text, text);
    c.updated_by = cx.principal.user.uid;
    c.updated_at = now;
    let saved = write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let ev = comment_event(
            &cx.principal,
            now,
            "Comment changed",
            Some(&before),
            Some(&c.text),
        );
        let mut w = simple_write(e, vec![ev]);
        w.comment = Some(EntityCommentWrite::Update(c.clone()));
        Ok(w)
    })
    .await?;
    let c = cx
        .store
        .entity_comment(saved.pk, c.pk)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Comment {comment} not found")))?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, &saved, &c).await?))
}

pub async fn delete(
    cx: Api,
    Path((kind_segment, id, comment)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (e, c) = find(&cx, &kind_segment, &id, &comment).await?;
    may_change_comment_of(&cx.principal, c.author)?;
    let now = cx.clock.now();
    write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let ev = comment_event(&cx.principal, now, "Comment removed", Some(&c.text), None);
        let mut w = simple_write(e, vec![ev]);
        w.comment = Some(EntityCommentWrite::Delete(c.pk));
        Ok(w)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
