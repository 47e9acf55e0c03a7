//! A queue's issue types (`issueTypesConfig`): which types its issues may
//! have, and for each the resolutions its issues may be closed with. A
//! queue created without one offers every type with every resolution.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::workflow;
use tracker_store::QueueRecord;

use crate::error::{ApiError, ApiResult};
use crate::extract::Links;
use crate::fields::{dict, FieldErrors};

/// One type of a queue's configuration, as stored (keys only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeConfig {
    #[serde(rename = "type")]
    pub issue_type: String,
    pub resolutions: Vec<String>,
}

/// The queue's types; an empty column means all of them.
pub fn of(q: &QueueRecord) -> Vec<TypeConfig> {
    stored(&q.issue_types)
}

/// Whether a stored configuration offers the type `key`.
pub fn has_type(stored_config: &str, key: &str) -> bool {
    stored(stored_config).iter().any(|c| c.issue_type == key)
}

fn stored(text: &str) -> Vec<TypeConfig> {
    serde_json::from_str::<Vec<TypeConfig>>(text)
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| {
            dictionaries::ISSUE_TYPES
                .iter()
                .map(|t| TypeConfig {
                    issue_type: t.key.to_owned(),
                    resolutions: dictionaries::RESOLUTIONS
                        .iter()
                        .map(|r| r.key.to_owned())
                        .collect(),
                })
                .collect()
        })
}

/// Why an issue of `q` may not have type `key`, if it may not.
pub fn refuse_type(q: &QueueRecord, key: &str) -> Option<String> {
    (!has_type(&q.issue_types, key)).then(|| {
        format!(
            "Issue type {key} is not used in queue {}; its types are {}",
            q.key,
            of(q)
                .iter()
                .map(|c| c.issue_type.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// An issue of type `key` may enter `q` (a move, a clone).
pub fn require_type(q: &QueueRecord, key: &str) -> ApiResult<()> {
    refuse_type(q, key).map_or(Ok(()), |e| Err(ApiError::field("type", e)))
}

/// Why an issue of type `issue_type` in `q` may not be resolved `key`.
pub fn refuse_resolution(q: &QueueRecord, issue_type: &str, key: &str) -> Option<String> {
    let config = of(q);
    let allowed = config.iter().find(|c| c.issue_type == issue_type)?;
    (!allowed.resolutions.iter().any(|r| r == key)).then(|| {
        format!(
            "Resolution {key} is not used for {issue_type} issues in queue {}; use one of {}",
            q.key,
            allowed.resolutions.join(", ")
        )
    })
}

/// Reads an `issueTypesConfig` body value into what is stored (JSON text),
/// noting each bad element under the field's name.
pub fn parse(v: &Value, errors: &mut FieldErrors) -> String {
    const FIELD: &str = "issueTypesConfig";
    let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
        errors.add(FIELD, "Expected a non-empty array of issue type settings");
        return String::new();
    };
    let mut out: Vec<TypeConfig> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let bad = |what: &str| format!("Element {i}: {what}");
        let issue_type = match item
            .get("issueType")
            .map(|t| dict(t, dictionaries::ISSUE_TYPES))
        {
            Some(Ok(Some(e))) => e,
            Some(Err(e)) => return noted(errors, bad(&e)),
            _ => return noted(errors, bad("issueType is required")),
        };
        if out.iter().any(|c| c.issue_type == issue_type.key) {
            return noted(
                errors,
                bad(&format!("issue type {} is listed twice", issue_type.key)),
            );
        }
        match item.get("workflow").and_then(crate::fields::ident) {
            Some(w) if w == workflow::WORKFLOW_ID => {}
            Some(w) => {
                return noted(
                    errors,
                    bad(&format!(
                        "unknown workflow {w:?}; this server has {:?}",
                        workflow::WORKFLOW_ID
                    )),
                )
            }
            // The reference lists it; a client leaving it out gets the one there is.
            None if item.get("workflow").is_none_or(Value::is_null) => {}
            None => return noted(errors, bad("workflow must be a workflow id")),
        }
        let resolutions = match item.get("resolutions") {
            None | Some(Value::Null) => dictionaries::RESOLUTIONS.to_vec(),
            Some(Value::Array(rs)) if !rs.is_empty() => {
                let mut keys: Vec<Entry> = Vec::new();
                for r in rs {
                    match dict(r, dictionaries::RESOLUTIONS) {
                        Ok(Some(e)) => {
                            if !keys.iter().any(|k| k.key == e.key) {
                                keys.push(e);
                            }
                        }
                        Ok(None) => return noted(errors, bad("a resolution is null")),
                        Err(e) => return noted(errors, bad(&e)),
                    }
                }
                keys
            }
            Some(_) => return noted(errors, bad("resolutions must be a non-empty array")),
        };
        out.push(TypeConfig {
            issue_type: issue_type.key.to_owned(),
            resolutions: resolutions.iter().map(|r| r.key.to_owned()).collect(),
        });
    }
    serde_json::to_string(&out).unwrap_or_default()
}

fn noted(errors: &mut FieldErrors, message: String) -> String {
    errors.add("issueTypesConfig", message);
    String::new()
}

fn entry_json(links: &Links, path: &str, e: &Entry) -> Value {
    json!({
        "self": links.api(&format!("{path}/{}", e.id)),
        "id": e.id.to_string(),
        "key": e.key,
        "display": e.display,
    })
}

/// The queue's `issueTypes` (references to its types).
pub fn types_json(q: &QueueRecord, links: &Links) -> Value {
    json!(of(q)
        .iter()
        .filter_map(|c| dictionaries::find(dictionaries::ISSUE_TYPES, &c.issue_type))
        .map(|e| entry_json(links, "issuetypes", &e))
        .collect::<Vec<_>>())
}

/// The queue's `issueTypesConfig` as `expand=issueTypesConfig` shows it.
pub fn config_json(q: &QueueRecord, links: &Links) -> Value {
    json!(of(q)
        .iter()
        .filter_map(|c| {
            let t = dictionaries::find(dictionaries::ISSUE_TYPES, &c.issue_type)?;
            Some(json!({
                "issueType": entry_json(links, "issuetypes", &t),
                "workflow": {
                    "self": links.api(&format!("workflows/{}", workflow::WORKFLOW_ID)),
                    "id": workflow::WORKFLOW_ID,
                    "display": workflow::WORKFLOW_NAME,
                },
                "resolutions": c.resolutions.iter()
                    .filter_map(|r| dictionaries::find(dictionaries::RESOLUTIONS, r))
                    .map(|r| entry_json(links, "resolutions", &r))
                    .collect::<Vec<_>>(),
            }))
        })
        .collect::<Vec<_>>())
}
