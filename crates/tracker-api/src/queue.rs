use serde::{Deserialize, Serialize};

/// The short form Tracker uses wherever one object points at another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "self")]
    pub self_url: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    #[serde(rename = "self")]
    pub self_url: String,
    pub id: i64,
    pub key: String,
    pub version: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub lead: Reference,
    pub assign_auto: bool,
    pub deny_voting: bool,
}

/// `POST /v2/queues/` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateQueueRequest {
    pub key: String,
    pub name: String,
    pub lead: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
