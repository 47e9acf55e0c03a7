//! The one error type of the HTTP API. Every failure, routing errors included,
//! leaves the server as Tracker's envelope.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracker_api::ErrorEnvelope;
use tracker_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No usable credential. Always answered with `WWW-Authenticate`.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    /// Field-level validation errors (`errors` in the envelope).
    #[error("{message}")]
    Unprocessable {
        message: String,
        errors: BTreeMap<String, String>,
    },
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` did not match.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is over the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A dependency (the database) does not answer now; the caller may
    /// retry later (readiness).
    #[error("{0}")]
    Unavailable(String),
    /// Anything the client cannot act on. The cause goes to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    /// The answer to a path trackerd does not serve. Never the body of a
    /// missing object: a client must not read "issue not found" where the
    /// endpoint itself is what is missing.
    pub fn not_served(method: &axum::http::Method, path: &str) -> Self {
        let path: String = path.chars().take(200).collect();
        ApiError::NotFound(format!(
            "This endpoint is not served by trackerd: {method} {path}"
        ))
    }

    /// A store error where a conflict means the name or key is taken: that
    /// conflict answered with `message`, any other error as usual.
    pub fn on_conflict(message: String) -> impl FnOnce(StoreError) -> ApiError {
        move |e| match e {
            StoreError::Conflict(_) => ApiError::Conflict(message),
            e => e.into(),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Unprocessable {
            errors: BTreeMap::from([(field.to_owned(), message.clone())]),
            message,
        }
    }

    /// The envelope this error is answered with (internal causes are logged
    /// here, and answered only as a generic message).
    pub fn envelope(&self) -> ErrorEnvelope {
        let status = self.status();
        let envelope = match self {
            ApiError::Internal(cause) => {
                // `{:#}` prints the whole chain of causes on one line.
                tracing::error!(error = format!("{cause:#}"), "internal error");
                ErrorEnvelope::new(status.as_u16(), "Internal server error")
            }
            ApiError::Unprocessable { message, errors } => ErrorEnvelope {
                errors: errors.clone(),
                error_messages: if errors.is_empty() {
                    vec![message.clone()]
                } else {
                    Vec::new()
                },
                status_code: status.as_u16(),
                ..ErrorEnvelope::default()
            },
            other => ErrorEnvelope::new(status.as_u16(), other.to_string()),
        };
        let mut envelope = envelope;
        for message in envelope
            .error_messages
            .iter_mut()
            .chain(envelope.errors.values_mut())
        {
            cap(message);
        }
        envelope
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            e => ApiError::Internal(e.into()),
        }
    }
}

/// The longest error message answered, in characters. Messages quote what
/// the client sent ("Queue … not found"): a 250 KB value must not come back
/// whole in the answer, once per field.
pub const MAX_MESSAGE_CHARS: usize = 500;

fn cap(message: &mut String) {
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let envelope = self.envelope();
        let mut response = (status, Json(envelope)).into_response();
        if let ApiError::Unauthorized(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"OAuth realm="trackerd", Bearer realm="trackerd""#),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let mut long = "й".repeat(MAX_MESSAGE_CHARS + 10);
        cap(&mut long);
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(long.ends_with('…'));
        let mut short = "short".to_owned();
        cap(&mut short);
        assert_eq!(short, "short");
    }

    #[test]
    fn store_conflicts_become_409_and_database_errors_500() {
        assert_eq!(
            ApiError::from(StoreError::Conflict("queue".into())).status(),
            StatusCode::CONFLICT
        );
        let db = StoreError::Database("disk on fire".into());
        assert_eq!(
            ApiError::from(db).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn unauthorized_answers_carry_www_authenticate() {
        let r = ApiError::Unauthorized("no".into()).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
