//! Links between issues, through `/links` and through the `LINK`/`UNLINK`
//! methods the official client uses.

use axum::extract::{Path, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::dictionaries::{self, Direction, LinkType};
use tracker_store::{IssueRecord, LinkRecord, LinkWrite, NewChangelog};

use tracker_domain::permissions::Perm;

use crate::access::issues::{changelog, simple_write, write};
use crate::access::Guard;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, Links};
use crate::ids::object_id;
use crate::render::Renderer;
use crate::state::AppState;

fn type_json(links: &Links, t: &LinkType) -> Value {
    json!({
        "self": links.api(&format!("linktypes/{}", t.id)),
        "id": t.id,
        "inward": t.inward,
        "outward": t.outward,
    })
}

async fn render(
    r: &mut Renderer<'_>,
    state: &AppState,
    org: i64,
    issue: &IssueRecord,
    l: &LinkRecord,
) -> ApiResult<Value> {
    let (direction, other) = if l.source_pk == issue.pk {
        (Direction::Outward, l.target_pk)
    } else {
        (Direction::Inward, l.source_pk)
    };
    let t = dictionaries::link_type(&l.type_id).unwrap_or(LinkType {
        id: "relates",
        outward: "relates",
        inward: "relates",
    });
    let mut v = json!({
        "self": r.links.api(&format!("issues/{}/links/{}", issue.key, l.pk)),
        "id": l.pk,
        "type": type_json(r.links, &t),
        "direction": direction.as_str(),
        "object": r.issue_ref(other).await?,
    });
    let updated = (Some(l.updated_by), &l.updated_at);
    r.authorship(&mut v, (l.created_by, &l.created_at), updated)
        .await?;
    if let Some(o) = state.store.issue_by_pk(org, other).await? {
        v["status"] = r.status(&o.status);
        if let Some(a) = o.assignee {
            v["assignee"] = r.user(a).await?;
        }
    }
    Ok(v)
}

pub async fn list(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let mut r = cx.renderer();
    let mut guard = Guard::new(&cx.state, &cx.principal);
    let mut out = Vec::new();
    for l in cx.store.list_links(issue.pk).await? {
        // Links to issues the caller may not read are left out.
        let other = if l.source_pk == issue.pk {
            l.target_pk
        } else {
            l.source_pk
        };
        match cx.store.issue_by_pk(cx.principal.org.id, other).await? {
            Some(o) if guard.issue_allows(&o, Perm::Read).await? => {}
            _ => continue,
        }
        out.push(render(&mut r, &cx.state, cx.principal.org.id, &issue, &l).await?);
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Debug, Deserialize)]
pub struct CreateLink {
    pub relationship: Option<String>,
    pub issue: Option<Value>,
}

/// Whether `a` and `b` are already linked with this type in this orientation
/// (either orientation for a symmetric type).
fn already_linked(existing: &[LinkRecord], t: &LinkType, source: i64, target: i64) -> Option<i64> {
    existing
        .iter()
        .find(|l| {
            l.type_id == t.id
                && ((l.source_pk == source && l.target_pk == target)
                    || (t.inward == t.outward && l.source_pk == target && l.target_pk == source))
        })
        .map(|l| l.pk)
}

/// Who made a link and when: the caller now, or what an import says.
pub struct Origin {
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_by: i64,
    pub updated_at: DateTime<Utc>,
    /// An imported link is history: it changes neither issue's update time.
    pub imported: bool,
}

impl Origin {
    pub fn now(principal: &Principal, now: DateTime<Utc>) -> Self {
        Origin {
            created_by: principal.user.uid,
            created_at: now,
            updated_by: principal.user.uid,
            updated_at: now,
            imported: false,
        }
    }
}

pub async fn add_link(
    state: &AppState,
    principal: &Principal,
    issue: IssueRecord,
    relationship: &str,
    other_key: &str,
    origin: Origin,
) -> ApiResult<(IssueRecord, i64)> {
    let (t, direction) = dictionaries::relationship(relationship).ok_or_else(|| {
        ApiError::field(
            "relationship",
            format!("Unknown relationship {relationship:?}"),
        )
    })?;
    let other = state
        .store
        .issue_by_key_or_id(principal.org.id, other_key)
        .await?
        .ok_or_else(|| ApiError::field("issue", format!("Issue {other_key} not found")))?;
    if other.pk == issue.pk {
        return Err(ApiError::field(
            "issue",
            "An issue cannot be linked to itself",
        ));
    }
    if origin.imported {
        // Tracker takes a link's dates from the span both issues existed
        // in: not before the later creation, not after the later update.
        let earliest = issue.created_at.max(other.created_at);
        let latest = issue.updated_at.max(other.updated_at);
        if origin.created_at < earliest || origin.created_at > latest {
            return Err(ApiError::field(
                "createdAt",
                "The link must be created between the creation of both issues and their last update",
            ));
        }
        if origin.updated_at < origin.created_at || origin.updated_at > latest {
            return Err(ApiError::field(
                "updatedAt",
                "The link must be updated between its creation and the issues' last update",
            ));
        }
        // Importing needs the other issue to be readable, as linking does
        // in the interface; it is named as missing otherwise.
        if !Guard::new(state, principal)
            .issue_allows(&other, Perm::Read)
            .await?
        {
            return Err(ApiError::field(
                "issue",
                format!("Issue {other_key} not found"),
            ));
        }
    }
    let (source, target) = match direction {
        Direction::Outward => (issue.pk, other.pk),
        Direction::Inward => (other.pk, issue.pk),
    };
    let existing = state.store.list_links(issue.pk).await?;
    if already_linked(&existing, &t, source, target).is_some() {
        return Err(ApiError::Unprocessable {
            message: format!(
                "{} is already linked to {} as {relationship:?}",
                issue.key, other.key
            ),
            errors: Default::default(),
        });
    }
    let at = origin.created_at;
    let entry = |data: Value| NewChangelog {
        id: object_id(at),
        kind: "IssueLinked".into(),
        updated_by: origin.created_by,
        updated_at: at,
        fields: "[]".into(),
        data: data.to_string(),
    };
    let data = json!({ "type": t.id, "direction": direction.as_str(), "with": other.pk });
    let mut w = simple_write(issue, entry(data));
    w.changelog.push((
        other.pk,
        entry(
            json!({ "type": t.id, "direction": direction.reverse().as_str(), "with": w.issue.pk }),
        ),
    ));
    if !origin.imported {
        w.issue.updated_at = at;
        w.issue.updated_by = origin.created_by;
    }
    w.link = Some(LinkWrite::Insert(LinkRecord {
        pk: 0,
        org: principal.org.id,
        type_id: t.id.to_owned(),
        source_pk: source,
        target_pk: target,
        created_by: origin.created_by,
        created_at: at,
        updated_by: origin.updated_by,
        updated_at: origin.updated_at,
    }));
    let saved = write(state, w).await?;
    let link = state
        .store
        .list_links(saved.pk)
        .await?
        .into_iter()
        .filter(|l| l.source_pk == source && l.target_pk == target && l.type_id == t.id)
        .map(|l| l.pk)
        .next_back()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("link vanished after insert")))?;
    Ok((saved, link))
}

/// Renders a link of `issue` after a write, as create and import answer.
/// Links the issue and answers with the new link: `201` for a create, `200`
/// for an import.
pub async fn link_and_answer(
    cx: &Api,
    issue: IssueRecord,
    relationship: &str,
    other: &str,
    origin: Origin,
    status: StatusCode,
) -> ApiResult<Response> {
    let (saved, link_pk) =
        add_link(&cx.state, &cx.principal, issue, relationship, other, origin).await?;
    Ok(json(status, &render_created(cx, &saved, link_pk).await?))
}

pub async fn render_created(cx: &Api, issue: &IssueRecord, link_pk: i64) -> ApiResult<Value> {
    let link = cx
        .store
        .link(issue.pk, link_pk)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("link vanished after insert")))?;
    let mut r = cx.renderer();
    render(&mut r, &cx.state, cx.principal.org.id, issue, &link).await
}

pub async fn create(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<CreateLink>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let relationship = body
        .relationship
        .ok_or_else(|| ApiError::field("relationship", "Required field"))?;
    let other = body
        .issue
        .as_ref()
        .and_then(crate::fields::ident)
        .ok_or_else(|| ApiError::field("issue", "Required field"))?;
    let origin = Origin::now(&cx.principal, cx.clock.now());
    link_and_answer(
        &cx,
        issue,
        &relationship,
        &other,
        origin,
        StatusCode::CREATED,
    )
    .await
}

async fn remove_link(
    state: &AppState,
    principal: &Principal,
    issue: IssueRecord,
    link: LinkRecord,
) -> ApiResult<()> {
    let now = state.clock.now();
    let other = if link.source_pk == issue.pk {
        link.target_pk
    } else {
        link.source_pk
    };
    let data = json!({ "type": link.type_id, "with": other });
    let mut w = simple_write(issue, changelog(principal, now, "IssueUnlinked", &[], data));
    w.changelog.push((
        other,
        changelog(
            principal,
            now,
            "IssueUnlinked",
            &[],
            json!({ "type": link.type_id, "with": w.issue.pk }),
        ),
    ));
    w.issue.updated_at = now;
    w.issue.updated_by = principal.user.uid;
    w.link = Some(LinkWrite::Delete(link.pk));
    write(state, w).await?;
    Ok(())
}

pub async fn get(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let link = match id.parse::<i64>() {
        Ok(pk) => cx.store.link(issue.pk, pk).await?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::NotFound(format!("Link {id} not found")))?;
    let other = if link.source_pk == issue.pk {
        link.target_pk
    } else {
        link.source_pk
    };
    match cx.store.issue_by_pk(cx.principal.org.id, other).await? {
        Some(o)
            if Guard::new(&cx.state, &cx.principal)
                .issue_allows(&o, Perm::Read)
                .await? => {}
        _ => return Err(ApiError::NotFound(format!("Link {id} not found"))),
    }
    let mut r = cx.renderer();
    Ok(Json(
        render(&mut r, &cx.state, cx.principal.org.id, &issue, &link).await?,
    ))
}

pub async fn delete(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let issue = cx.issue(&key).await?;
    let link = match id.parse::<i64>() {
        Ok(pk) => cx.store.link(issue.pk, pk).await?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::NotFound(format!("Link {id} not found")))?;
    remove_link(&cx.state, &cx.principal, issue, link).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Parses `Link: <resource>; rel="relationship"`. The resource is an issue
/// key, id, or a URL or path ending in one.
fn parse_link_header(headers: &HeaderMap) -> ApiResult<(String, String)> {
    let raw = headers
        .get(axum::http::header::LINK)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("The Link header is required".into()))?;
    let (target, params) = raw
        .trim()
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .ok_or_else(|| {
            ApiError::BadRequest("The Link header must look like <TEST-1>; rel=\"relates\"".into())
        })?;
    let rel = params
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("rel="))
        .map(|r| r.trim_matches('"').to_owned())
        .next()
        .ok_or_else(|| ApiError::BadRequest("The Link header needs a rel".into()))?;
    let key = target
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(target)
        .to_owned();
    Ok((key, rel))
}

/// `LINK` and `UNLINK` on an issue; any other unknown method is a `405`.
pub async fn link_methods(cx: Api, Path(key): Path<String>, req: Request) -> ApiResult<Response> {
    let method = req.method().clone();
    let (other, rel) = match method.as_str() {
        "LINK" | "UNLINK" => parse_link_header(req.headers())?,
        _ => return Err(ApiError::MethodNotAllowed),
    };
    let issue = cx.issue(&key).await?;
    if method == Method::from_bytes(b"LINK").unwrap_or(Method::POST) {
        let origin = Origin::now(&cx.principal, cx.clock.now());
        return link_and_answer(&cx, issue, &rel, &other, origin, StatusCode::CREATED).await;
    }
    let (t, direction) = dictionaries::relationship(&rel)
        .ok_or_else(|| ApiError::field("relationship", format!("Unknown relationship {rel:?}")))?;
    let target = cx
        .store
        .issue_by_key_or_id(cx.principal.org.id, &other)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Issue {other} not found")))?;
    let (source, target_pk) = match direction {
        Direction::Outward => (issue.pk, target.pk),
        Direction::Inward => (target.pk, issue.pk),
    };
    let existing = cx.store.list_links(issue.pk).await?;
    let pk = already_linked(&existing, &t, source, target_pk).ok_or_else(|| {
        ApiError::NotFound(format!(
            "{} is not linked to {} as {rel:?}",
            issue.key, target.key
        ))
    })?;
    let link = cx
        .store
        .link(issue.pk, pk)
        .await?
        .ok_or_else(|| ApiError::NotFound("Link not found".into()))?;
    remove_link(&cx.state, &cx.principal, issue, link).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
