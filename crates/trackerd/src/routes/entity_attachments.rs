//! Files of projects, portfolios and goals: a temporary upload
//! (`POST /v2/attachments`) attached by its id, listed, read and removed.
//! The bytes and the row stay where every attachment's are; the entity
//! holds the link to the row. Rendered, read and downloaded as
//! `/v2/attachments/{id}` answers them (the reference's links point there).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use tracker_store::{AttachmentRecord, EntityAttachmentWrite, EntityRecord};

use crate::access::attachments::taken;
use crate::access::entities::{event, kind, load, simple_write, write_fresh};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Api, ApiQuery};
use crate::render::Renderer;
use crate::routes::attachments::{drop_blob, render};
use crate::routes::entities::{View, ViewParams};

/// The entity's files, oldest first.
pub async fn files_of(r: &mut Renderer<'_>, e: &EntityRecord) -> ApiResult<Value> {
    let mut out = Vec::new();
    for pk in r.store().entity_attachments(e.pk).await? {
        if let Some(a) = r.store().attachment(e.org, pk).await? {
            out.push(render(r, None, &a).await?);
        }
    }
    Ok(Value::Array(out))
}

/// The entity's file `file`, or 404.
async fn file_of(cx: &Api, e: &EntityRecord, file: &str) -> ApiResult<AttachmentRecord> {
    let missing = || ApiError::NotFound(format!("Attachment {file} not found"));
    let pk = file.parse::<i64>().map_err(|_| missing())?;
    if !cx.store.entity_attachments(e.pk).await?.contains(&pk) {
        return Err(missing());
    }
    cx.store.attachment(e.org, pk).await?.ok_or_else(missing)
}

pub async fn list(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let mut r = cx.renderer();
    Ok(Json(files_of(&mut r, &e).await?))
}

pub async fn get(
    cx: Api,
    Path((kind_segment, id, file)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let a = file_of(&cx, &e, &file).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, None, &a).await?))
}

/// `POST …/attachments/{file}`: the caller's temporary upload becomes the
/// entity's; answered with the entity and its files.
pub async fn attach(
    cx: Api,
    Path((kind_segment, id, file)): Path<(String, String, String)>,
    ApiQuery(params): ApiQuery<ViewParams>,
) -> ApiResult<Json<Value>> {
    let mut view = View::of(&params)?;
    view.attachments = true;
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let unknown = || {
        ApiError::field(
            "attachmentId",
            format!("{file} is not a temporary upload of yours (POST /v2/attachments)"),
        )
    };
    let pk = file.parse::<i64>().map_err(|_| unknown())?;
    let a = cx
        .store
        .attachment(cx.principal.org.id, pk)
        .await?
        .filter(|a| a.issue_pk.is_none() && a.created_by == cx.principal.user.uid)
        .ok_or_else(unknown)?;
    let now = cx.clock.now();
    let saved = write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let changes = json!([{"field": {"id": "attachments", "display": "Attachments"},
                              "to": a.name}]);
        let mut w = simple_write(e, vec![event(&cx.principal, now, "File added", changes)]);
        w.attachment = Some(EntityAttachmentWrite::Attach {
            uploader: cx.principal.user.uid,
            pk,
        });
        Ok(w)
    })
    .await
    .map_err(taken)?;
    let mut r = cx.renderer();
    Ok(Json(
        crate::routes::entities::render(&mut r, &saved, &view).await?,
    ))
}

pub async fn delete(
    cx: Api,
    Path((kind_segment, id, file)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let a = file_of(&cx, &e, &file).await?;
    let now = cx.clock.now();
    write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let changes = json!([{"field": {"id": "attachments", "display": "Attachments"},
                              "from": a.name}]);
        let mut w = simple_write(e, vec![event(&cx.principal, now, "File removed", changes)]);
        w.attachment = Some(EntityAttachmentWrite::Delete(a.pk));
        Ok(w)
    })
    .await?;
    // The row is gone: the blob goes after it.
    drop_blob(&cx, &a.blob).await;
    Ok(StatusCode::NO_CONTENT)
}
