//! The extractors every handler shares: where links point, query strings
//! and bodies read the way Tracker reads them, and a JSON answer helper.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::auth::Principal;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::render::Renderer;
use crate::state::AppState;

/// The API version of the request (`v2` or `v3`), for `self` links.
#[derive(Debug, Clone, Copy)]
pub struct ApiVersion(pub &'static str);

/// Where absolute links point: the configured public URL, or the scheme and
/// `Host` the request came with.
#[derive(Debug, Clone)]
pub struct Links {
    pub base: String,
    pub version: &'static str,
}

impl Links {
    pub fn api(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base,
            self.version,
            path.trim_start_matches('/')
        )
    }
}

// Made once: a lookup by `&str` parses the name on every request.
static X_FORWARDED_PROTO: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-forwarded-proto");

pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get(&X_FORWARDED_PROTO)
        .and_then(|h| h.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    // Not `format!`: its formatting machinery was half of this function's
    // cost per request (callgrind).
    let mut base = String::with_capacity(scheme.len() + 3 + host.len());
    base.push_str(scheme);
    base.push_str("://");
    base.push_str(host);
    base
}

impl FromRequestParts<AppState> for Links {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Nested routers see the path without its prefix; the original has it.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.0.path())
            .unwrap_or_else(|| parts.uri.path());
        let version = if path.starts_with("/v3/") { "v3" } else { "v2" };
        Ok(Links {
            base: base_url(&state.config, &parts.headers),
            version,
        })
    }
}

/// What an API handler works with: the shared state, the checked caller and
/// where links point. One extractor so handlers name one thing; it derefs to
/// the state so `cx.store` reads as `state.store` did. It takes [`Principal`]
/// first, so the token and scope checks run and reject exactly as before.
#[derive(Clone)]
pub struct Api {
    pub state: AppState,
    pub principal: Principal,
    pub links: Links,
}

impl FromRequestParts<AppState> for Api {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let links = Links::from_request_parts(parts, state).await?;
        Ok(Api {
            state: state.clone(),
            principal,
            links,
        })
    }
}

impl std::ops::Deref for Api {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl Api {
    /// A renderer for this request's organization and links.
    pub fn renderer(&self) -> Renderer<'_> {
        Renderer::new(
            &self.links,
            self.state.store.as_ref(),
            self.principal.org.id,
        )
    }

    /// The answer with an issue, rendered for this caller as `params` ask.
    pub async fn issue_json(
        &self,
        issue: &tracker_store::IssueRecord,
        params: &crate::render::GetParams,
    ) -> ApiResult<axum::Json<serde_json::Value>> {
        let v =
            crate::render::render_issue(&self.state, &self.principal, &self.links, issue, params);
        Ok(axum::Json(v.await?))
    }

    /// The issue the path names, loaded through the access rules.
    pub async fn issue(&self, key: &str) -> ApiResult<tracker_store::IssueRecord> {
        crate::access::issues::load(&self.state, &self.principal, key).await
    }

    /// [`write_fresh`](crate::access::issues::write_fresh) of a change the
    /// caller makes that sets no field: the issue's `kind` entry with `data`
    /// at `now`, and what `with` adds to the write (an attachment, a remote
    /// link).
    pub async fn log_fresh(
        &self,
        issue: tracker_store::IssueRecord,
        now: chrono::DateTime<chrono::Utc>,
        kind: &str,
        data: serde_json::Value,
        with: impl Fn(&mut tracker_store::IssueWrite) + Send + Sync,
    ) -> ApiResult<tracker_store::IssueRecord> {
        use crate::access::issues::{change_write, write_fresh};
        write_fresh(&self.state, &self.principal, issue, |issue| {
            let mut w = change_write(&self.principal, issue, now, kind, &[], data.clone());
            with(&mut w);
            Ok(w)
        })
        .await
    }
}

/// Query parameters; unknown ones are ignored, malformed ones are a 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))
    }
}

/// A JSON body. Tracker reads the body as JSON whatever the Content-Type says.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest(
                "The request body must be a JSON object".into(),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON in the request body: {e}")))
    }
}

/// The query of a versioned edit: the version the client read, and how to
/// render the answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VersionParam {
    pub version: Option<i64>,
    pub expand: Option<String>,
    pub fields: Option<String>,
}

/// What a versioned edit (`PATCH …?version=N`) reads after its path: the
/// query, the headers (for `If-Match`) and an optional JSON object body.
/// One extractor, so every such handler reads (and rejects) them in the same
/// order: the query before the body.
pub struct VersionedEdit {
    pub params: VersionParam,
    pub headers: HeaderMap,
    pub body: serde_json::Map<String, serde_json::Value>,
}

impl<S: Send + Sync> FromRequest<S> for VersionedEdit {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let ApiQuery(params) = ApiQuery::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let OptionalJson(body) =
            OptionalJson::from_request(Request::from_parts(parts, body), state).await?;
        Ok(VersionedEdit {
            params,
            headers,
            body,
        })
    }
}

impl VersionedEdit {
    /// The version the client read: the query's, else the body's. A body
    /// `version` that is not a number is refused even beside a query one.
    pub fn wanted(&self) -> ApiResult<Option<i64>> {
        let in_body = crate::access::issues::body_version(&self.body)?;
        Ok(self.params.version.or(in_body))
    }
}

/// A JSON object body that may be absent: an empty body (or `null`) is an
/// empty object, as for `_execute` without fields.
pub struct OptionalJson(pub serde_json::Map<String, serde_json::Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(serde_json::Map::new()));
        }
        match serde_json::from_slice(&bytes) {
            Ok(serde_json::Value::Object(m)) => Ok(OptionalJson(m)),
            Ok(serde_json::Value::Null) => Ok(OptionalJson(serde_json::Map::new())),
            Ok(_) => Err(ApiError::BadRequest(
                "The request body must be a JSON object".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!(
                "Invalid JSON in the request body: {e}"
            ))),
        }
    }
}

/// Whether a JSON text holds an escaped NUL (`\u0000`): one rule for both
/// databases, since PostgreSQL cannot store NUL in text and SQLite would.
/// Linear, and exact for valid JSON (a backslash only occurs in strings,
/// and an escaped backslash is skipped whole).
fn json_has_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    let bytes = read_bytes(req, state).await?;
    if json_has_nul(&bytes) {
        return Err(ApiError::BadRequest(
            "Strings in the request body must not contain NUL characters".into(),
        ));
    }
    Ok(bytes)
}

async fn read_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(
                "The request body is larger than the server's limit (limits.body_bytes)".into(),
            ),
            _ => ApiError::BadRequest(format!("Could not read the request body: {e}")),
        })
}

/// A JSON answer with an explicit status.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> axum::response::Response {
    (status, axum::Json(body)).into_response()
}

/// A body serialized once to be kept and sent again (`GET /v2/myself`,
/// kept issue answers).
pub fn json_body<T: serde::Serialize>(body: &T) -> Result<bytes::Bytes, ApiError> {
    serde_json::to_vec(body)
        .map(bytes::Bytes::from)
        .map_err(ApiError::internal)
}

/// A `200` with a body from [`json_body`], as `Json` would send it.
pub fn json_bytes(body: bytes::Bytes) -> axum::response::Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::json_has_nul;

    #[test]
    fn an_escaped_nul_is_found_and_an_escaped_backslash_is_not_one() {
        assert!(json_has_nul(br#"{"text":"a\u0000b"}"#));
        assert!(!json_has_nul(br#"{"text":"a\\u0000b"}"#));
        assert!(json_has_nul(br#"{"text":"a\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"text":"a\u0001"}"#));
        assert!(!json_has_nul(br#"{"text":"ends with \"#));
    }
}
