//! The standard dictionaries, global fields and the default workflow.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use tracker_domain::dictionaries::{self, Entry};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::Links;
use crate::render::workflow_json;
use crate::state::AppState;

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

/// A status carries its type, by which clients find the closing transition.
fn with_type(mut v: Value) -> Value {
    if let Some(key) = v["key"].as_str() {
        v["type"] = json!(dictionaries::status_type(key));
    }
    v
}

pub async fn statuses(_: Principal, links: Links) -> Json<Value> {
    let Json(list) = list(&links, "statuses", dictionaries::STATUSES);
    Json(Value::Array(
        list.as_array()
            .into_iter()
            .flatten()
            .cloned()
            .map(with_type)
            .collect(),
    ))
}
pub async fn status(_: Principal, links: Links, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let Json(v) = one(&links, "statuses", dictionaries::STATUSES, &id)?;
    Ok(Json(with_type(v)))
}
/// The plain dictionaries, as the handlers' const parameter: an index into
/// [`PLAIN`], each with the collection its links name.
pub const PRIORITIES: u8 = 0;
pub const ISSUE_TYPES: u8 = 1;
pub const RESOLUTIONS: u8 = 2;
const PLAIN: [(&str, &[Entry]); 3] = [
    ("priorities", dictionaries::PRIORITIES),
    ("issuetypes", dictionaries::ISSUE_TYPES),
    ("resolutions", dictionaries::RESOLUTIONS),
];

pub async fn plain_list<const D: u8>(_: Principal, links: Links) -> Json<Value> {
    let (collection, dict) = PLAIN[usize::from(D)];
    list(&links, collection, dict)
}

pub async fn plain_one<const D: u8>(
    _: Principal,
    links: Links,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (collection, dict) = PLAIN[usize::from(D)];
    one(&links, collection, dict, &id)
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

pub async fn workflows(_: Principal, links: Links, State(_): State<AppState>) -> Json<Value> {
    Json(json!([workflow_json(&links)]))
}
