//! Application state, the router and the extractors every handler shares.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;
use tracker_domain::Clock;
use tracker_store::Store;

use crate::auth::AuthCache;
use crate::config::Config;
use crate::error::ApiError;
use crate::routes;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub auth: AuthCache,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            config,
            auth: AuthCache::new(),
        }))
    }
}

/// The API's routes, `/v2` and `/v3` served by the same handlers.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/myself", get(routes::users::myself))
        .route("/users", get(routes::users::list))
        .route("/users/{id}", get(routes::users::get))
        .route(
            "/queues",
            get(routes::queues::list).post(routes::queues::create),
        )
        .route("/queues/{key}", get(routes::queues::get));
    Router::new()
        .nest("/v2", api.clone())
        .nest("/v3", api)
        .route(
            "/iam/v1/tokens",
            axum::routing::post(routes::iam::create_token),
        )
        .route("/_trackerd/health", get(|| async { "ok" }))
        .merge(crate::oauth::router())
        .fallback(|| async { ApiError::NotFound("Not found".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves. Trailing slashes
/// are trimmed before routing: Tracker accepts `/v2/users/` as `/v2/users`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = crate::auth::spawn_epoch_watcher(state.clone());
    let app = NormalizePathLayer::trim_trailing_slash().layer(router(state));
    let result = axum::serve(
        listener,
        // The source address feeds the per-address sign-in lock and the audit trail.
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(app),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    watcher.abort();
    result
}

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

pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
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
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("Could not read the request body: {e}")))?;
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

/// A JSON answer with an explicit status.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> axum::response::Response {
    (status, axum::Json(body)).into_response()
}
