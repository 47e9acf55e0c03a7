use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of every Tracker error response:
/// `{"errors":{},"errorsData":{},"errorMessages":["…"],"statusCode":N}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    /// Errors tied to a request field, by field name.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    #[serde(default)]
    pub errors_data: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub error_messages: Vec<String>,
    pub status_code: u16,
}

impl ErrorEnvelope {
    pub fn new(status_code: u16, message: impl Into<String>) -> Self {
        Self {
            error_messages: vec![message.into()],
            status_code,
            ..Self::default()
        }
    }
}
