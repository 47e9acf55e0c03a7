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
use tracker_store::{EntityLinkRecord, EntityLinkWrite, EntityRecord};

use crate::access::entities::{self as access, event, kind, load, simple_write, write_fresh};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::routes::entities::{render_fields, View, ViewParams};

/// The relationships an entity link has, and each one's inverse.
const RELATIONSHIPS: [(&str, &str); 3] = [
    ("relates", "relates"),
    ("depends on", "is dependent by"),
    ("is dependent by", "depends on"),
];

fn inverse(relationship: &str) -> &str {
    RELATIONSHIPS
        .iter()
        .find(|(r, _)| *r == relationship)
        .map_or(relationship, |(_, i)| i)
}

/// The link's relationship and other end, seen from `e`.
fn seen_from(e: &EntityRecord, l: &EntityLinkRecord) -> (String, i64) {
    if l.entity_pk == e.pk {
        (l.relationship.clone(), l.target_pk)
    } else {
        (inverse(&l.relationship).to_owned(), l.entity_pk)
    }
}

/// New links a body names (one `{relationship, entity}` or a list of them),
/// from `e` to entities the caller may read.
pub async fn parse_links(
    cx: &Api,
    e: &EntityRecord,
    body: &Value,
) -> ApiResult<Vec<EntityLinkRecord>> {
    let items: Vec<&Value> = match body {
        Value::Array(l) => l.iter().collect(),
        one => vec![one],
    };
    let existing = cx.store.entity_links(e.pk).await?;
    let now = cx.clock.now();
    let mut out: Vec<EntityLinkRecord> = Vec::new();
    for item in items {
        let relationship = item
            .get("relationship")
            .and_then(Value::as_str)
            .map(|r| r.trim().to_ascii_lowercase())
            .filter(|r| RELATIONSHIPS.iter().any(|(k, _)| k == r))
            .ok_or_else(|| {
                ApiError::field(
                    "relationship",
                    "Expected relates, depends on or is dependent by",
                )
            })?;
        let target_id = item
            .get("entity")
            .and_then(crate::fields::ident)
            .ok_or_else(|| ApiError::field("entity", "Required: the id of an entity"))?;
        let target = cx
            .store
            .entity(cx.principal.org.id, &target_id)
            .await?
            .ok_or_else(|| ApiError::field("entity", format!("No entity {target_id}")))?;
        access::require(&cx.principal, &target, Perm::Read)?;
        let linked = |pk: i64| {
            existing.iter().any(|l| seen_from(e, l).1 == pk)
                || out.iter().any(|l| l.target_pk == pk)
        };
        if target.pk == e.pk || linked(target.pk) {
            return Err(ApiError::field(
                "entity",
                format!("{target_id} is this entity or already linked to it"),
            ));
        }
        out.push(EntityLinkRecord {
            pk: 0,
            entity_pk: e.pk,
            target_pk: target.pk,
            relationship,
            created_by: cx.principal.user.uid,
            created_at: now,
        });
    }
    Ok(out)
}

/// The event of added links.
pub fn links_event(
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
    display: &str,
    links: &[(String, String)],
) -> tracker_store::NewEntityEvent {
    let changes: Vec<Value> = links
        .iter()
        .map(|(relationship, entity)| {
            json!({"field": {"id": "links", "display": "Links"},
                   "to": {"relationship": relationship, "entity": entity}})
        })
        .collect();
    event(principal, now, display, Value::Array(changes))
}

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
    let links = parse_links(&cx, &e, &body).await?;
    let named = named(&cx, &links).await?;
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

/// Each link's relationship and the public id of its other end.
pub async fn named(cx: &Api, links: &[EntityLinkRecord]) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for l in links {
        if let Some(t) = cx
            .store
            .entity_by_pk(cx.principal.org.id, l.target_pk)
            .await?
        {
            out.push((l.relationship.clone(), t.id));
        }
    }
    Ok(out)
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
