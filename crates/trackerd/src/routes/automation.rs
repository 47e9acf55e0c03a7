//! A queue's automation: macros (`/queues/{key}/macros`), triggers
//! (`/queues/{key}/triggers`) and auto-actions (`/queues/{key}/autoactions`),
//! kept as templates of kinds `macro`, `trigger` and `autoaction`; applying
//! a macro to an issue (`POST /issues/{key}/macros/{id}/_execute`, a trackerd
//! extension: the reference documents none); and the record of a trigger's
//! or auto-action's webhook deliveries (`…/{id}/deliveries`, an extension).
//! Macros are read by whoever reads the queue; triggers and auto-actions
//! (their webhooks may hold credentials) and every change only by the
//! queue's administrators. What they do is `crate::automation`'s.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{CommentWrite, DeliveryRecord, QueueRecord, TemplateRecord};

use crate::access::changes::{self, Edit};
use crate::access::issues::{check_version_of, write};
use crate::access::queues::find_for;
use crate::automation::{self, actions, conditions, schedule};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Api, ApiJson, ApiQuery};
use crate::fields::{field_display, FieldErrors, Input, GLOBAL_FIELDS};
use crate::paging::{Page, PageParams};
use crate::render::time;
use crate::routes::issues::VersionParam;
use crate::routes::template_content as content;

/// The kinds, as the handlers' const parameter.
pub const MACROS: u8 = 0;
pub const TRIGGERS: u8 = 1;
pub const AUTOACTIONS: u8 = 2;

template_kinds! {
    MACROS => Macro { key: automation::MACRO, path: "macros", what: "Macro" },
    TRIGGERS => Trigger { key: automation::TRIGGER, path: "triggers", what: "Trigger" },
    _ => Autoaction { key: automation::AUTOACTION, path: "autoactions", what: "Auto-action" },
}

impl Kind {
    /// What reading needs: a macro is the queue's users' tool; triggers and
    /// auto-actions are its administrators' settings.
    fn read_perm(self) -> Perm {
        match self {
            Kind::Macro => Perm::Read,
            _ => Perm::Grant,
        }
    }
}

/// Fields a macro may not set: they change only through transitions and
/// moves, or are the system's.
const NOT_SETTABLE: &[&str] = &[
    "status",
    "queue",
    "key",
    "createdBy",
    "createdAt",
    "updatedAt",
    "resolvedAt",
];

async fn render(cx: &Api, kind: Kind, q: &QueueRecord, t: &TemplateRecord) -> ApiResult<Value> {
    let c = content(t);
    let get = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    let mut v = json!({
        "self": cx.links.api(&format!("queues/{}/{}/{}", q.key, kind.path(), t.pk)),
        "id": t.pk,
        "queue": crate::render::queue_ref(&cx.links, q),
        "name": t.name,
    });
    match kind {
        Kind::Macro => {
            v["body"] = get("body");
            let changes: Vec<Value> = c
                .get("fieldChanges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|fc| {
                    let id = fc.get("field").and_then(Value::as_str).unwrap_or_default();
                    let value = match fc.get("value") {
                        Some(Value::Array(a)) => Value::Array(a.clone()),
                        Some(other) => json!([other]),
                        None => json!([]),
                    };
                    json!({
                        "field": {
                            "self": cx.links.api(&format!("fields/{id}")),
                            "id": id,
                            "display": field_display(id),
                        },
                        "value": value,
                    })
                })
                .collect();
            v["fieldChanges"] = Value::Array(changes);
        }
        Kind::Trigger => {
            v["order"] = json!(format!("{:.4}", t.pk as f64 / 10_000.0));
            v["actions"] = get("actions");
            v["conditions"] = c.get("conditions").cloned().unwrap_or(json!([]));
            v["version"] = json!(t.version);
            v["active"] = json!(c.get("active").and_then(Value::as_bool).unwrap_or(true));
        }
        Kind::Autoaction => {
            let last = cx.store.last_run(t.pk).await?;
            v["version"] = json!(t.version);
            v["active"] = json!(c.get("active").and_then(Value::as_bool).unwrap_or(true));
            v["created"] = json!(time(&t.created_at));
            v["updated"] = json!(time(&t.updated_at));
            if let Some(f) = c.get("filter") {
                v["filter"] = f.clone();
            }
            if let Some(query) = c.get("query") {
                v["query"] = query.clone();
            }
            v["actions"] = get("actions");
            v["enableNotifications"] = json!(c
                .get("enableNotifications")
                .and_then(Value::as_bool)
                .unwrap_or(false));
            v["totalIssuesProcessed"] = json!(last.map_or(0, |(_, n)| n));
            v["intervalMillis"] = json!(schedule::interval_ms(&c));
            v["calendar"] = get("calendar");
        }
    }
    Ok(v)
}

/// The queue the path names, if the caller holds `perm` on it.
async fn queue(cx: &Api, key: &str, perm: Perm) -> ApiResult<QueueRecord> {
    find_for(&cx.state, &cx.principal, key, perm).await
}

/// The queue's automation object the path names.
async fn find(cx: &Api, kind: Kind, q: &QueueRecord, id: &str) -> ApiResult<TemplateRecord> {
    let missing = || ApiError::NotFound(format!("{} {id} not found", kind.what()));
    let pk = id.parse::<i64>().map_err(|_| missing())?;
    cx.store
        .template(cx.principal.org.id, kind.key(), pk)
        .await?
        .filter(|t| t.queue_id == Some(q.id))
        .ok_or_else(missing)
}

/// A macro's `fieldChanges` item: `{field, value}` with a field it may set.
fn field_change(v: &Value) -> Result<Value, String> {
    let field = v
        .get("field")
        .and_then(|f| conditions::value_strings(f).into_iter().next())
        .ok_or("each field change needs a field")?;
    let id = conditions::field_id(&field);
    let known = GLOBAL_FIELDS.iter().any(|(f, _, _)| *f == id) || id.contains("--");
    if !known || NOT_SETTABLE.contains(&id.as_str()) {
        return Err(format!("a macro cannot set the field {field}"));
    }
    let value = v
        .get("value")
        .cloned()
        .ok_or("each field change needs a value")?;
    Ok(json!({"field": id, "value": value}))
}

fn field_changes(current: &Value, v: &Value) -> Result<Value, String> {
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    match v {
        Value::Null => list.clear(),
        Value::Array(items) => {
            list = items.iter().map(field_change).collect::<Result<_, _>>()?;
        }
        Value::Object(ops) => {
            for (op, items) in ops {
                let items = items
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![items.clone()]);
                for item in &items {
                    match op.as_str() {
                        "add" => list.push(field_change(item)?),
                        "replace" => {
                            let target = field_change(item.get("target").unwrap_or(&Value::Null))?;
                            let with =
                                field_change(item.get("replacement").unwrap_or(&Value::Null))?;
                            let at = list.iter().position(|x| *x == target).ok_or(
                                "the target of a replace is not among the macro's changes",
                            )?;
                            list[at] = with;
                        }
                        "remove" => {
                            let target = field_change(item)?;
                            list.retain(|x| *x != target);
                        }
                        other => {
                            return Err(format!("fieldChanges operation {other} is not supported"))
                        }
                    }
                }
            }
        }
        _ => return Err("fieldChanges must be an array or an object of operations".into()),
    }
    Ok(Value::Array(list))
}

/// Reads the fields a create or an edit sets onto `t`; all invalid fields
/// are reported together.
fn apply(kind: Kind, t: &mut TemplateRecord, input: Input<'_>) -> ApiResult<()> {
    let body = input.body;
    let mut errors = FieldErrors::default();
    let mut c = content(t);
    input.require(&mut errors, &["name"]);
    if kind != Kind::Macro {
        input.require(&mut errors, &["actions"]);
    }
    if input.creating
        && kind == Kind::Autoaction
        && body.get("filter").is_none_or(Value::is_null)
        && body.get("query").is_none_or(Value::is_null)
    {
        errors.add("filter", "An auto-action needs a filter or a query");
    }
    for (field, value) in body {
        let put = |c: &mut Map<String, Value>| {
            c.insert(field.clone(), value.clone());
        };
        match (field.as_str(), kind) {
            ("name", _) => match value.as_str().map(str::trim) {
                Some(n) if !n.is_empty() && n.len() <= 255 => t.name = n.to_owned(),
                _ => errors.add(field, "The name must be a non-empty string"),
            },
            ("body", Kind::Macro) => match value {
                Value::String(_) => put(&mut c),
                Value::Null => {
                    c.remove("body");
                }
                Value::Object(o) if o.contains_key("unset") => {
                    c.remove("body");
                }
                _ => errors.add(field, "The body must be a string, or {\"unset\": 1}"),
            },
            ("fieldChanges", Kind::Macro) => {
                match field_changes(c.get("fieldChanges").unwrap_or(&Value::Null), value) {
                    Ok(list) => {
                        c.insert(field.clone(), list);
                    }
                    Err(e) => errors.add(field, e),
                }
            }
            ("actions", Kind::Trigger | Kind::Autoaction) => match actions::parse_list(value) {
                Ok(_) => {
                    let numbered: Vec<Value> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, a)| {
                            let mut a = a.clone();
                            a["id"] = json!(i + 1);
                            a
                        })
                        .collect();
                    c.insert(field.clone(), Value::Array(numbered));
                }
                Err(e) => errors.add(field, e),
            },
            ("conditions", Kind::Trigger) => match conditions::parse_list(value) {
                Ok(_) => put(&mut c),
                Err(e) => errors.add(field, e),
            },
            ("active", Kind::Trigger | Kind::Autoaction)
            | ("enableNotifications", Kind::Autoaction) => match value {
                Value::Bool(_) => put(&mut c),
                _ => errors.add(field, "Expected true or false"),
            },
            ("filter", Kind::Autoaction) => match value {
                Value::Object(_) => put(&mut c),
                Value::Null => {
                    c.remove("filter");
                }
                _ => errors.add(field, "The filter must be an object of field values"),
            },
            ("query", Kind::Autoaction) => match value {
                Value::String(s) if !s.trim().is_empty() => put(&mut c),
                Value::Null => {
                    c.remove("query");
                }
                _ => errors.add(field, "The query must be a non-empty string"),
            },
            ("intervalMillis", Kind::Autoaction) => match value.as_i64() {
                Some(n) if n >= schedule::MIN_INTERVAL_MS => put(&mut c),
                _ => errors.add(
                    field,
                    format!(
                        "The interval must be at least {} milliseconds",
                        schedule::MIN_INTERVAL_MS
                    ),
                ),
            },
            ("calendar", Kind::Autoaction) if value.is_null() => {}
            ("calendar", Kind::Autoaction) => errors.add(
                field,
                "Work schedules (calendar) are not supported by trackerd",
            ),
            // The optimistic-lock version some clients send in the body.
            ("version", _) if !input.creating => {}
            _ => errors.add(field, "Unknown field"),
        }
    }
    errors.into_result()?;
    t.body = Value::Object(c).to_string();
    Ok(())
}

pub async fn list<const K: u8>(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, kind.read_perm()).await?;
    let page = Page::from_params(&p)?;
    let all = cx
        .store
        .queue_templates(cx.principal.org.id, kind.key(), q.id)
        .await?;
    let mut out = Vec::new();
    for t in page.of(&all) {
        out.push(render(&cx, kind, &q, t).await?);
    }
    let url = cx.links.api(&format!("queues/{}/{}", q.key, kind.path()));
    Ok((
        page.headers(all.len() as i64, &url, raw.as_deref()),
        Json(Value::Array(out)),
    )
        .into_response())
}

pub async fn create<const K: u8>(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, Perm::Grant).await?;
    let mut t = TemplateRecord::new(
        cx.principal.org.id,
        kind.key(),
        cx.principal.user.uid,
        cx.clock.now(),
    );
    t.queue_id = Some(q.id);
    apply(kind, &mut t, Input::create(&body))?;
    let saved = cx.store.create_template(&t).await?;
    // The reference answers a creation with 200.
    Ok((StatusCode::OK, Json(render(&cx, kind, &q, &saved).await?)).into_response())
}

pub async fn get<const K: u8>(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, kind.read_perm()).await?;
    let t = find(&cx, kind, &q, &id).await?;
    Ok(Json(render(&cx, kind, &q, &t).await?))
}

pub async fn update<const K: u8>(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<VersionParam>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, Perm::Grant).await?;
    let mut t = find(&cx, kind, &q, &id).await?;
    let body_version = body.get("version").and_then(Value::as_i64);
    check_version_of(
        kind.key(),
        t.version,
        params.version.or(body_version),
        &headers,
    )?;
    apply(kind, &mut t, Input::update(&body))?;
    t.updated_at = cx.clock.now();
    let saved = cx.store.update_template(&t).await?.ok_or_else(|| {
        ApiError::Conflict(format!(
            "The {} was changed by someone else; read it again and retry",
            kind.what().to_lowercase()
        ))
    })?;
    Ok(Json(render(&cx, kind, &q, &saved).await?))
}

pub async fn delete<const K: u8>(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, Perm::Grant).await?;
    let t = find(&cx, kind, &q, &id).await?;
    if !cx.store.delete_template(t.org, kind.key(), t.pk).await? {
        return Err(ApiError::NotFound(format!(
            "{} {id} not found",
            kind.what()
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn delivery_json(d: &DeliveryRecord) -> Value {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| json!(time(&t)))
            .unwrap_or(Value::Null)
    };
    json!({
        "id": d.pk,
        "issue": d.request.issue_key,
        "event": d.request.event,
        "method": d.request.method,
        "url": d.request.url,
        "body": d.request.body,
        "status": d.state,
        "attempts": d.attempts,
        "lastResponseStatus": d.last_status,
        "lastError": d.last_error,
        "createdAt": at(d.request.created_ms),
        "updatedAt": at(d.updated_ms),
        "nextAttemptAt": if d.state == "pending" { at(d.next_attempt_ms) } else { Value::Null },
    })
}

/// `GET /queues/{key}/triggers/{id}/deliveries` (and an auto-action's): the
/// webhook deliveries its actions asked for, newest first (an extension).
pub async fn deliveries<const K: u8>(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<PageParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let kind = Kind::of(K);
    let q = queue(&cx, &key, Perm::Grant).await?;
    let t = find(&cx, kind, &q, &id).await?;
    let page = Page::from_params(&p)?;
    let (rows, total) = cx
        .store
        .list_deliveries(t.org, t.pk, page.offset(), page.size)
        .await?;
    let url = cx.links.api(&format!(
        "queues/{}/{}/{}/deliveries",
        q.key,
        kind.path(),
        t.pk
    ));
    Ok((
        page.headers(total, &url, raw.as_deref()),
        Json(Value::Array(rows.iter().map(delivery_json).collect())),
    )
        .into_response())
}

/// `POST /issues/{key}/macros/{id}/_execute`: the macro's field changes and
/// comment, by the caller, as one write with one changelog entry.
pub async fn execute_macro(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let q = cx
        .store
        .queue_by_id(cx.principal.org.id, issue.queue_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Issue {key} not found")))?;
    let t = find(&cx, Kind::Macro, &q, &id).await?;
    let c = content(&t);
    let mut values = Map::new();
    for fc in c
        .get("fieldChanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(f), Some(v)) = (fc.get("field").and_then(Value::as_str), fc.get("value")) {
            values.insert(f.to_owned(), v.clone());
        }
    }
    let text = match c.get("body").and_then(Value::as_str) {
        Some(b) if !b.trim().is_empty() => {
            let vars = automation::placeholders(&cx.state, &cx.principal, &issue).await?;
            Some(actions::fill(b, &vars))
        }
        _ => None,
    };
    let mut w = match changes::update(&cx.state, &cx.principal, issue.clone(), &values, &[]).await?
    {
        Edit::Write(w) => *w,
        Edit::Unchanged(issue) if text.is_some() => crate::access::issues::simple_write(
            *issue,
            crate::access::issues::changelog(
                &cx.principal,
                cx.clock.now(),
                "IssueUpdated",
                &[],
                json!({}),
            ),
        ),
        Edit::Unchanged(_) => {
            return Err(ApiError::Unprocessable {
                message: format!("Macro {id} changes nothing on {key}"),
                errors: Default::default(),
            })
        }
    };
    if let Some(text) = text {
        // The comment rides in the macro's one write and one entry.
        let mut with_comment =
            automation::comment_write(&cx.state, &cx.principal, w.issue.clone(), text);
        if let Some(CommentWrite::Insert(comment)) = with_comment.comment.take() {
            w.issue = with_comment.issue;
            w.comment = Some(CommentWrite::Insert(comment));
        }
    }
    if let Some((_, entry)) = w.changelog.first_mut() {
        entry.data = json!({ "macro": t.pk }).to_string();
    }
    let saved = write(&cx.state, w).await?;
    cx.issue_json(&saved, &Default::default()).await
}
