//! Application state, the router and the extractors every handler shares.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Method;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
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
    /// Open search scrolls (this node's memory).
    pub scrolls: routes::search::Scrolls,
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
            scrolls: Default::default(),
        }))
    }
}

/// One API endpoint: its method, its path below `/v2` (and `/v3`), and its
/// handler. The router is built from this table, and the permission matrix
/// test walks the same table, so a new endpoint is tested as soon as it is
/// routed.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub route: MethodRouter<AppState>,
}

/// The methods the official client uses for links on an issue.
pub fn link_methods() -> [Method; 2] {
    [
        Method::from_bytes(b"LINK").unwrap_or(Method::POST),
        Method::from_bytes(b"UNLINK").unwrap_or(Method::POST),
    ]
}

pub fn endpoints() -> Vec<Endpoint> {
    use axum::routing::{delete, patch, post};
    use routes::{
        changelog, comments, dictionaries as dict, issues, links, permissions as perms, queues,
        search, users,
    };
    let e = |method: Method, path: &'static str, route: MethodRouter<AppState>| Endpoint {
        method,
        path,
        route,
    };
    let [link, unlink] = link_methods();
    vec![
        e(Method::GET, "/myself", get(users::myself)),
        e(Method::GET, "/users", get(users::list)),
        e(Method::GET, "/users/{id}", get(users::get)),
        e(Method::GET, "/groups", get(perms::list_groups)),
        e(Method::POST, "/groups", post(perms::create_group)),
        e(Method::GET, "/groups/{id}", get(perms::get_group)),
        e(Method::PATCH, "/groups/{id}", patch(perms::patch_group)),
        e(Method::GET, "/queues", get(queues::list)),
        e(Method::POST, "/queues", post(queues::create)),
        e(Method::GET, "/queues/{key}", get(queues::get)),
        e(Method::PATCH, "/queues/{key}", patch(queues::update)),
        e(Method::DELETE, "/queues/{key}", delete(queues::delete)),
        e(
            Method::POST,
            "/queues/{key}/_restore",
            post(queues::restore),
        ),
        e(Method::GET, "/queues/{key}/versions", get(queues::versions)),
        e(
            Method::GET,
            "/queues/{key}/components",
            get(queues::versions),
        ),
        e(Method::GET, "/queues/{key}/tags", get(queues::tags)),
        e(
            Method::GET,
            "/queues/{key}/fields",
            get(queues::queue_fields),
        ),
        e(
            Method::GET,
            "/queues/{key}/workflows",
            get(queues::workflows),
        ),
        e(
            Method::GET,
            "/queues/{key}/permissions",
            get(perms::get_queue),
        ),
        e(
            Method::PATCH,
            "/queues/{key}/permissions",
            patch(perms::patch_queue),
        ),
        e(
            Method::GET,
            "/queues/{key}/checkPermissions/{code}",
            get(perms::check_queue),
        ),
        e(Method::GET, "/statuses", get(dict::statuses)),
        e(Method::GET, "/statuses/{id}", get(dict::status)),
        e(Method::GET, "/priorities", get(dict::priorities)),
        e(Method::GET, "/priorities/{id}", get(dict::priority)),
        e(Method::GET, "/issuetypes", get(dict::issue_types)),
        e(Method::GET, "/issuetypes/{id}", get(dict::issue_type)),
        e(Method::GET, "/resolutions", get(dict::resolutions)),
        e(Method::GET, "/resolutions/{id}", get(dict::resolution)),
        e(Method::GET, "/linktypes", get(dict::link_types)),
        e(Method::GET, "/fields", get(dict::fields)),
        e(Method::GET, "/fields/{id}", get(dict::field)),
        e(Method::GET, "/workflows", get(dict::workflows)),
        e(Method::POST, "/issues", post(issues::create)),
        e(Method::POST, "/issues/_search", post(search::search)),
        e(Method::POST, "/issues/_count", post(search::count)),
        e(
            Method::POST,
            "/system/search/scroll/_clear",
            post(search::clear_scroll),
        ),
        e(
            Method::POST,
            "/issues/_findByUnique",
            post(issues::find_by_unique),
        ),
        e(Method::GET, "/issues/{key}", get(issues::get)),
        e(Method::PATCH, "/issues/{key}", patch(issues::update)),
        // LINK and UNLINK are not methods axum routes by name: one fallback
        // serves both (and answers 405 to anything else).
        e(
            link,
            "/issues/{key}",
            MethodRouter::new().fallback(links::link_methods),
        ),
        e(unlink, "/issues/{key}", MethodRouter::new()),
        e(
            Method::POST,
            "/issues/{key}/_move",
            post(issues::move_issue),
        ),
        e(
            Method::POST,
            "/issues/{key}/_clone",
            post(issues::clone_issue),
        ),
        e(
            Method::GET,
            "/issues/{key}/transitions",
            get(issues::transitions),
        ),
        e(
            Method::GET,
            "/issues/{key}/transitions/{id}",
            get(issues::transition),
        ),
        e(
            Method::POST,
            "/issues/{key}/transitions/{id}/_execute",
            post(issues::execute_transition),
        ),
        e(Method::GET, "/issues/{key}/comments", get(comments::list)),
        e(
            Method::POST,
            "/issues/{key}/comments",
            post(comments::create),
        ),
        e(
            Method::GET,
            "/issues/{key}/comments/{id}",
            get(comments::get),
        ),
        e(
            Method::PATCH,
            "/issues/{key}/comments/{id}",
            patch(comments::update),
        ),
        e(
            Method::DELETE,
            "/issues/{key}/comments/{id}",
            delete(comments::delete),
        ),
        e(Method::GET, "/issues/{key}/links", get(links::list)),
        e(Method::POST, "/issues/{key}/links", post(links::create)),
        e(Method::GET, "/issues/{key}/links/{id}", get(links::get)),
        e(
            Method::DELETE,
            "/issues/{key}/links/{id}",
            delete(links::delete),
        ),
        e(Method::GET, "/issues/{key}/changelog", get(changelog::list)),
        e(
            Method::GET,
            "/issues/{key}/permissions",
            get(perms::get_issue),
        ),
        e(
            Method::PATCH,
            "/issues/{key}/permissions",
            patch(perms::patch_issue),
        ),
    ]
}

/// The API's routes, `/v2` and `/v3` served by the same handlers.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for ep in endpoints() {
        match by_path.iter_mut().find(|(p, _)| *p == ep.path) {
            Some((_, r)) => *r = std::mem::take(r).merge(ep.route),
            None => by_path.push((ep.path, ep.route)),
        }
    }
    // Each route is registered under both versions rather than nested:
    // nesting strips and restores the prefix on every request.
    let mut router = Router::new();
    for (path, route) in by_path {
        router = router
            .route(&format!("/v2{path}"), route.clone())
            .route(&format!("/v3{path}"), route);
    }
    let router = router
        .route(
            "/iam/v1/tokens",
            axum::routing::post(routes::iam::create_token),
        )
        .route("/_trackerd/health", get(|| async { "ok" }))
        .merge(crate::oauth::router())
        .fallback(|| async { ApiError::NotFound("Not found".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    // Request spans cost even when no subscriber wants them: add the layer
    // only when its events would be recorded (TRACKERD_LOG=tower_http=debug).
    if tracing::enabled!(target: "tower_http::trace::on_request", tracing::Level::DEBUG) {
        router.layer(TraceLayer::new_for_http())
    } else {
        router
    }
}

/// Serves `state` on `listener` until `shutdown` resolves. Trailing slashes
/// are trimmed before routing: Tracker accepts `/v2/users/` as `/v2/users`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Aborted on drop, so the watcher ends with the server even when the
    // server's own task is cancelled rather than shut down.
    let watcher = AbortOnDrop(crate::auth::spawn_epoch_watcher(state.clone()));
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
    drop(watcher);
    result
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::BadRequest(format!("Could not read the request body: {e}")))
}

/// A JSON answer with an explicit status.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> axum::response::Response {
    (status, axum::Json(body)).into_response()
}
