//! Queue permissions, issue access lists and groups.

use std::collections::BTreeSet;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::{Grants, Perm, Role, Subject, ALL_EMPLOYEES};
use tracker_store::{GroupRecord, QueueRecord, WriteOutcome};

use crate::access::by_number;
use crate::access::issues::load_for;
use crate::access::queues::find_for;
use crate::access::Guard;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, Links, OptionalJson};
use crate::fields::{self, FieldErrors};
use crate::render::Renderer;
use crate::state::AppState;

const ALL_EMPLOYEES_NAME: &str = "All employees";

async fn group_ref(state: &AppState, links: &Links, org: i64, id: i64) -> ApiResult<Value> {
    let display = if id == ALL_EMPLOYEES {
        ALL_EMPLOYEES_NAME.to_owned()
    } else {
        state
            .store
            .group(org, id)
            .await?
            .map(|g| g.name)
            .unwrap_or_else(|| id.to_string())
    };
    Ok(json!({ "self": links.api(&format!("groups/{id}")), "id": id, "display": display }))
}

fn role_ref(links: &Links, r: Role) -> Value {
    json!({ "self": links.api(&format!("roles/{}", r.as_str())), "id": r.as_str(), "display": r.display() })
}

/// The queue's permissions as they stand now, read afresh.
async fn grants_json(cx: &Api, q: &QueueRecord) -> ApiResult<Json<Value>> {
    let (grants, version) = cx.store.queue_grants(q.id).await?;
    let v = render_grants(
        &cx.state,
        &cx.principal,
        &cx.links,
        &q.key,
        &grants,
        version,
    );
    Ok(Json(v.await?))
}

async fn render_grants(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    queue_key: &str,
    grants: &Grants,
    version: i64,
) -> ApiResult<Value> {
    let mut r = Renderer::new(links, state.store.as_ref(), principal.org.id);
    let mut out = Map::new();
    out.insert(
        "self".into(),
        json!(links.api(&format!("queues/{queue_key}/permissions"))),
    );
    out.insert("version".into(), json!(version));
    for perm in Perm::ALL {
        let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
        for s in grants.subjects(perm) {
            match s {
                Subject::User(u) => users.push(r.user(*u).await?),
                Subject::Group(g) => {
                    groups.push(group_ref(state, links, principal.org.id, *g).await?)
                }
                Subject::Role(role) => roles.push(role_ref(links, *role)),
            }
        }
        out.insert(
            perm.as_str().into(),
            json!({
                "self": links.api(&format!("queues/{queue_key}/permissions/{}", perm.as_str())),
                "users": users,
                "groups": groups,
                "roles": roles,
            }),
        );
    }
    Ok(Value::Object(out))
}

pub async fn get_queue(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    grants_json(&cx, &q).await
}

/// Resolves one subject of a permissions body.
async fn subject(state: &AppState, org: i64, kind: &str, v: &Value) -> Result<Subject, String> {
    match kind {
        "users" => fields::required_user(state, org, v, "user")
            .await
            .map(Subject::User),
        "groups" => {
            let id = fields::ident(v)
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or("Expected a group id")?;
            if id == ALL_EMPLOYEES {
                return Ok(Subject::Group(id));
            }
            match state.store.group(org, id).await {
                Ok(Some(_)) => Ok(Subject::Group(id)),
                Ok(None) => Err(format!("Group {id} not found")),
                Err(e) => Err(e.to_string()),
            }
        }
        "roles" => {
            let id = fields::ident(v).ok_or("Expected a role id")?;
            Role::parse(&id)
                .map(Subject::Role)
                .ok_or_else(|| format!("Unknown role {id:?}"))
        }
        other => Err(format!("Unknown subject kind {other:?}")),
    }
}

fn kind_of(s: &Subject) -> &'static str {
    match s {
        Subject::User(_) => "users",
        Subject::Group(_) => "groups",
        Subject::Role(_) => "roles",
    }
}

/// Applies a `PATCH …/permissions` body: per permission, per subject kind,
/// an array (replace that list) or `{"add": […], "remove": […]}`.
async fn apply_body(
    state: &AppState,
    org: i64,
    grants: &Grants,
    body: &Map<String, Value>,
) -> ApiResult<Grants> {
    let mut set: BTreeSet<(Perm, Subject)> = grants.0.iter().cloned().collect();
    let mut errors = FieldErrors::default();
    for (perm_name, spec) in body {
        let Ok(perm) = perm_name.parse::<Perm>() else {
            if perm_name != "version" {
                errors.add(perm_name, "Expected create, write, read or grant");
            }
            continue;
        };
        let Value::Object(kinds) = spec else {
            errors.add(perm_name, "Expected an object with users, groups or roles");
            continue;
        };
        for (kind, change) in kinds {
            let field = format!("{perm_name}.{kind}");
            let resolve = |vs: &Value| {
                let vs = match vs {
                    Value::Array(a) => a.clone(),
                    Value::Null => Vec::new(),
                    other => vec![other.clone()],
                };
                async move {
                    let mut out = Vec::new();
                    for v in vs {
                        out.push(subject(state, org, kind, &v).await?);
                    }
                    Ok::<_, String>(out)
                }
            };
            match change {
                Value::Object(ops) => {
                    for (op, vs) in ops {
                        match (op.as_str(), resolve(vs).await) {
                            ("add", Ok(subjects)) => subjects.into_iter().for_each(|s| {
                                set.insert((perm, s));
                            }),
                            ("remove", Ok(subjects)) => subjects.iter().for_each(|s| {
                                set.remove(&(perm, s.clone()));
                            }),
                            (_, Err(e)) => errors.add(&field, e),
                            (other, _) => errors.add(
                                &field,
                                format!("Unknown operation {other:?}: use add or remove"),
                            ),
                        }
                    }
                }
                other => match resolve(other).await {
                    Ok(subjects) => {
                        set.retain(|(p, s)| !(*p == perm && kind_of(s) == kind));
                        subjects.into_iter().for_each(|s| {
                            set.insert((perm, s));
                        });
                    }
                    Err(e) => errors.add(&field, e),
                },
            }
        }
    }
    errors.into_result()?;
    Ok(Grants(set.into_iter().collect()))
}

pub async fn patch_queue(
    cx: Api,
    Path(key): Path<String>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Grant).await?;
    let (grants, version) = cx.store.queue_grants(q.id).await?;
    if let Some(v) = body.get("version").and_then(Value::as_i64) {
        if v != version {
            return Err(ApiError::Conflict(format!(
                "Permissions are at version {version}, not {v}"
            )));
        }
    }
    let new = apply_body(&cx.state, cx.principal.org.id, &grants, &body).await?;
    if cx.store.set_queue_grants(q.id, &new, version).await? == WriteOutcome::VersionConflict {
        return Err(ApiError::Conflict(
            "The permissions were changed by someone else; retry".into(),
        ));
    }
    grants_json(&cx, &q).await
}

/// `GET /v2/queues/{key}/checkPermissions/{code}`: `200` with the answer
/// when the caller holds the permission, `403` when not.
pub async fn check_queue(
    cx: Api,
    Path((key, code)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let perm: Perm = code.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "Unknown permission {code:?}: use create, write, read or grant"
        ))
    })?;
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    Guard::new(&cx.state, &cx.principal)
        .require_queue(&q, perm)
        .await?;
    Ok(Json(
        json!({ "queue": q.key, "permission": perm.as_str(), "granted": true }),
    ))
}

pub async fn get_issue(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let uids = cx.store.issue_access(issue.pk).await?;
    let mut r = cx.renderer();
    Ok(Json(json!({
        "self": cx.links.api(&format!("issues/{}/permissions", issue.key)),
        "access": { "users": r.users(&uids).await? },
    })))
}

/// `PATCH /v2/issues/{key}/permissions` with `{"access": {"users": …}}`: the
/// issue's access list, which lets the listed users read it.
pub async fn patch_issue(
    cx: Api,
    Path(key): Path<String>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let issue = load_for(&cx.state, &cx.principal, &key, Perm::Write).await?;
    let current = cx.store.issue_access(issue.pk).await?;
    let users = body
        .get("access")
        .and_then(|a| a.get("users"))
        .ok_or_else(|| ApiError::field("access", "Expected {\"access\": {\"users\": …}}"))?;
    let ops = fields::list_op(users).map_err(|e| ApiError::field("access.users", e))?;
    let org = cx.principal.org.id;
    let new = fields::edit_list(&current, ops, |v| {
        let state = &cx.state;
        async move { fields::required_user(state, org, &v, "user").await }
    })
    .await
    .map_err(|e| ApiError::field("access.users", e))?;
    cx.store.set_issue_access(issue.pk, &new).await?;
    let mut r = cx.renderer();
    Ok(Json(json!({
        "self": cx.links.api(&format!("issues/{}/permissions", issue.key)),
        "access": { "users": r.users(&new).await? },
    })))
}

async fn render_group(links: &Links, r: &mut Renderer<'_>, g: &GroupRecord) -> ApiResult<Value> {
    Ok(json!({
        "self": links.api(&format!("groups/{}", g.id)),
        "id": g.id,
        "name": g.name,
        "display": g.name,
        "members": r.users(&g.members).await?,
    }))
}

pub async fn list_groups(cx: Api) -> ApiResult<Json<Value>> {
    let mut r = cx.renderer();
    let mut out = vec![json!({
        "self": cx.links.api(&format!("groups/{ALL_EMPLOYEES}")),
        "id": ALL_EMPLOYEES,
        "name": ALL_EMPLOYEES_NAME,
        "display": ALL_EMPLOYEES_NAME,
    })];
    for g in cx.store.list_groups(cx.principal.org.id).await? {
        out.push(render_group(&cx.links, &mut r, &g).await?);
    }
    Ok(Json(Value::Array(out)))
}

pub async fn get_group(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let g = id.parse::<i64>().ok().filter(|id| *id != ALL_EMPLOYEES);
    let g = match g {
        Some(id) => cx.store.group(cx.principal.org.id, id).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::NotFound(format!("Group {id} not found")))?;
    let mut r = cx.renderer();
    Ok(Json(render_group(&cx.links, &mut r, &g).await?))
}

async fn member_uids(state: &AppState, org: i64, v: Option<&Value>) -> ApiResult<Vec<i64>> {
    let mut out = Vec::new();
    for m in v.and_then(Value::as_array).cloned().unwrap_or_default() {
        match fields::user(state, org, &m).await? {
            Ok(Some(uid)) if !out.contains(&uid) => out.push(uid),
            Ok(_) => {}
            Err(e) => return Err(ApiError::field("members", e)),
        }
    }
    Ok(out)
}

fn require_admin(principal: &Principal) -> ApiResult<()> {
    principal.require_org_admin("Only organization administrators manage groups")
}

/// `POST /v2/groups` `{"name", "members": [logins]}` — a trackerd extension:
/// the real Tracker takes groups from the organization's directory.
pub async fn create_group(cx: Api, OptionalJson(body): OptionalJson) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let name = crate::fields::required_name(&body, "name")?;
    let members = member_uids(&cx.state, cx.principal.org.id, body.get("members")).await?;
    let g = cx
        .store
        .create_group(cx.principal.org.id, &name, &members, cx.clock.now())
        .await
        .map_err(ApiError::on_conflict(format!(
            "Group {name:?} already exists"
        )))?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render_group(&cx.links, &mut r, &g).await?,
    ))
}

/// `PATCH /v2/groups/{id}` `{"members": […] | {"add": […], "remove": […]}}`.
pub async fn patch_group(
    cx: Api,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    require_admin(&cx.principal)?;
    let not_found = || ApiError::NotFound(format!("Group {id} not found"));
    let org = cx.principal.org.id;
    let g = by_number("Group", &id, |gid| cx.store.group(org, gid)).await?;
    let gid = g.id;
    let ops = fields::list_op(body.get("members").unwrap_or(&Value::Null))
        .map_err(|e| ApiError::field("members", e))?;
    let members = fields::edit_list(&g.members, ops, |v| {
        let state = &cx.state;
        async move { fields::required_user(state, org, &v, "member").await }
    })
    .await
    .map_err(|e| ApiError::field("members", e))?;
    cx.store.set_group_members(org, gid, &members).await?;
    let g = cx.store.group(org, gid).await?.ok_or_else(not_found)?;
    let mut r = cx.renderer();
    Ok(Json(render_group(&cx.links, &mut r, &g).await?))
}
