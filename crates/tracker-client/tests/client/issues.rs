//! Issue calls against a mock: trackerd does not serve issues yet.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use tracker_client::{Auth, Client, Error, NewIssue, RetryPolicy};

use crate::harness::*;

fn issue(key: &str, summary: &str, version: i64) -> serde_json::Value {
    serde_json::json!({
        "self": format!("http://h/v2/issues/{key}"), "id": "5f00", "key": key,
        "version": version, "summary": summary,
        "queue": {"self": "http://h/v2/queues/TEST", "id": "1", "key": "TEST", "display": "Test"}
    })
}

fn client(base: &str) -> Client {
    Client::builder()
        .base_url(base)
        .org_id(ACME)
        .auth(Auth::OAuth("y0_test".into()))
        .retry(RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

#[derive(serde::Deserialize)]
struct UniqueQuery {
    unique: String,
}

/// The first create is acted on but its answer is lost (503); the second
/// meets the first one's issue (409).
fn lossy_create(creates: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/v2/issues",
            post(move |Json(body): Json<serde_json::Value>| {
                let n = creates.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert_eq!(body["unique"], "import-42");
                    let status = if n == 0 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::CONFLICT
                    };
                    (status, Json(serde_json::json!({"errors": {}, "errorsData": {},
                        "errorMessages": ["…"], "statusCode": status.as_u16()})))
                }
            }),
        )
        .route(
            "/v2/issues/_findByUnique",
            post(|Query(q): Query<UniqueQuery>| async move {
                assert_eq!(q.unique, "import-42");
                Json(issue("TEST-7", "imported", 1))
            }),
        )
}

#[tokio::test]
async fn a_create_with_unique_is_retried_and_answers_the_issue_it_made() {
    let creates = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(lossy_create(creates.clone())).await;
    let created = client(&base)
        .issues()
        .create(&NewIssue {
            queue: "TEST".into(),
            summary: "imported".into(),
            unique: Some("import-42".into()),
            ..NewIssue::default()
        })
        .await
        .unwrap();
    assert_eq!(created.key, "TEST-7");
    assert_eq!(creates.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_create_without_unique_is_sent_once() {
    let creates = Arc::new(AtomicUsize::new(0));
    let (base, _s) = serve_mock(lossy_create(creates.clone())).await;
    let err = client(&base)
        .issues()
        .create(&NewIssue {
            queue: "TEST".into(),
            summary: "imported".into(),
            fields: serde_json::json!({"unique": "import-42"}).as_object().unwrap().clone(),
            ..NewIssue::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 503, .. }), "{err:?}");
    assert_eq!(creates.load(Ordering::SeqCst), 1);
}

#[derive(serde::Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

#[tokio::test]
async fn an_update_sends_the_changes_and_the_version_it_applies_to() {
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let router = Router::new().route(
        "/v2/issues/{key}",
        patch(
            move |Path(key): Path<String>,
                  Query(q): Query<VersionQuery>,
                  Json(body): Json<serde_json::Value>| {
                *s.lock().unwrap() = Some((key.clone(), q.version, body.clone()));
                async move {
                    if q.version == Some(3) {
                        Json(issue(&key, body["summary"].as_str().unwrap(), 4)).into_response()
                    } else {
                        (StatusCode::CONFLICT, Json(serde_json::json!({"errors": {},
                            "errorsData": {}, "errorMessages": ["version"], "statusCode": 409})))
                            .into_response()
                    }
                }
            },
        ),
    );
    let (base, _s) = serve_mock(router).await;
    let changes = serde_json::json!({"summary": "renamed", "tags": {"add": ["x"]}});
    let updated = client(&base)
        .issues()
        .update("TEST-1", changes.as_object().unwrap(), Some(3))
        .await
        .unwrap();
    assert_eq!((updated.summary.as_str(), updated.version), ("renamed", 4));
    let (key, version, body) = seen.lock().unwrap().clone().unwrap();
    assert_eq!((key.as_str(), version), ("TEST-1", Some(3)));
    assert_eq!(body, changes);

    let err = client(&base)
        .issues()
        .update("TEST-1", changes.as_object().unwrap(), Some(2))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
}
