//! The search streams against trackerd's real `POST /v2/issues/_search`:
//! page paging that follows `Link rel="next"`, and the scroll protocol.

use futures_util::TryStreamExt;
use tracker_client::{IssueSearch, ListOptions, NewIssue, ScrollOptions};

use trackerd_testkit::*;

use crate::app_as;

/// Seven issues in TEST and two in OPS, created through the API.
async fn seeded() -> (TestApp, tracker_client::Client) {
    let (app, client) = app_as(ALICE).await;
    let create = |queue: &str, summary: String| {
        let issue = NewIssue {
            queue: queue.into(),
            summary,
            ..NewIssue::default()
        };
        let client = client.clone();
        async move { client.issues().create(&issue).await.unwrap() }
    };
    for n in 1..=7 {
        create("TEST", format!("test issue {n}")).await;
        if n <= 2 {
            create("OPS", format!("ops issue {n}")).await;
        }
    }
    (app, client)
}

fn keys(issues: &[tracker_client::Issue]) -> Vec<String> {
    issues.iter().map(|i| i.key.clone()).collect()
}

fn queue_filter(queue: &str) -> IssueSearch {
    let mut filter = serde_json::Map::new();
    filter.insert("queue".into(), queue.into());
    IssueSearch {
        filter: Some(filter),
        order: Some("-key".into()),
        ..IssueSearch::default()
    }
}

#[tokio::test]
async fn a_query_search_streams_every_page_the_server_links() {
    let (_app, client) = seeded().await;
    let expected: Vec<String> = (1..=7).map(|n| format!("TEST-{n}")).collect();
    for per_page in [1, 3, 7, 50] {
        let found: Vec<_> = client
            .issues()
            .search(
                &IssueSearch::query("Queue: TEST"),
                &ListOptions {
                    per_page: Some(per_page),
                },
            )
            .try_collect()
            .await
            .unwrap();
        assert_eq!(keys(&found), expected, "perPage={per_page}");
    }
    assert_eq!(
        client
            .issues()
            .count(&IssueSearch::query("Queue: TEST"))
            .await
            .unwrap(),
        7
    );
    // A query trackerd cannot parse is the API's 400, not an empty list.
    let err = client
        .issues()
        .search(
            &IssueSearch::query("Queue: TEST AND ("),
            &ListOptions::default(),
        )
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn a_sorted_scroll_reads_every_issue_in_order_across_scroll_pages() {
    let (_app, client) = seeded().await;
    for per_scroll in [1, 2, 3, 100] {
        let found: Vec<_> = client
            .issues()
            .scroll(
                &queue_filter("TEST"),
                &ScrollOptions {
                    sorted: true,
                    per_scroll: Some(per_scroll),
                    ttl_millis: Some(60_000),
                },
            )
            .try_collect()
            .await
            .unwrap();
        let expected: Vec<String> = (1..=7).rev().map(|n| format!("TEST-{n}")).collect();
        assert_eq!(keys(&found), expected, "perScroll={per_scroll}");
    }
}

#[tokio::test]
async fn an_unsorted_scroll_reads_each_matching_issue_once() {
    let (_app, client) = seeded().await;
    let found: Vec<_> = client
        .issues()
        .scroll(
            &queue_filter("OPS"),
            &ScrollOptions {
                per_scroll: Some(1),
                ..ScrollOptions::default()
            },
        )
        .try_collect()
        .await
        .unwrap();
    let mut got = keys(&found);
    got.sort();
    assert_eq!(got, ["OPS-1", "OPS-2"]);
}
