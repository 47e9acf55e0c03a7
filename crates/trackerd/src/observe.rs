//! What operators and test harnesses ask a node rather than the API:
//! `/metrics` (Prometheus text), `/readyz` (the database answers) and
//! `/_trackerd/health` (the process answers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const REQUESTS: &str = "trackerd_http_requests_total";
const DURATION: &str = "trackerd_http_request_duration_seconds";
const JOB_ITEMS: &str = "trackerd_job_items_total";

/// This node's metrics: a recorder of its own rather than the process's
/// global one, so servers sharing a process (tests, [`crate::testing`])
/// count apart.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// The counter and histogram of each (method, route, status) met so
    /// far, resolved once: naming a metric by its labels on every request
    /// (a status formatted, a key built, hashed and looked up in the
    /// registry, twice) cost more than the rest of the metrics layer.
    /// Keyed by pointers and a status: nothing a client can choose, so a
    /// fast hasher (SipHash was a visible share of every request).
    answers: std::sync::RwLock<
        std::collections::HashMap<AnswerKey, Answered, foldhash::fast::FixedState>,
    >,
}

/// A request's labels by address: the method and route labels are
/// `&'static str`s taken from fixed tables, so their addresses name them
/// (two addresses for one text would only resolve the same metrics twice).
type AnswerKey = (usize, usize, u16);

struct Answered {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        // Tracker answers in milliseconds; searches and uploads in seconds.
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &buckets)?
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            recorder,
            handle,
            answers: Default::default(),
        };
        metrics.with(|| {
            metrics::describe_counter!(
                REQUESTS,
                "HTTP requests answered, by route pattern, method and status"
            );
            metrics::describe_histogram!(
                DURATION,
                metrics::Unit::Seconds,
                "Time to the answer's head, by route pattern and method"
            );
            metrics::describe_counter!(
                JOB_ITEMS,
                "Bulk-change items the background worker finished, by outcome"
            );
            metrics::describe_gauge!(
                "trackerd_db_pool_connections",
                "Database connections open, by state (in_use, idle) and the pool's maximum (max)"
            );
            metrics::describe_counter!(
                "trackerd_auth_cache_lookups_total",
                "Token and organization lookups, by cache and result (hit, miss)"
            );
        });
        Ok(metrics)
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// One answered request. `route` is the pattern the router matched
    /// (`/v2/issues/{key}`) or `unmatched`: a label of bounded cardinality.
    pub(crate) fn request(
        &self,
        method: &'static str,
        route: &'static str,
        status: u16,
        took: Duration,
    ) {
        let key = (method.as_ptr() as usize, route.as_ptr() as usize, status);
        let count = |a: &Answered| {
            a.requests.increment(1);
            a.duration.record(took.as_secs_f64());
        };
        // A poisoned lock still holds whole handles: nothing is written
        // under it that a panic could leave half-done.
        if let Some(a) = self
            .answers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return count(a);
        }
        let a = self.with(|| Answered {
            requests: metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status.to_string()),
            duration: metrics::histogram!(DURATION, "method" => method, "route" => route),
        });
        count(&a);
        self.answers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, a);
    }

    /// One bulk-change item finished by the worker: `done`, `failed`
    /// (recorded with its error), `retry` (the database failed; the item
    /// waits for its lease to expire) or `taken` (another node has it).
    pub(crate) fn job_item(&self, outcome: &'static str) {
        self.with(|| metrics::counter!(JOB_ITEMS, "outcome" => outcome).increment(1));
    }

    /// Histograms keep their samples until drained: without a scrape they
    /// would grow for ever. Run every few seconds by [`spawn_upkeep`].
    fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    fn render(&self, state: &AppState) -> String {
        let pool = state.store.pool_stats();
        let auth = state.auth.lookups();
        self.with(|| {
            let in_use = pool.open.saturating_sub(pool.idle);
            for (kind, value) in [("in_use", in_use), ("idle", pool.idle), ("max", pool.max)] {
                metrics::gauge!("trackerd_db_pool_connections", "state" => kind)
                    .set(f64::from(value));
            }
            for (cache, hits, misses) in [
                ("tokens", &auth.token_hits, &auth.token_misses),
                ("organizations", &auth.org_hits, &auth.org_misses),
            ] {
                for (result, n) in [("hit", hits), ("miss", misses)] {
                    metrics::counter!("trackerd_auth_cache_lookups_total", "cache" => cache, "result" => result)
                        .absolute(n.load(Ordering::Relaxed));
                }
            }
            let (hits, misses) = state.answers.lookups();
            for (result, n) in [("hit", hits), ("miss", misses)] {
                metrics::counter!("trackerd_issue_answers_lookups_total", "result" => result)
                    .absolute(n);
            }
        });
        self.handle.render()
    }
}

/// Counts of the auth cache's lookups (kept by [`crate::auth::AuthCache`]).
#[derive(Debug, Default)]
pub struct Lookups {
    pub token_hits: AtomicU64,
    pub token_misses: AtomicU64,
    pub org_hits: AtomicU64,
    pub org_misses: AtomicU64,
}

impl Lookups {
    pub(crate) fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drains the histograms' samples now and then (see [`Metrics::upkeep`]).
pub fn spawn_upkeep(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    state.metrics.as_ref()?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Some(metrics) = &state.metrics {
                metrics.upkeep();
            }
        }
    }))
}

/// `GET /metrics`: the Prometheus text format. With `metrics.token` set,
/// only for `Authorization: Bearer <token>`.
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let Some(metrics) = &state.metrics else {
        return Err(ApiError::NotFound(
            "Metrics are disabled (metrics.enabled)".into(),
        ));
    };
    if let Some(token) = &state.config.metrics.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Digests compared, so the comparison takes as long whatever prefix
        // of the token was guessed right.
        use sha2::Digest;
        if sha2::Sha256::digest(sent.as_bytes()) != sha2::Sha256::digest(token.as_bytes()) {
            return Err(ApiError::Unauthorized(
                "Metrics need 'Authorization: Bearer <metrics.token>'".into(),
            ));
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(&state),
    ))
}

/// How long a readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /readyz`: `200` when the database answers a query within two
/// seconds, `503` otherwise (the cause is logged). A load balancer sends
/// traffic only to ready nodes; `/_trackerd/health` only says the process
/// is up.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(serde_json::json!({
            "status": "ready",
            "database": state.store.backend(),
        }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database failed");
            Err(ApiError::Unavailable("The database does not answer".into()))
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer in time");
            Err(ApiError::Unavailable("The database does not answer".into()))
        }
    }
}

/// `GET /_trackerd/health`: the process answers (liveness).
pub async fn health() -> &'static str {
    "ok"
}
