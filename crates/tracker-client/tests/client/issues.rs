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

use trackerd_testkit::*;

use crate::app_as;

fn issue(key: &str, summary: &str, version: i64) -> serde_json::Value {
    serde_json::json!({
        "self": format!("http://h/v2/issues/{key}"), "id": "5f00", "key": key,
        "version": version, "summary": summary,
        "queue": {"self": "http://h/v2/queues/TEST", "id": "1", "key": "TEST", "display": "Test"}
    })
}

fn client(base: &str) -> Client {
    crate::mock_client(base)
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
                    (
                        status,
                        Json(serde_json::json!({"errors": {}, "errorsData": {},
                        "errorMessages": ["…"], "statusCode": status.as_u16()})),
                    )
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

/// The issue the lossy-create tests import.
fn imported() -> NewIssue {
    NewIssue {
        queue: "TEST".into(),
        summary: "imported".into(),
        ..NewIssue::default()
    }
}

/// Creates `issue` through a [`lossy_create`] mock: the outcome, and how
/// many creates the mock saw.
async fn create_on_lossy(issue: NewIssue) -> (Result<tracker_client::Issue, Error>, usize) {
    let creates = Arc::new(AtomicUsize::new(0));
    let (base, _server) = serve_mock(lossy_create(creates.clone())).await;
    let outcome = client(&base).issues().create(&issue).await;
    (outcome, creates.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_create_with_unique_is_retried_and_answers_the_issue_it_made() {
    let (created, creates) = create_on_lossy(NewIssue {
        unique: Some("import-42".into()),
        ..imported()
    })
    .await;
    assert_eq!(created.unwrap().key, "TEST-7");
    assert_eq!(creates, 2);
}

#[tokio::test]
async fn a_create_without_unique_is_sent_once() {
    let unique = serde_json::json!({"unique": "import-42"});
    let (outcome, creates) = create_on_lossy(NewIssue {
        fields: unique.as_object().unwrap().clone(),
        ..imported()
    })
    .await;
    let err = outcome.unwrap_err();
    assert!(matches!(err, Error::Api { status: 503, .. }), "{err:?}");
    assert_eq!(creates, 1);
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
                        (
                            StatusCode::CONFLICT,
                            Json(serde_json::json!({"errors": {},
                            "errorsData": {}, "errorMessages": ["version"], "statusCode": 409})),
                        )
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

#[tokio::test]
async fn issues_are_created_read_and_updated_on_trackerd() {
    let (_app, client) = app_as(ALICE).await;
    let new = NewIssue {
        queue: "TEST".into(),
        summary: "First".into(),
        description: Some("from tracker-client".into()),
        assignee: Some("bob".into()),
        unique: Some("client-test-1".into()),
        fields: serde_json::json!({"storyPoints": 3})
            .as_object()
            .unwrap()
            .clone(),
        ..NewIssue::default()
    };
    let created = client.issues().create(&new).await.unwrap();
    assert_eq!(created.key, "TEST-1");
    assert_eq!(created.queue.as_ref().unwrap().key.as_deref(), Some("TEST"));
    assert_eq!(
        created.assignee.as_ref().unwrap().display.as_deref(),
        Some("Bob Baker")
    );
    assert_eq!(created.fields["storyPoints"], 3);

    // The same unique value again: the server refuses a duplicate and the
    // client answers the issue that exists.
    let again = client.issues().create(&new).await.unwrap();
    assert_eq!(again.key, "TEST-1");

    let read = client.issues().get("TEST-1").await.unwrap();
    assert_eq!(read.summary, "First");
    let changes = serde_json::json!({"summary": "Renamed", "tags": {"add": ["x"]}});
    let updated = client
        .issues()
        .update("TEST-1", changes.as_object().unwrap(), Some(read.version))
        .await
        .unwrap();
    assert_eq!(updated.summary, "Renamed");
    assert_eq!(updated.version, read.version + 1);
    assert_eq!(updated.fields["tags"], serde_json::json!(["x"]));

    // The version it was read at is gone: 409.
    let err = client
        .issues()
        .update("TEST-1", changes.as_object().unwrap(), Some(read.version))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err:?}");
    let err = client.issues().get("TEST-404").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn comments_transitions_links_and_the_changelog_on_trackerd() {
    use futures_util::TryStreamExt;
    use tracker_client::{ListOptions, NewComment};

    let app = spawn_sqlite_app().await;
    let issues = app.client(Auth::OAuth(ALICE.into())).issues();
    for summary in ["One", "Two"] {
        issues
            .create(&NewIssue {
                queue: "TEST".into(),
                summary: summary.into(),
                ..NewIssue::default()
            })
            .await
            .unwrap();
    }

    // Comments, paged one per page through the id cursor.
    for text in ["first", "second", "third"] {
        let c = issues
            .add_comment(
                "TEST-1",
                &NewComment {
                    text: text.into(),
                    ..NewComment::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(c.text, text);
    }
    let texts: Vec<String> = issues
        .comments("TEST-1", &ListOptions { per_page: Some(1) })
        .map_ok(|c| c.text)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(texts, ["first", "second", "third"]);
    let first = issues
        .comments("TEST-1", &ListOptions::default())
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let edited = issues
        .edit_comment("TEST-1", first.id, "edited")
        .await
        .unwrap();
    assert_eq!(edited.text, "edited");
    issues.delete_comment("TEST-1", first.id).await.unwrap();

    // A transition moves the status; the next set starts from there.
    let available = issues.transitions("TEST-1").await.unwrap();
    let start = available
        .iter()
        .find(|t| t.to.as_ref().and_then(|s| s.key.as_deref()) == Some("inProgress"))
        .expect("a transition to inProgress from open");
    issues
        .execute_transition("TEST-1", &start.id, &serde_json::Map::new())
        .await
        .unwrap();
    let now = issues.get("TEST-1").await.unwrap();
    assert_eq!(now.status.unwrap().key.as_deref(), Some("inProgress"));

    // Links show on both issues; linking twice is refused.
    let link = issues.link("TEST-1", "relates", "TEST-2").await.unwrap();
    assert_eq!(link.object.key.as_deref(), Some("TEST-2"));
    let back = issues.links("TEST-2").await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].object.key.as_deref(), Some("TEST-1"));
    let err = issues
        .link("TEST-1", "relates", "TEST-2")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err:?}");
    issues.unlink("TEST-1", link.id).await.unwrap();
    assert!(issues.links("TEST-2").await.unwrap().is_empty());

    // Everything above is in the changelog, oldest first.
    let kinds: Vec<String> = issues
        .changelog("TEST-1", &ListOptions { per_page: Some(2) })
        .map_ok(|e| e.kind)
        .try_collect()
        .await
        .unwrap();
    assert!(kinds.len() >= 6, "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "IssueWorkflow"), "{kinds:?}");
}
