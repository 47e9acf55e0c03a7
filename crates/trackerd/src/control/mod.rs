//! The emulator's control plane (docs/emulator.md): reset, snapshots,
//! seeding, the test clock, fault injection and the request journal, under
//! `/_trackerd/…`, for tests that run their client against trackerd.
//!
//! It exists only when `control_token` is configured, and answers only that
//! token (`Authorization: Bearer …`, compared in constant time): to anyone
//! else, a Tracker token included, every path of it answers the same `404`
//! as a path trackerd does not serve, whatever the method, so the plane
//! cannot be found by probing.

pub mod clock;
pub mod faults;
pub mod journal;
pub mod state;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Json;
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracker_domain::{Clock, TestClock};

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Where the plane lives.
pub const PREFIX: &str = "/_trackerd/";

/// The plane's routes, one row each (method, path): what the router mounts,
/// and what an API description can list.
pub const ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/_trackerd/reset"),
    (Method::GET, "/_trackerd/snapshots"),
    (Method::PUT, "/_trackerd/snapshots/{name}"),
    (Method::DELETE, "/_trackerd/snapshots/{name}"),
    (Method::POST, "/_trackerd/snapshots/{name}/restore"),
    (Method::POST, "/_trackerd/seed"),
    (Method::GET, "/_trackerd/clock"),
    (Method::PUT, "/_trackerd/clock"),
    (Method::DELETE, "/_trackerd/clock"),
    (Method::POST, "/_trackerd/clock/advance"),
    (Method::GET, "/_trackerd/faults"),
    (Method::POST, "/_trackerd/faults"),
    (Method::DELETE, "/_trackerd/faults"),
    (Method::DELETE, "/_trackerd/faults/{id}"),
    (Method::GET, "/_trackerd/requests"),
    (Method::DELETE, "/_trackerd/requests"),
];

/// The plane of one node: its admin token (as a digest), the test clock,
/// the fault rules and the journal.
pub struct Control {
    token: [u8; 32],
    pub clock: Arc<TestClock>,
    /// Held while the clock's stored setting is written and applied, and
    /// while it is read and applied by a refresh: a refresh that read the
    /// setting before a change committed applied it after the change, and
    /// the node's clock went back until the next refresh (a frozen clock's
    /// advance lost, once in a full test run).
    pub clock_writes: tokio::sync::Mutex<()>,
    pub faults: faults::Faults,
    pub journal: journal::Journal,
}

impl Control {
    /// The plane `config` asks for, over `clock`; `None` when it is off.
    pub fn from_config(config: &Config, clock: Arc<dyn Clock>) -> Option<Arc<Control>> {
        let token = config.control_token.as_ref()?;
        Some(Arc::new(Control {
            token: Sha256::digest(token.expose().trim().as_bytes()).into(),
            clock: Arc::new(TestClock::new(clock)),
            clock_writes: tokio::sync::Mutex::new(()),
            faults: faults::Faults::default(),
            journal: journal::Journal::new(
                config.control.journal_size,
                config.control.journal_body_bytes,
            ),
        }))
    }

    /// Whether `authorization` is `Bearer <the admin token>`. Digests are
    /// compared, in constant time, so neither the token's length nor its
    /// content leaks through timing.
    fn admits(&self, authorization: Option<&axum::http::HeaderValue>) -> bool {
        let Some(value) = authorization.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, secret)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let digest: [u8; 32] = Sha256::digest(secret.trim().as_bytes()).into();
        bool::from(digest.ct_eq(&self.token))
    }
}

/// Whether `path` belongs to the plane (the health check does not).
pub fn is_control_path(path: &str) -> bool {
    path.starts_with(PREFIX) && path != "/_trackerd/health"
}

/// The plane's router: mounted by the router only when the plane is on.
pub fn router(state: &AppState) -> Router<AppState> {
    use axum::routing::MethodRouter;
    // Each route's own method fallback, which the guard's layer covers (the
    // router's shared one would answer a stranger `405` and tell them the
    // path exists).
    let route = |r: MethodRouter<AppState>| r.fallback(|| async { ApiError::MethodNotAllowed });
    let routes = Router::new()
        .route("/_trackerd/reset", route(post(state::reset)))
        .route("/_trackerd/snapshots", route(get(state::list)))
        .route(
            "/_trackerd/snapshots/{name}",
            route(put(state::save).delete(state::remove)),
        )
        .route(
            "/_trackerd/snapshots/{name}/restore",
            route(post(state::restore)),
        )
        .route("/_trackerd/seed", route(post(state::seed)))
        .route(
            "/_trackerd/clock",
            route(get(clock::get).put(clock::put).delete(clock::release)),
        )
        .route("/_trackerd/clock/advance", route(post(clock::advance)))
        .route(
            "/_trackerd/faults",
            route(get(faults::list).post(faults::create).delete(faults::clear)),
        )
        .route("/_trackerd/faults/{id}", route(delete(faults::remove)))
        .route(
            "/_trackerd/requests",
            route(get(journal::list).delete(journal::clear)),
        );
    routes.layer(axum::middleware::from_fn_with_state(state.clone(), guard))
}

/// Lets the admin through; everyone else gets the `404` of a path that is
/// not served.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let admitted = state
        .control
        .as_ref()
        .is_some_and(|c| c.admits(req.headers().get(axum::http::header::AUTHORIZATION)));
    if admitted {
        next.run(req).await
    } else {
        ApiError::not_served(req.method(), req.uri().path()).into_response()
    }
}

/// The plane of `state`, which its routes only run with.
fn plane(state: &AppState) -> Result<&Arc<Control>, ApiError> {
    state
        .control
        .as_ref()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a control route without the plane")))
}

/// A JSON body of the plane, or a clear `400` (the plane's bodies are
/// small, and its errors JSON like the rest).
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("The body is not what this endpoint reads: {e}")))
}

/// Milliseconds since `start`, for the answers that report how long they took.
fn took_ms(start: std::time::Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Asks the connection a request came on to close without an answer (a
/// dropped-connection fault). `serve` puts one in every request while the
/// plane is on.
#[derive(Clone)]
pub struct DropConnection(pub Arc<tokio::sync::Notify>);

/// The largest answer the journal reads to record it; larger ones (file
/// downloads) are recorded without their body.
const JOURNAL_READ_LIMIT: u64 = 1024 * 1024;

/// The layer around the whole router while the plane is on: applies the
/// fault rules, then records the request and its answer in the journal.
/// The plane's own paths pass untouched.
pub async fn intercept(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::body::{Body, HttpBody};
    use axum::http::header;
    let Some(control) = state.control.clone() else {
        return next.run(req).await;
    };
    if req.uri().path().starts_with(PREFIX) {
        return next.run(req).await;
    }
    let started = std::time::Instant::now();
    let time = state
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let credential = tracker_domain::parse_authorization(
        req.headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
    )
    .ok()
    .map(|c| tracker_domain::TokenHash::of(c.secret()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // Filled in as the request goes; recorded once it is answered (or
    // dropped).
    let mut entry = journal::Entry {
        id: 0,
        time,
        method: method.to_string(),
        path: path.clone(),
        query: req.uri().query().map(journal::redact_pairs),
        org: ["x-org-id", "x-cloud-org-id"].iter().find_map(|h| {
            req.headers()
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        }),
        account: None,
        status: 0,
        duration_ms: 0.0,
        request_headers: journal::headers_view(req.headers()),
        request_body: None,
        response_body: None,
        fault: None,
    };
    let limit = control.journal.body_limit;
    let content_type = |headers: &axum::http::HeaderMap| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request_type = content_type(req.headers());
    // The edge has read every body but uploads whole already: reading it
    // again costs a copy of bytes in memory.
    let streamed = request_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/") || t.starts_with("application/octet-stream"));
    let (req, request_body) = if streamed || req.body().is_end_stream() {
        let note = streamed.then(|| {
            format!(
                "<an upload of {}>",
                request_type.as_deref().unwrap_or("unknown type")
            )
        });
        (req, note)
    } else {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(body, state.config.limits.body_bytes).await {
            Ok(bytes) => {
                let text = journal::body_text(&bytes, request_type.as_deref(), limit);
                (Request::from_parts(parts, Body::from(bytes)), text)
            }
            Err(e) => {
                return ApiError::BadRequest(format!("Could not read the request body: {e}"))
                    .into_response()
            }
        }
    };

    entry.request_body = request_body;
    let mut response = None;
    if let Some((id, action)) = control.faults.pick(&method, &path, credential.as_ref()) {
        entry.fault = Some(id.to_string());
        if action.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(action.delay_ms)).await;
        }
        if action.drop {
            // Recorded as it goes, without a status (0): it gets no answer.
            entry.account = credential.and_then(|h| state.auth.cached_login(&h));
            entry.duration_ms = took_ms(started);
            control.journal.record(entry);
            if let Some(conn) = req.extensions().get::<DropConnection>() {
                conn.0.notify_one();
            }
            // The connection closes while this waits; the answer is never
            // written (a request polled in place is dropped with it, a
            // write's task ends after the wait).
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            return StatusCode::BAD_GATEWAY.into_response();
        }
        if let Some(status) = action.status {
            let mut r = (
                status,
                Json(tracker_api::ErrorEnvelope::new(
                    status.as_u16(),
                    format!("Injected fault {id}"),
                )),
            )
                .into_response();
            if let Some(secs) = action.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
            }
            response = Some(r);
        }
    }
    let response = match response {
        Some(r) => r,
        None => next.run(req).await,
    };

    entry.account = credential.and_then(|h| state.auth.cached_login(&h));
    entry.status = response.status().as_u16();
    let response_type = content_type(response.headers());
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= JOURNAL_READ_LIMIT);
    let (response, response_body) = if small {
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, JOURNAL_READ_LIMIT as usize).await {
            Ok(bytes) => {
                let text = journal::body_text(&bytes, response_type.as_deref(), limit);
                (Response::from_parts(parts, Body::from(bytes)), text)
            }
            Err(e) => (
                ApiError::internal(anyhow::anyhow!("reading an answer to journal it: {e}"))
                    .into_response(),
                None,
            ),
        }
    } else {
        let note = format!(
            "<not recorded: {}>",
            response_type.as_deref().unwrap_or("a streamed answer")
        );
        (response, Some(note))
    };
    entry.response_body = response_body;
    entry.duration_ms = took_ms(started);
    control.journal.record(entry);
    response
}
