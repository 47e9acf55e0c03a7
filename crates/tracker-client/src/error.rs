//! The one error type of the crate.

use std::collections::BTreeMap;

use tracker_api::ErrorEnvelope;

/// Everything a call can fail with.
///
/// API failures keep what Tracker's envelope said, so callers can show
/// `errorMessages` to people and read field errors from `errors`:
///
/// ```
/// # fn show(e: tracker_client::Error) {
/// match e {
///     tracker_client::Error::Api { status: 404, .. } => println!("no such thing"),
///     tracker_client::Error::Api { errors, .. } if !errors.is_empty() => {
///         for (field, message) in errors {
///             println!("{field}: {message}");
///         }
///     }
///     other => println!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status. For Tracker's envelope the
    /// fields are copied from it; for other bodies (a proxy's HTML page, the
    /// real IAM service's `{"code","message"}`) `error_messages` holds the
    /// best text found.
    #[error("{}", describe_api(*status, error_messages))]
    Api {
        status: u16,
        error_messages: Vec<String>,
        /// Field errors, by field name (`422` answers).
        errors: BTreeMap<String, String>,
        /// The `Retry-After` the server sent with the last answer, if any.
        retry_after: Option<std::time::Duration>,
    },
    /// An OAuth endpoint refused (RFC 6749 §5.2 error response), e.g.
    /// `access_denied` or `expired_token` at the end of a device flow.
    #[error("OAuth error {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// The server could not be reached or the connection broke.
    #[error("could not reach the server: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered with a success status but a body this client
    /// cannot read.
    #[error("unexpected response from {url}: {message}")]
    Decode { url: String, message: String },
    /// The client was configured in a way that cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// A service-account key that cannot be read or used.
    #[error("service account key: {0}")]
    ServiceAccountKey(String),
}

fn describe_api(status: u16, messages: &[String]) -> String {
    if messages.is_empty() {
        format!("the server answered {status}")
    } else {
        format!("the server answered {status}: {}", messages.join("; "))
    }
}

impl Error {
    /// The HTTP status of an API or OAuth error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::OAuth { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds the error for a failed answer from its status and body.
    pub(crate) fn from_body(
        status: u16,
        body: &[u8],
        retry_after: Option<std::time::Duration>,
    ) -> Self {
        if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
            return Error::Api {
                status,
                error_messages: envelope.error_messages,
                errors: envelope.errors,
                retry_after,
            };
        }
        let mut messages = Vec::new();
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            // Yandex Cloud services answer {"code": 16, "message": "…"}.
            if let Some(m) = value.get("message").and_then(|m| m.as_str()) {
                messages.push(m.to_owned());
            }
        } else {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if !text.is_empty() {
                messages.push(text.chars().take(200).collect());
            }
        }
        Error::Api {
            status,
            error_messages: messages,
            errors: BTreeMap::new(),
            retry_after,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_keeps_its_messages_and_field_errors() {
        let body = br#"{"errors":{"key":"bad key"},"errorsData":{},"errorMessages":["Nope"],"statusCode":422}"#;
        match Error::from_body(422, body, None) {
            Error::Api {
                status,
                error_messages,
                errors,
                ..
            } => {
                assert_eq!(status, 422);
                assert_eq!(error_messages, vec!["Nope".to_owned()]);
                assert_eq!(errors["key"], "bad key");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cloud_style_body_and_plain_text_still_give_a_message() {
        let e = Error::from_body(401, br#"{"code":16,"message":"Token is invalid"}"#, None);
        assert_eq!(e.to_string(), "the server answered 401: Token is invalid");
        let e = Error::from_body(502, b"<html>Bad gateway</html>", None);
        assert_eq!(e.status(), Some(502));
        assert!(e.to_string().contains("Bad gateway"));
    }
}
