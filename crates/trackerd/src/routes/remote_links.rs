//! Links from an issue to objects of external applications ("remote
//! links"), and the organization's external applications they point into.
//! Each link's change is one write of its issue: the issue's version,
//! `updatedAt` and changelog move with it. trackerd calls no external
//! application: a requested backlink is recorded as not performed.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::dictionaries::{self, LinkType};
use tracker_store::{
    ApplicationRecord, IssueRecord, IssueWrite, RemoteLinkRecord, RemoteLinkWrite,
};

use crate::access::{by_number, written};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, Links};
use crate::render::Renderer;
use crate::state::AppState;

/// The longest object key accepted: keys are the external application's
/// identifiers (a commit, a pull request path), never prose.
const MAX_KEY: usize = 1024;

pub fn application_json(links: &Links, a: &ApplicationRecord) -> Value {
    json!({
        "self": links.api(&format!("applications/{}", a.id)),
        "id": a.id,
        "type": a.app_type,
        "name": a.name,
    })
}

/// The object's id: the external application's own id for it is unknown to
/// trackerd, so it is derived from what names the object (application and
/// key) and is the same for every link to it. FNV-1a: stable across builds
/// and platforms, unlike std's hasher.
fn object_id(application: &str, key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in application.bytes().chain([0x1f]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.to_string()
}

fn type_of(id: &str) -> LinkType {
    dictionaries::link_type(id).unwrap_or(LinkType {
        id: "relates",
        outward: "relates",
        inward: "relates",
    })
}

async fn render(
    r: &mut Renderer<'_>,
    issue: &IssueRecord,
    apps: &HashMap<String, ApplicationRecord>,
    l: &RemoteLinkRecord,
) -> ApiResult<Value> {
    let links = r.links;
    let t = type_of(&l.type_id);
    let object_id = object_id(&l.application, &l.object_key);
    let application = match apps.get(&l.application) {
        Some(a) => application_json(links, a),
        // The schema keeps an application while links point into it; a
        // link is still answered should that ever fail.
        None => json!({
            "self": links.api(&format!("applications/{}", l.application)),
            "id": l.application,
        }),
    };
    let mut v = json!({
        "self": links.api(&format!("issues/{}/remotelinks/{}", issue.key, l.pk)),
        "id": l.pk,
        "type": {
            "self": links.api(&format!("linktypes/{}", t.id)),
            "id": t.id,
            "inward": t.inward,
            "outward": t.outward,
        },
        "direction": l.direction,
        "object": {
            "self": links.api(&format!("applications/{}/objects/{object_id}", l.application)),
            "id": object_id,
            "key": l.object_key,
            "application": application,
        },
    });
    // A remote link is never edited: its last change is its creation.
    let created = (l.created_by, &l.created_at);
    r.authorship(&mut v, created, (Some(l.created_by), &l.created_at))
        .await?;
    Ok(v)
}

async fn applications_by_id(
    state: &AppState,
    org: i64,
) -> ApiResult<HashMap<String, ApplicationRecord>> {
    Ok(state
        .store
        .list_applications(org)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect())
}

pub async fn list(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let rows = cx.store.list_remote_links(issue.pk).await?;
    let apps = applications_by_id(&cx.state, cx.principal.org.id).await?;
    let mut r = cx.renderer();
    let mut out = Vec::with_capacity(rows.len());
    for l in &rows {
        out.push(render(&mut r, &issue, &apps, l).await?);
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateParams {
    /// Asks Tracker to create the same link in the external application.
    pub backlink: Option<bool>,
}

/// A required, non-empty string field of the body.
fn string_field<'a>(body: &'a Map<String, Value>, field: &str) -> ApiResult<&'a str> {
    match body.get(field) {
        None | Some(Value::Null) => Err(ApiError::field(field, "Required field")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(_) => Err(ApiError::field(field, "Expected a non-empty string")),
    }
}

pub async fn create(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<CreateParams>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let relationship = string_field(&body, "relationship")?;
    let (t, direction) = dictionaries::relationship(relationship).ok_or_else(|| {
        ApiError::field(
            "relationship",
            format!("Unknown relationship {relationship:?}"),
        )
    })?;
    let object_key = string_field(&body, "key")?;
    if object_key.len() > MAX_KEY || object_key.chars().any(char::is_control) {
        return Err(ApiError::field(
            "key",
            format!("A key is at most {MAX_KEY} bytes without control characters"),
        ));
    }
    let origin = string_field(&body, "origin")?;
    let app = cx
        .store
        .application(cx.principal.org.id, origin)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "origin",
                format!("Unknown application {origin:?}: see GET /v2/applications"),
            )
        })?;
    let direction = direction.as_str();
    let same = |l: &RemoteLinkRecord| {
        l.type_id == t.id
            && l.direction == direction
            && l.application == app.id
            && l.object_key == object_key
    };
    if cx.store.list_remote_links(issue.pk).await?.iter().any(same) {
        return Err(ApiError::Unprocessable {
            message: format!(
                "{} is already linked to {object_key} of {} as {relationship:?}",
                issue.key, app.id
            ),
            errors: Default::default(),
        });
    }
    let now = cx.clock.now();
    let record = RemoteLinkRecord {
        pk: 0,
        org: cx.principal.org.id,
        issue_pk: issue.pk,
        type_id: t.id.to_owned(),
        direction: direction.to_owned(),
        application: app.id.clone(),
        object_key: object_key.to_owned(),
        created_by: cx.principal.user.uid,
        created_at: now,
    };
    let mut data = json!({
        "type": t.id,
        "direction": direction,
        "remote": { "application": app.id, "key": object_key },
    });
    if params.backlink == Some(true) {
        // trackerd calls no external application; the request is kept.
        data["backlink"] = json!("not performed");
    }
    let add = |w: &mut IssueWrite| w.remote_link = Some(RemoteLinkWrite::Insert(record.clone()));
    let saved = cx.log_fresh(issue, now, "IssueLinked", data, add).await?;
    // The unique constraint makes the link just written the only one like it.
    let rows = cx.store.list_remote_links(saved.pk).await?;
    let link = written(rows, "a remote link", same)?;
    let apps = HashMap::from([(app.id.clone(), app)]);
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, &saved, &apps, &link).await?,
    ))
}

pub async fn delete(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let issue = cx.issue(&key).await?;
    let link = by_number("Remote link", &id, |pk| cx.store.remote_link(issue.pk, pk)).await?;
    let now = cx.clock.now();
    let data = json!({
        "type": link.type_id,
        "direction": link.direction,
        "remote": { "application": link.application, "key": link.object_key },
    });
    let remove = |w: &mut IssueWrite| w.remote_link = Some(RemoteLinkWrite::Delete(link.pk));
    cx.log_fresh(issue, now, "IssueUnlinked", data, remove)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn applications(cx: Api) -> ApiResult<Json<Value>> {
    let apps = cx.store.list_applications(cx.principal.org.id).await?;
    Ok(Json(Value::Array(
        apps.iter()
            .map(|a| application_json(&cx.links, a))
            .collect(),
    )))
}

/// The application an `application.self` names.
pub async fn application(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let app = cx
        .store
        .application(cx.principal.org.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Application {id} not found")))?;
    Ok(Json(application_json(&cx.links, &app)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_id_is_the_same_for_every_link_to_the_object_and_differs_between_objects() {
        assert_eq!(object_id("bb", "PR-1"), object_id("bb", "PR-1"));
        assert_ne!(object_id("bb", "PR-1"), object_id("bb", "PR-2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(object_id("ab", "c"), object_id("a", "bc"));
    }
}
