//! The endpoint table, the router built from it, and `serve`. This is the
//! one module that knows every handler; handlers know nothing of it.

use axum::http::Method;
use axum::routing::{get, MethodRouter};
use axum::Router;
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

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
            axum::routing::post(crate::oauth::iam_token::create_token),
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
