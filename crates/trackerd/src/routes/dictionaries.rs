//! The standard dictionaries, global fields and the default workflow.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::workflow;

use crate::app::{AppState, Links};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::fields::{ARRAY_FIELDS, GLOBAL_FIELDS};

fn entry(links: &Links, collection: &str, e: &Entry) -> Value {
    json!({
        "self": links.api(&format!("{collection}/{}", e.id)),
        "id": e.id,
        "key": e.key,
        "version": 1,
        "name": e.display,
        "display": e.display,
        "order": e.id,
    })
}

fn list(links: &Links, collection: &str, dict: &[Entry]) -> Json<Value> {
    Json(Value::Array(
        dict.iter().map(|e| entry(links, collection, e)).collect(),
    ))
}

fn one(
    links: &Links,
    collection: &str,
    dict: &'static [Entry],
    id: &str,
) -> ApiResult<Json<Value>> {
    dictionaries::find(dict, id)
        .map(|e| Json(entry(links, collection, &e)))
        .ok_or_else(|| ApiError::NotFound(format!("{collection}/{id} not found")))
}

pub async fn statuses(_: Principal, links: Links) -> Json<Value> {
    list(&links, "statuses", dictionaries::STATUSES)
}
pub async fn status(_: Principal, links: Links, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    one(&links, "statuses", dictionaries::STATUSES, &id)
}
pub async fn priorities(_: Principal, links: Links) -> Json<Value> {
    list(&links, "priorities", dictionaries::PRIORITIES)
}
pub async fn priority(
    _: Principal,
    links: Links,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    one(&links, "priorities", dictionaries::PRIORITIES, &id)
}
pub async fn issue_types(_: Principal, links: Links) -> Json<Value> {
    list(&links, "issuetypes", dictionaries::ISSUE_TYPES)
}
pub async fn issue_type(
    _: Principal,
    links: Links,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    one(&links, "issuetypes", dictionaries::ISSUE_TYPES, &id)
}
pub async fn resolutions(_: Principal, links: Links) -> Json<Value> {
    list(&links, "resolutions", dictionaries::RESOLUTIONS)
}
pub async fn resolution(
    _: Principal,
    links: Links,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    one(&links, "resolutions", dictionaries::RESOLUTIONS, &id)
}

pub async fn link_types(_: Principal, links: Links) -> Json<Value> {
    Json(Value::Array(
        dictionaries::LINK_TYPES
            .iter()
            .map(|t| {
                json!({
                    "self": links.api(&format!("linktypes/{}", t.id)),
                    "id": t.id,
                    "inward": t.inward,
                    "outward": t.outward,
                })
            })
            .collect(),
    ))
}

fn field_json(links: &Links, (id, name, kind): &(&str, &str, &str)) -> Value {
    json!({
        "self": links.api(&format!("fields/{id}")),
        "id": id,
        "name": name,
        "key": id,
        "version": 1,
        "schema": if ARRAY_FIELDS.contains(id) {
            json!({ "type": "array", "items": kind, "required": false })
        } else {
            json!({ "type": kind, "required": *id == "summary" })
        },
        "readonly": matches!(*id, "createdBy" | "createdAt" | "updatedAt" | "resolvedAt" | "status" | "queue"),
        "options": true,
        "suggest": false,
        "order": 1,
    })
}

pub async fn fields(_: Principal, links: Links) -> Json<Value> {
    Json(Value::Array(
        GLOBAL_FIELDS
            .iter()
            .map(|f| field_json(&links, f))
            .collect(),
    ))
}

pub async fn field(_: Principal, links: Links, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    GLOBAL_FIELDS
        .iter()
        .find(|(f, _, _)| *f == id)
        .map(|f| Json(field_json(&links, f)))
        .ok_or_else(|| ApiError::NotFound(format!("Field {id} not found")))
}

pub fn workflow_json(links: &Links) -> Value {
    let statuses: Vec<Value> = dictionaries::STATUSES
        .iter()
        .map(|s| {
            json!({
                "status": { "self": links.api(&format!("statuses/{}", s.id)), "id": s.id.to_string(), "key": s.key, "display": s.display },
                "transitions": workflow::transitions_from(s.key).iter().map(|t| json!({ "id": t.id, "display": t.display, "to": t.to })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "self": links.api(&format!("workflows/{}", workflow::WORKFLOW_ID)),
        "id": workflow::WORKFLOW_ID,
        "name": workflow::WORKFLOW_NAME,
        "initialStatus": { "key": dictionaries::INITIAL_STATUS },
        "steps": statuses,
    })
}

pub async fn workflows(_: Principal, links: Links, State(_): State<AppState>) -> Json<Value> {
    Json(json!([workflow_json(&links)]))
}
