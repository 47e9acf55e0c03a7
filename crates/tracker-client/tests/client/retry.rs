use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tracker_client::tracker_api::CreateQueueRequest;
use tracker_client::{Auth, Client, Error, IssueSearch, Method, RetryPolicy};

use trackerd_testkit::*;

/// Answers the first `failures` requests with `status` (and `Retry-After`
/// when given), then `[]` with 200; counts every request.
fn flaky(
    failures: usize,
    status: StatusCode,
    retry_after: Option<&'static str>,
    count: Arc<AtomicUsize>,
) -> Router {
    Router::new().fallback(any(move || {
        let count = count.clone();
        async move {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n < failures {
                let body = format!(
                    r#"{{"errors":{{}},"errorsData":{{}},"errorMessages":["try later"],"statusCode":{}}}"#,
                    status.as_u16()
                );
                let mut r: Response = (status, body).into_response();
                if let Some(after) = retry_after {
                    r.headers_mut()
                        .insert("retry-after", after.parse().unwrap());
                }
                r
            } else {
                (StatusCode::OK, "[]").into_response()
            }
        }
    }))
}

fn client_for(base: &str, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(base)
        .org_id(ACME)
        .auth(Auth::OAuth("y0_test".into()))
        .retry(policy)
        .build()
        .unwrap()
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn a_get_answered_429_waits_the_retry_after_and_succeeds() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("1"),
        count.clone(),
    ))
    .await;
    let started = Instant::now();
    let body: serde_json::Value = client_for(&base, quick())
        .request(Method::GET, "/v2/users")
        .send_json()
        .await
        .unwrap();
    assert_eq!(body, serde_json::json!([]));
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // Retry-After (1 s) wins over the 10-50 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_up_to_the_limit_then_reported() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(
        100,
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        count.clone(),
    ))
    .await;
    let err = client_for(&base, quick())
        .request(Method::GET, "/v2/users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "one attempt and three retries"
    );
}

#[tokio::test]
async fn a_post_that_creates_is_never_retried() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("0"),
        count.clone(),
    ))
    .await;
    let err = client_for(&base, quick())
        .queues()
        .create(&CreateQueueRequest {
            key: "Q".into(),
            name: "q".into(),
            lead: "alice".into(),
            description: None,
        })
        .await
        .unwrap_err();
    match err {
        Error::Api {
            status: 429,
            retry_after,
            error_messages,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::ZERO));
            assert_eq!(error_messages, ["try later"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_search_is_a_read_and_is_retried_despite_being_a_post() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(2, StatusCode::BAD_GATEWAY, None, count.clone())).await;
    let n = client_for(&base, quick())
        .request(Method::POST, "/v2/issues/_search")
        .json(&IssueSearch::query("Queue: TEST"))
        .idempotent(true)
        .send_json::<Vec<serde_json::Value>>()
        .await
        .unwrap()
        .len();
    assert_eq!(n, 0);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_limit_is_returned_not_waited() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(
        1,
        StatusCode::TOO_MANY_REQUESTS,
        Some("3600"),
        count.clone(),
    ))
    .await;
    let started = Instant::now();
    let err = client_for(&base, quick())
        .request(Method::GET, "/v2/users")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Api { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(3600)
    ));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(flaky(1, StatusCode::NOT_FOUND, None, count.clone())).await;
    let err = client_for(&base, quick())
        .request(Method::GET, "/v2/users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error_after_the_retries() {
    // Port 9 (discard) is closed on test machines: connections are refused.
    let err = client_for("http://127.0.0.1:9", quick())
        .myself()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}
