use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use tracker_client::{Client, Error, IssueSearch, Method, RetryPolicy};

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
    crate::mock_client(base).retry(policy).build().unwrap()
}

/// A [`flaky`] mock and a client of it on the [`quick`] policy, with the
/// count of the requests the mock saw.
async fn flaky_client(
    failures: usize,
    status: StatusCode,
    retry_after: Option<&'static str>,
) -> (Client, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let (base, _server) = serve_mock(flaky(failures, status, retry_after, count.clone())).await;
    (client_for(&base, quick()), count)
}

/// `GET /v2/users`, which must fail: the error the caller gets.
async fn users_error(client: &Client) -> Error {
    client
        .request(Method::GET, "/v2/users")
        .send()
        .await
        .unwrap_err()
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
    let (client, count) = flaky_client(1, StatusCode::TOO_MANY_REQUESTS, Some("1")).await;
    let started = Instant::now();
    let body: serde_json::Value = client
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
    let (client, count) = flaky_client(100, StatusCode::SERVICE_UNAVAILABLE, None).await;
    let err = users_error(&client).await;
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "one attempt and three retries"
    );
}

#[tokio::test]
async fn a_post_that_creates_is_never_retried() {
    let (client, count) = flaky_client(1, StatusCode::TOO_MANY_REQUESTS, Some("0")).await;
    let err = client
        .queues()
        .create(&crate::new_queue("Q", "q", "alice"))
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
    let (client, count) = flaky_client(2, StatusCode::BAD_GATEWAY, None).await;
    let n = client
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
    let (client, count) = flaky_client(1, StatusCode::TOO_MANY_REQUESTS, Some("3600")).await;
    let started = Instant::now();
    let err = users_error(&client).await;
    assert!(matches!(
        err,
        Error::Api { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(3600)
    ));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (client, count) = flaky_client(1, StatusCode::NOT_FOUND, None).await;
    let err = users_error(&client).await;
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
