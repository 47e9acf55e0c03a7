//! Links between projects, portfolios and goals. A link is stored once, on
//! the entity it was made from, and read from either end (inverted from the
//! other). Adding or removing one is a write of the entity the request
//! names, with its event.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{EntityLinkWrite, EntityRecord};

use crate::access::entities::{
    self as access, kind, links_event, load, named, parse_links, seen_from, simple_write,
    write_fresh,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::routes::entities::{render_fields, View, ViewParams};

async fn render_links(cx: &Api, e: &EntityRecord, view: &View) -> ApiResult<Value> {
    let mut r = cx.renderer();
    let mut out = Vec::new();
    for l in cx.store.entity_links(e.pk).await? {
        let (relationship, other) = seen_from(e, &l);
        let Some(other) = cx.store.entity_by_pk(cx.principal.org.id, other).await? else {
            continue;
        };
        // The other end is shown only to who may read it.
        if !access::allows(&cx.principal, &other, Perm::Read) {
            continue;
        }
        let mut values = render_fields(&mut r, &other, view).await?;
        values.insert("id".into(), json!(other.id));
        out.push(json!({
            "type": relationship,
            "linkFieldValues": values,
            "entity": crate::routes::entities::entity_ref(&r, &other),
        }));
    }
    Ok(Value::Array(out))
}

pub async fn list(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ViewParams>,
) -> ApiResult<Json<Value>> {
    let view = View::of(&params)?;
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    Ok(Json(render_links(&cx, &e, &view).await?))
}

pub async fn create(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let links = parse_links(&cx.state, &cx.principal, &e, &body).await?;
    let named = named(&cx.state, cx.principal.org.id, &links).await?;
    let now = cx.clock.now();
    let saved = write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let mut w = simple_write(
            e,
            vec![links_event(&cx.principal, now, "Link added", &named)],
        );
        w.links = links.iter().cloned().map(EntityLinkWrite::Insert).collect();
        Ok(w)
    })
    .await?;
    Ok(json(
        StatusCode::CREATED,
        &render_links(&cx, &saved, &View::with_fields(&["summary"])).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteParams {
    pub right: Option<String>,
}

pub async fn delete(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> ApiResult<StatusCode> {
    let right = params
        .right
        .ok_or_else(|| ApiError::BadRequest("right: the id of the linked entity".into()))?;
    let e = load(&cx.state, &cx.principal, kind(&kind_segment)?, &id).await?;
    let other = cx.store.entity(cx.principal.org.id, &right).await?;
    let link = match &other {
        Some(o) => cx
            .store
            .entity_links(e.pk)
            .await?
            .into_iter()
            .find(|l| seen_from(&e, l).1 == o.pk),
        None => None,
    }
    .ok_or_else(|| ApiError::NotFound(format!("No link to {right}")))?;
    let (relationship, _) = seen_from(&e, &link);
    let now = cx.clock.now();
    write_fresh(&cx.state, &cx.principal, e, |mut e| {
        e.updated_at = now;
        let ev = links_event(
            &cx.principal,
            now,
            "Link removed",
            &[(relationship.clone(), right.clone())],
        );
        let mut w = simple_write(e, vec![ev]);
        w.links = vec![EntityLinkWrite::Delete(link.pk)];
        Ok(w)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
