//! Issue and comment templates (`/v2/issueTemplates`, `/v2/commentTemplates`,
//! and a queue's at `/v2/queues/{key}/issueTemplates`). The public reference
//! does not describe them; their paths and fields follow the official
//! client's `IssueTemplates` and `CommentTemplates` collections (see
//! docs/COMPATIBILITY.md). A template of the organization is readable by
//! every member and changed by its administrators; a queue's template is
//! readable with the queue and changed by whoever may change the queue's
//! settings.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{QueueRecord, TemplateRecord};

use crate::access::by_number;
use crate::access::issues::{check_version_of, find_queue};
use crate::access::queues::find_for;
use crate::access::Guard;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery, Links};
use crate::fields::{self, FieldErrors, Input, GLOBAL_FIELDS};
use crate::paging::{Page, PageParams};
use crate::render::{queue_ref, Renderer};
use crate::routes::issues::VersionParam;

/// The kinds, as the handlers' const parameter.
pub const ISSUE: u8 = 0;
pub const COMMENT: u8 = 1;

template_kinds! {
    ISSUE => Issue { key: "issue", path: "issueTemplates", what: "Issue template" },
    _ => Comment { key: "comment", path: "commentTemplates", what: "Comment template" },
}

/// Fields a template may not prefill: they are set by the system or only
/// through transitions and moves.
const NOT_PREFILLED: &[&str] = &[
    "status",
    "resolution",
    "queue",
    "createdBy",
    "createdAt",
    "updatedAt",
    "resolvedAt",
];

fn maillist_ref(links: &Links, address: &str) -> Value {
    let display = address.split('@').next().unwrap_or(address);
    json!({
        "self": links.api(&format!("maillists/{address}")),
        "id": address,
        "display": display,
    })
}

async fn render(r: &mut Renderer<'_>, kind: Kind, t: &TemplateRecord) -> ApiResult<Value> {
    let body = super::template_content(t);
    let mut v = json!({
        "self": r.links.api(&format!("{}/{}", kind.path(), t.pk)),
        "id": t.pk,
        "version": t.version,
        "name": t.name,
    });
    r.authorship(&mut v, (t.created_by, &t.created_at), (None, &t.updated_at))
        .await?;
    if let Some(d) = &t.description {
        v["description"] = json!(d);
    }
    if let Some(q) = t.queue_id {
        if let Some(q) = r.queue_record(q).await? {
            v["queue"] = queue_ref(r.links, &q);
        }
    }
    match kind {
        Kind::Issue => {
            v["fieldTemplates"] = body.get("fieldTemplates").cloned().unwrap_or(json!({}));
        }
        Kind::Comment => {
            v["template"] = body.get("template").cloned().unwrap_or(json!(""));
            let uids: Vec<i64> = items(&body, "summonees")
                .filter_map(Value::as_i64)
                .collect();
            v["summonees"] = r.users(&uids).await?;
            let lists: Vec<Value> = items(&body, "maillistSummonees")
                .filter_map(Value::as_str)
                .map(|a| maillist_ref(r.links, a))
                .collect();
            v["maillistSummonees"] = Value::Array(lists);
        }
    }
    Ok(v)
}

/// The elements of the array `key` of a template's body; none when there
/// is no such array.
fn items<'a>(body: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    body.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether the caller may see (`Read`) or change (`Grant`) the template.
async fn allowed(cx: &Api, t: &TemplateRecord, perm: Perm) -> ApiResult<bool> {
    match t.queue_id {
        None => Ok(perm == Perm::Read || cx.principal.org_admin),
        Some(q) => match cx.store.queue_by_id(cx.principal.org.id, q).await? {
            Some(q) if q.deleted_at.is_none() => {
                Guard::new(&cx.state, &cx.principal)
                    .queue_allows(&q, perm)
                    .await
            }
            _ => Ok(false),
        },
    }
}

/// The template the path names, if the caller may do `perm` with it.
async fn find(cx: &Api, kind: Kind, id: &str, perm: Perm) -> ApiResult<TemplateRecord> {
    let org = cx.principal.org.id;
    let t = by_number(kind.what(), id, |pk| cx.store.template(org, kind.key(), pk)).await?;
    // As for issues: a template of a queue the caller cannot read is
    // refused, not hidden.
    if !allowed(cx, &t, Perm::Read).await? {
        return Err(ApiError::Forbidden(format!(
            "You do not have permission to read {} {id}",
            kind.what().to_lowercase()
        )));
    }
    if perm != Perm::Read && !allowed(cx, &t, perm).await? {
        return Err(forbidden(t.queue_id.is_some()));
    }
    Ok(t)
}

fn forbidden(of_queue: bool) -> ApiError {
    ApiError::Forbidden(if of_queue {
        "Only an administrator of the queue may change its templates".into()
    } else {
        "Only an administrator of the organization may change its templates".into()
    })
}

/// The templates the caller may see, a page of them, with Tracker's paging
/// headers. Templates are few: the visibility filter runs over all of them.
async fn list_in(
    cx: Api,
    kind: Kind,
    queue: Option<QueueRecord>,
    raw: Option<String>,
    page: Page,
) -> ApiResult<Response> {
    let (all, _) = cx
        .store
        .list_templates(
            cx.principal.org.id,
            kind.key(),
            queue.as_ref().map(|q| q.id),
            0,
            i64::MAX,
        )
        .await?;
    let mut visible = Vec::new();
    for t in all {
        if allowed(&cx, &t, Perm::Read).await? {
            visible.push(t);
        }
    }
    let total = visible.len() as i64;
    let mut r = cx.renderer();
    let mut out = Vec::new();
    for t in page.of(&visible) {
        out.push(render(&mut r, kind, t).await?);
    }
    let url = match &queue {
        Some(q) => cx.links.api(&format!("queues/{}/{}", q.key, kind.path())),
        None => cx.links.api(kind.path()),
    };
    Ok((
        page.headers(total, &url, raw.as_deref()),
        Json(Value::Array(out)),
    )
        .into_response())
}

/// Reads the fields a create or an edit sets onto `t`; all invalid fields
/// are reported together. On create every required field must be given.
async fn apply(cx: &Api, kind: Kind, t: &mut TemplateRecord, input: Input<'_>) -> ApiResult<()> {
    let org = cx.principal.org.id;
    let mut errors = FieldErrors::default();
    let mut content = super::template_content(t);
    input.require(&mut errors, &["name"]);
    if kind == Kind::Comment {
        input.require(&mut errors, &["template"]);
    }
    for (field, value) in input.body {
        match (field.as_str(), kind) {
            ("name", _) => match value.as_str().map(str::trim) {
                Some(n) if !n.is_empty() => t.name = n.to_owned(),
                _ => errors.add(field, "The name must be a non-empty string"),
            },
            ("description", _) => match value {
                Value::Null => t.description = None,
                Value::String(s) => t.description = Some(s.clone()),
                _ => errors.add(field, "The description must be a string"),
            },
            ("queue", _) if value.is_null() => t.queue_id = None,
            ("queue", _) => match find_queue(&cx.state, org, value).await? {
                Ok(q) => t.queue_id = Some(q.id),
                Err(e) => errors.add(field, e),
            },
            ("fieldTemplates", Kind::Issue) => match value {
                Value::Object(m) => {
                    let mut bad = Vec::new();
                    for k in m.keys() {
                        let known = GLOBAL_FIELDS.iter().any(|(f, _, _)| f == k)
                            && !NOT_PREFILLED.contains(&k.as_str());
                        if !known && !k.contains("--") {
                            bad.push(k.clone());
                        }
                    }
                    if bad.is_empty() {
                        content.insert(field.clone(), value.clone());
                    } else {
                        errors.add(
                            field,
                            format!("Fields a template cannot prefill: {}", bad.join(", ")),
                        );
                    }
                }
                _ => errors.add(field, "Expected an object of field values"),
            },
            ("template", Kind::Comment) => match value {
                Value::String(s) if !s.trim().is_empty() => {
                    content.insert(field.clone(), json!(s));
                }
                _ => errors.add(field, "The template must be a non-empty string"),
            },
            ("summonees", Kind::Comment) => {
                let mut uids: Vec<i64> = Vec::new();
                let mut failed = None;
                for v in value
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![value.clone()])
                {
                    match fields::required_user(&cx.state, org, &v, "summonee").await {
                        Ok(uid) if !uids.contains(&uid) => uids.push(uid),
                        Ok(_) => {}
                        Err(e) => failed = Some(e),
                    }
                }
                match failed {
                    Some(e) => errors.add(field, e),
                    None => {
                        content.insert(field.clone(), json!(uids));
                    }
                }
            }
            ("maillistSummonees", Kind::Comment) => {
                let items = value
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![value.clone()]);
                let addresses: Option<Vec<String>> = items
                    .iter()
                    .map(|v| {
                        fields::ident(v).filter(|a| {
                            let mut parts = a.split('@');
                            matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && !d.is_empty())
                        })
                    })
                    .collect();
                match addresses {
                    Some(a) => {
                        content.insert(field.clone(), json!(a));
                    }
                    None => errors.add(field, "Expected mailing list addresses"),
                }
            }
            // The optimistic-lock version some clients send in the body.
            ("version", _) if !input.creating => {}
            _ => errors.add(field, "Unknown field"),
        }
    }
    errors.into_result()?;
    t.body = Value::Object(content).to_string();
    Ok(())
}

/// The right to put a template where `t` now says it lives.
async fn may_place(cx: &Api, t: &TemplateRecord) -> ApiResult<()> {
    if allowed(cx, t, Perm::Grant).await? {
        Ok(())
    } else {
        Err(forbidden(t.queue_id.is_some()))
    }
}

pub async fn list<const K: u8>(
    cx: Api,
    ApiQuery(p): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    list_in(cx, Kind::of(K), None, raw, Page::from_params(&p)?).await
}

pub async fn list_of_queue<const K: u8>(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = find_for(&cx.state, &cx.principal, &key, Perm::Read).await?;
    list_in(cx, Kind::of(K), Some(q), raw, Page::from_params(&p)?).await
}

pub async fn create<const K: u8>(
    cx: Api,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    let now = cx.clock.now();
    let mut t = TemplateRecord::new(cx.principal.org.id, kind.key(), cx.principal.user.uid, now);
    apply(&cx, kind, &mut t, Input::create(&body)).await?;
    may_place(&cx, &t).await?;
    let saved = cx.store.create_template(&t).await?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, kind, &saved).await?,
    ))
}

pub async fn get<const K: u8>(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let t = find(&cx, kind, &id, Perm::Read).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, kind, &t).await?))
}

pub async fn update<const K: u8>(
    cx: Api,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<VersionParam>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let mut t = find(&cx, kind, &id, Perm::Grant).await?;
    let body_version = body.get("version").and_then(Value::as_i64);
    check_version_of("template", t.version, p.version.or(body_version), &headers)?;
    apply(&cx, kind, &mut t, Input::update(&body)).await?;
    // Moving a template is placing it anew.
    may_place(&cx, &t).await?;
    t.updated_at = cx.clock.now();
    let saved = cx.store.update_template(&t).await?.ok_or_else(|| {
        ApiError::Conflict(
            "The template was changed by someone else; read it again and retry".into(),
        )
    })?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, kind, &saved).await?))
}

pub async fn delete<const K: u8>(cx: Api, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let kind = Kind::of(K);
    let t = find(&cx, kind, &id, Perm::Grant).await?;
    if !cx.store.delete_template(t.org, kind.key(), t.pk).await? {
        return Err(ApiError::NotFound(format!(
            "{} {id} not found",
            kind.what()
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}
