use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{StreamExt, TryStreamExt};
use tracker_client::{IssueSearch, ListOptions};

use trackerd_testkit::*;

use crate::app_as;

#[tokio::test]
async fn users_list_follows_next_links_across_every_page_in_order() {
    let (_app, client) = app_as(ALICE).await;
    let users: Vec<_> = client
        .users()
        .list(&ListOptions { per_page: Some(2) })
        .try_collect()
        .await
        .unwrap();
    let logins: Vec<_> = users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins, ["alice", "bob", "carol", "dave", "erin"]);
    let mut uids: Vec<_> = users.iter().map(|u| u.uid).collect();
    uids.dedup();
    assert_eq!(uids.len(), 5, "no user twice");
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<u64>,
}

/// An endless list: every page links to the next, from an inner host name
/// as servers behind proxies do.
fn endless(requests: Arc<AtomicUsize>, auth_seen: Arc<Mutex<Vec<String>>>) -> Router {
    Router::new().route(
        "/v2/items",
        get(move |Query(q): Query<PageQuery>, headers: HeaderMap| {
            let requests = requests.clone();
            let auth_seen = auth_seen.clone();
            async move {
                requests.fetch_add(1, Ordering::SeqCst);
                if let Some(a) = headers.get("authorization") {
                    auth_seen
                        .lock()
                        .unwrap()
                        .push(a.to_str().unwrap().to_owned());
                }
                let page = q.page.unwrap_or(1);
                let link = format!(
                    "<http://inner.invalid:8080/v2/items?perPage=2&page={}>; rel=\"next\"",
                    page + 1
                );
                (
                    StatusCode::OK,
                    [("link", link)],
                    Json(vec![page * 2 - 1, page * 2]),
                )
                    .into_response()
            }
        }),
    )
}

#[tokio::test]
async fn a_stream_fetches_pages_only_as_items_are_read() {
    let requests = Arc::new(AtomicUsize::new(0));
    let auth_seen = Arc::new(Mutex::new(Vec::new()));
    let (base, _server) = serve_mock(endless(requests.clone(), auth_seen.clone())).await;
    let client = crate::mock_client(&base).build().unwrap();
    let first: Vec<u64> = client
        .paginate::<u64>("/v2/items")
        .take(5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first, [1, 2, 3, 4, 5]);
    // Five items of an endless list took three pages, not everything.
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    // The links named another host; the requests (and the token) still came here.
    assert_eq!(*auth_seen.lock().unwrap(), vec!["OAuth y0_test"; 3]);
}

#[tokio::test]
async fn search_pages_send_the_search_body_again() {
    let bodies = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = bodies.clone();
    let router = Router::new().route(
        "/v2/issues/_search",
        post(
            move |Query(q): Query<PageQuery>, Json(body): Json<serde_json::Value>| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(body);
                    let page = q.page.unwrap_or(1);
                    let issue = |n: u64| {
                        serde_json::json!({"self": format!("http://h/v2/issues/TEST-{n}"),
                            "id": n.to_string(), "key": format!("TEST-{n}"), "summary": "s"})
                    };
                    if page == 1 {
                        (
                            [(
                                "link",
                                "</v2/issues/_search?perPage=1&page=2>; rel=\"next\"",
                            )],
                            Json(vec![issue(1)]),
                        )
                            .into_response()
                    } else {
                        Json(vec![issue(2)]).into_response()
                    }
                }
            },
        ),
    );
    let (base, _server) = serve_mock(router).await;
    let client = crate::mock_client(&base).build().unwrap();
    let keys: Vec<String> = client
        .issues()
        .search(&IssueSearch::query("Queue: TEST"), &ListOptions::default())
        .map_ok(|i| i.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["TEST-1", "TEST-2"]);
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies.iter().all(|b| b["query"] == "Queue: TEST"),
        "{bodies:?}"
    );
}
