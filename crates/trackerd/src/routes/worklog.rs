//! Records of time spent on an issue, and the organization-wide search of
//! them. Each record's change is one write of its issue: the issue's `spent`
//! (the sum of its records, in business time) and changelog move with it.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracker_domain::duration::Duration;
use tracker_domain::permissions::Perm;
use tracker_store::{IssueRecord, NewChangelog, WorklogQuery, WorklogRecord, WorklogWrite};

use crate::access::issues::{changelog, check_version_of, simple_write, write_fresh};
use crate::access::Guard;
use crate::access::{by_number, written};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, Links};
use crate::fields::{self, changes_json, FieldChange};
use crate::ids::object_id;
use crate::paging::array_with_next;
use crate::render::{time, Renderer};
use crate::state::AppState;

/// The most records one search answers; the `Link` header pages on.
const SEARCH_PAGE: i64 = 1000;

async fn render(
    r: &mut Renderer<'_>,
    issue: &Value,
    key: &str,
    w: &WorklogRecord,
) -> ApiResult<Value> {
    let mut v = json!({
        "self": r.links.api(&format!("issues/{key}/worklog/{}", w.pk)),
        "id": w.pk,
        "version": w.version,
        "issue": issue,
        "start": time(&w.start),
        "duration": Duration::from_seconds(w.seconds).unwrap_or_default().to_string(),
    });
    let updated = (Some(w.updated_by), &w.updated_at);
    r.authorship(&mut v, (w.created_by, &w.created_at), updated)
        .await?;
    if !w.comment.is_empty() {
        v["comment"] = json!(w.comment);
    }
    Ok(v)
}

pub(crate) async fn render_one(
    cx: &Api,
    issue: &IssueRecord,
    w: &WorklogRecord,
) -> ApiResult<Value> {
    let mut r = cx.renderer();
    let issue_ref = r.issue_ref_of(issue);
    render(&mut r, &issue_ref, &issue.key, w).await
}

/// Tracker's timestamps (`2021-09-21T15:30:00.000+0500`, RFC 3339), or a
/// date and time without an offset, read as UTC as the reference's search
/// example sends it.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    tracker_api::time::parse(s).or_else(|| {
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc())
    })
}

pub(crate) fn time_field(field: &str, v: &Value) -> ApiResult<DateTime<Utc>> {
    v.as_str().and_then(parse_time).ok_or_else(|| {
        ApiError::field(
            field,
            "Expected a date and time such as 2021-09-21T15:30:00.000+0500",
        )
    })
}

pub(crate) fn duration_field(v: &Value) -> ApiResult<Duration> {
    let s = v.as_str().ok_or_else(|| {
        ApiError::field("duration", "Expected an ISO 8601 period such as PT1H30M")
    })?;
    Duration::parse(s).map_err(|e| ApiError::field("duration", e.to_string()))
}

pub(crate) fn comment_field(v: Option<&Value>) -> ApiResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field("comment", "Expected a string")),
    }
}

/// The issue's `spent` after adding `add` and removing `sub` seconds, with the change for the changelog.
fn respend(issue: &mut IssueRecord, add: i64, sub: i64) -> FieldChange {
    let mut extra: Map<String, Value> = serde_json::from_str(&issue.extra).unwrap_or_default();
    let old = extra.get("spent").cloned().unwrap_or(Value::Null);
    let before = old
        .as_str()
        .and_then(|s| Duration::parse(s).ok())
        .unwrap_or_default();
    let after = before
        .saturating_add(Duration::from_seconds(add).unwrap_or_default())
        .saturating_sub(Duration::from_seconds(sub).unwrap_or_default());
    let new = if after.seconds() == 0 {
        Value::Null
    } else {
        json!(after.to_string())
    };
    if new.is_null() {
        extra.remove("spent");
    } else {
        extra.insert("spent".into(), new.clone());
    }
    issue.extra = Value::Object(extra).to_string();
    FieldChange {
        field: "spent".into(),
        from: old,
        to: new,
    }
}

async fn find(state: &AppState, issue: &IssueRecord, id: &str) -> ApiResult<WorklogRecord> {
    by_number("Worklog record", id, |pk| state.store.worklog(issue.pk, pk)).await
}

fn may_change(principal: &Principal, w: &WorklogRecord) -> ApiResult<()> {
    if w.created_by == principal.user.uid || principal.org_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only the author or an administrator may change this record".into(),
        ))
    }
}

/// Applies a record's change to its issue, retrying on a lost race: adding
/// time does not depend on the version the client read. A change from the
/// past (`history`: an import's date and author) is recorded then and by
/// them, and leaves the issue's update time as it was.
async fn save(
    state: &AppState,
    principal: &Principal,
    issue: IssueRecord,
    (kind, history): (&str, Option<(DateTime<Utc>, i64)>),
    write: WorklogWrite,
    (add, sub): (i64, i64),
) -> ApiResult<IssueRecord> {
    let now = state.clock.now();
    write_fresh(state, principal, issue, |mut issue| {
        let change = respend(&mut issue, add, sub);
        let changes: Vec<FieldChange> = if change.from == change.to {
            Vec::new()
        } else {
            vec![change]
        };
        let entry = match history {
            None => {
                issue.updated_at = now;
                issue.updated_by = principal.user.uid;
                changelog(principal, now, kind, &changes, json!({}))
            }
            Some((at, by)) => NewChangelog {
                id: object_id(at),
                kind: kind.to_owned(),
                updated_by: by,
                updated_at: at,
                fields: changes_json(&changes),
                data: json!({ "imported": true }).to_string(),
            },
        };
        let mut w = simple_write(issue, entry);
        w.worklog = Some(write.clone());
        Ok(w)
    })
    .await
}

/// Adds a record to its issue and reads it back.
pub(crate) async fn add(
    cx: &Api,
    issue: IssueRecord,
    record: WorklogRecord,
    history: Option<(DateTime<Utc>, i64)>,
) -> ApiResult<Value> {
    let (author, seconds, start) = (record.created_by, record.seconds, record.start);
    let saved = save(
        &cx.state,
        &cx.principal,
        issue,
        ("IssueWorklogAdded", history),
        WorklogWrite::Insert(record),
        (seconds, 0),
    )
    .await?;
    // The record just written: the newest of this author's on the issue.
    let rows = cx.store.list_worklog(saved.pk).await?.into_iter().rev();
    // The engines keep times to different precision: match on what the
    // client sent. Two identical records racing are told apart by nothing
    // the client can see but their ids.
    let w = written(rows, "a worklog record", |w| {
        w.created_by == author
            && w.seconds == seconds
            && w.start.timestamp_millis() == start.timestamp_millis()
    })?;
    render_one(cx, &saved, &w).await
}

pub async fn create(
    cx: Api,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let start = time_field("start", body.get("start").unwrap_or(&Value::Null))?;
    let duration = duration_field(body.get("duration").unwrap_or(&Value::Null))?;
    let comment = comment_field(body.get("comment"))?.unwrap_or_default();
    let now = cx.clock.now();
    let record = WorklogRecord {
        pk: 0,
        org: cx.principal.org.id,
        issue_pk: issue.pk,
        comment,
        start,
        seconds: duration.seconds(),
        created_by: cx.principal.user.uid,
        updated_by: cx.principal.user.uid,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    Ok(json(
        StatusCode::CREATED,
        &add(&cx, issue, record, None).await?,
    ))
}

pub async fn list(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let rows = cx.store.list_worklog(issue.pk).await?;
    let mut r = cx.renderer();
    let issue_ref = r.issue_ref_of(&issue);
    let mut out = Vec::with_capacity(rows.len());
    for w in &rows {
        out.push(render(&mut r, &issue_ref, &issue.key, w).await?);
    }
    Ok(Json(Value::Array(out)))
}

pub async fn update(
    cx: Api,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let mut w = find(&cx.state, &issue, &id).await?;
    may_change(&cx.principal, &w)?;
    // The official client sends the record's version it read as `If-Match`.
    check_version_of("record", w.version, None, &headers)?;
    let old_seconds = w.seconds;
    if let Some(v) = body.get("duration").filter(|v| !v.is_null()) {
        w.seconds = duration_field(v)?.seconds();
    }
    if let Some(v) = body.get("start").filter(|v| !v.is_null()) {
        w.start = time_field("start", v)?;
    }
    if let Some(c) = comment_field(body.get("comment"))? {
        w.comment = c;
    }
    w.updated_by = cx.principal.user.uid;
    w.updated_at = cx.clock.now();
    let saved = save(
        &cx.state,
        &cx.principal,
        issue,
        ("IssueWorklogChanged", None),
        WorklogWrite::Update(w.clone()),
        (w.seconds, old_seconds),
    )
    .await?;
    let w = find(&cx.state, &saved, &id).await?;
    Ok(Json(render_one(&cx, &saved, &w).await?))
}

pub async fn delete(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let issue = cx.issue(&key).await?;
    let w = find(&cx.state, &issue, &id).await?;
    may_change(&cx.principal, &w)?;
    save(
        &cx.state,
        &cx.principal,
        issue,
        ("IssueWorklogRemoved", None),
        WorklogWrite::Delete(w.pk),
        (0, w.seconds),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2/worklog/_search`'s body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(default)]
pub struct SearchBody {
    pub created_by: Option<Value>,
    pub created_at: Option<Range>,
    /// Records after this id (the `Link` header's cursor).
    pub id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn search(cx: Api, ApiJson(body): ApiJson<SearchBody>) -> ApiResult<Response> {
    run_search(&cx.state, &cx.principal, &cx.links, body).await
}

/// `GET /v2/worklog?createdBy=…&createdAt=from:…&createdAt=to:…`: the same
/// search with its conditions in the query string (`createdAt` repeated).
pub async fn search_get(cx: Api, RawQuery(raw): RawQuery) -> ApiResult<Response> {
    let mut body = SearchBody::default();
    let mut range = Range::default();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "createdBy" => body.created_by = Some(Value::String(v.into_owned())),
            "createdAt" => match v.split_once(':') {
                Some(("from", t)) => range.from = Some(t.to_owned()),
                Some(("to", t)) => range.to = Some(t.to_owned()),
                _ => {
                    return Err(ApiError::BadRequest(
                        "createdAt is from:<time> or to:<time>".into(),
                    ))
                }
            },
            "id" => {
                body.id =
                    Some(v.parse().map_err(|_| {
                        ApiError::BadRequest("id must be a worklog record id".into())
                    })?)
            }
            _ => {}
        }
    }
    if range.from.is_some() || range.to.is_some() {
        body.created_at = Some(range);
    }
    run_search(&cx.state, &cx.principal, &cx.links, body).await
}

async fn run_search(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    body: SearchBody,
) -> ApiResult<Response> {
    let org = principal.org.id;
    let created_by = match &body.created_by {
        None | Some(Value::Null) => None,
        Some(v) => match fields::user(state, org, v).await? {
            Ok(Some(uid)) => Some(uid),
            // Nobody by that name wrote anything.
            Ok(None) | Err(_) => return Ok(Json(Value::Array(Vec::new())).into_response()),
        },
    };
    let range = body.created_at.unwrap_or_default();
    let bound = |field: &str, v: &Option<String>| -> ApiResult<Option<DateTime<Utc>>> {
        v.as_deref()
            .map(|s| time_field(field, &json!(s)))
            .transpose()
    };
    let mut q = WorklogQuery {
        org,
        created_by,
        from: bound("createdAt.from", &range.from)?,
        to: bound("createdAt.to", &range.to)?,
        after_pk: body.id.unwrap_or(0),
        limit: SEARCH_PAGE,
    };
    // Records of issues the caller may not read are left out, so a page may
    // need several batches; the cursor is the last record looked at.
    let mut guard = Guard::new(state, principal);
    let mut r = Renderer::new(links, state.store.as_ref(), org);
    let mut out = Vec::new();
    let mut issues: std::collections::HashMap<i64, Option<(IssueRecord, Value)>> =
        Default::default();
    // The last record looked at when the page filled up: where the next starts.
    let last_seen = 'batches: loop {
        let rows = state.store.search_worklog(&q).await?;
        let exhausted = (rows.len() as i64) < q.limit;
        for w in rows {
            q.after_pk = w.pk;
            if let std::collections::hash_map::Entry::Vacant(slot) = issues.entry(w.issue_pk) {
                let found = match state.store.issue_by_pk(org, w.issue_pk).await? {
                    Some(i) if guard.issue_allows(&i, Perm::Read).await? => {
                        let issue_ref = r.issue_ref_of(&i);
                        Some((i, issue_ref))
                    }
                    _ => None,
                };
                slot.insert(found);
            }
            if let Some(Some((issue, issue_ref))) = issues.get(&w.issue_pk) {
                out.push(render(&mut r, issue_ref, &issue.key, &w).await?);
                if out.len() as i64 >= SEARCH_PAGE {
                    break 'batches Some(w.pk);
                }
            }
        }
        if exhausted {
            break None;
        }
    };
    // The next page is the same search as a GET, after the last record.
    let next = last_seen.map(|last| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(uid) = created_by {
            query.append_pair("createdBy", &uid.to_string());
        }
        for (name, t) in [("from", q.from), ("to", q.to)] {
            if let Some(t) = t {
                query.append_pair(
                    "createdAt",
                    &format!("{name}:{}", tracker_api::time::format(&t)),
                );
            }
        }
        query.append_pair("id", &last.to_string());
        format!("{}?{}", links.api("worklog"), query.finish())
    });
    Ok(array_with_next(out, next))
}
