//! `GET /v2/issues/{key}/changelog`: every recorded change, `id` cursor paged.

use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_store::{AttachmentRecord, ChangelogQuery, IssueRecord, NewChangelog};

use crate::error::ApiResult;
use crate::extract::{Api, ApiQuery};
use crate::fields::field_display;
use crate::paging::{array_with_next, Cursor};
use crate::render::{time, Renderer};

/// Renders a stored raw value the way the field shows it elsewhere.
async fn value(r: &mut Renderer<'_>, field: &str, v: &Value) -> ApiResult<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match (field, v) {
        ("status", Value::String(k)) => r.status(k),
        ("priority", Value::String(k)) => r.priority(k),
        ("type", Value::String(k)) => r.issue_type(k),
        ("resolution", Value::String(k)) => r.resolution(k),
        ("assignee", Value::Number(n)) => r.user(n.as_i64().unwrap_or_default()).await?,
        ("followers", Value::Array(a)) => {
            let uids: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
            r.users(&uids).await?
        }
        ("parent", Value::Number(n)) => r.issue_ref(n.as_i64().unwrap_or_default()).await?,
        ("queue", Value::Number(n)) => r.queue(n.as_i64().unwrap_or_default()).await?,
        _ => v.clone(),
    })
}

async fn render(
    r: &mut Renderer<'_>,
    issue: &IssueRecord,
    c: &NewChangelog,
    files: &[AttachmentRecord],
) -> ApiResult<Value> {
    let mut fields = Vec::new();
    if let Ok(Value::Array(raw)) = serde_json::from_str::<Value>(&c.fields) {
        for f in raw {
            let name = f["field"].as_str().unwrap_or_default().to_owned();
            fields.push(json!({
                "field": {
                    "self": r.links.api(&format!("fields/{name}")),
                    "id": name,
                    "display": field_display(&name),
                },
                "from": value(r, &name, &f["from"]).await?,
                "to": value(r, &name, &f["to"]).await?,
            }));
        }
    }
    let mut v = json!({
        "id": c.id,
        "self": r.links.api(&format!("issues/{}/changelog/{}", issue.key, c.id)),
        "issue": r.issue_ref_of(issue),
        "updatedAt": time(&c.updated_at),
        "updatedBy": r.user(c.updated_by).await?,
        "type": c.kind,
        "transport": "front",
    });
    if !fields.is_empty() {
        v["fields"] = Value::Array(fields);
    }
    if let Ok(Value::Object(data)) = serde_json::from_str::<Value>(&c.data) {
        if let Some(Value::Number(with)) = data.get("with") {
            let other = r.issue_ref(with.as_i64().unwrap_or_default()).await?;
            v["links"] = json!([{ "type": data.get("type"), "direction": data.get("direction"), "object": other }]);
        }
        if let Some(Value::Object(remote)) = data.get("remote") {
            let app = remote
                .get("application")
                .and_then(Value::as_str)
                .unwrap_or_default();
            v["links"] = json!([{
                "type": data.get("type"),
                "direction": data.get("direction"),
                "object": {
                    "key": remote.get("key"),
                    "application": {
                        "self": r.links.api(&format!("applications/{app}")),
                        "id": app,
                    },
                },
            }]);
        }
        if let Some(Value::String(t)) = data.get("transition") {
            v["transition"] = json!({ "id": t });
        }
        if let Some(Value::Array(entries)) = data.get("attachments") {
            let side = if c.kind == "IssueAttachmentRemoved" {
                "removed"
            } else {
                "added"
            };
            v["attachments"] = json!({ side: attachment_refs(r, issue, entries, files) });
        }
    }
    Ok(v)
}

/// The files an attachment entry names, as references. An entry keeps what
/// was known when it was written (an id, a name or both); a missing name is
/// the file's while it is still attached (`files`: the issue's, read once a
/// page).
fn attachment_refs(
    r: &Renderer<'_>,
    issue: &IssueRecord,
    entries: &[Value],
    files: &[AttachmentRecord],
) -> Vec<Value> {
    let mut out = Vec::with_capacity(entries.len());
    for f in entries {
        let id = f.get("id").and_then(Value::as_i64);
        let mut name = f.get("name").and_then(Value::as_str).map(str::to_owned);
        if let (Some(pk), None) = (id, &name) {
            name = files.iter().find(|a| a.pk == pk).map(|a| a.name.clone());
        }
        let mut v = json!({});
        if let Some(pk) = id {
            v["self"] = json!(r
                .links
                .api(&format!("issues/{}/attachments/{pk}", issue.key)));
            v["id"] = json!(pk.to_string());
        }
        if let Some(n) = name {
            v["display"] = json!(n);
        }
        out.push(v);
    }
    out
}

#[derive(Default, Debug, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Params {
    pub id: Option<String>,
    pub per_page: Option<i64>,
    pub field: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

pub async fn list(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let page = Cursor::new(params.per_page)?;
    let q = ChangelogQuery {
        after: params.id.clone(),
        limit: page.fetch(),
        field: params.field.clone(),
        kind: params.kind.clone(),
    };
    let mut rows = cx.store.list_changelog(issue.pk, &q).await?;
    let url = cx.links.api(&format!("issues/{}/changelog", issue.key));
    let next = page
        .next(&mut rows, &url, |last| last.entry.id.clone())
        .map(|mut next| {
            for (k, v) in [("field", &params.field), ("type", &params.kind)] {
                if let Some(v) = v {
                    next.push_str(&format!("&{k}={}", url_escape(v)));
                }
            }
            next
        });
    let mut r = cx.renderer();
    let files = if rows
        .iter()
        .any(|c| c.entry.kind.starts_with("IssueAttachment"))
    {
        cx.store.list_attachments(issue.pk).await?
    } else {
        Vec::new()
    };
    let mut out = Vec::with_capacity(rows.len());
    for c in &rows {
        out.push(render(&mut r, &issue, &c.entry, &files).await?);
    }
    Ok(array_with_next(out, next))
}

fn url_escape(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|e| e[2..].to_owned())
        .unwrap_or_default()
}
