//! Clients that misbehave: connections dropped mid-write, bursts of writes to
//! one issue. The server must stay writable and answer without conflicts a
//! real client would not retry.

use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::issues::create_issue;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    writes_keep_working_after_clients_drop_requests_mid_write,
    concurrent_comments_on_one_issue_all_succeed,
);

/// Sends a whole comment request over a raw socket and closes the socket
/// after `wait`, without reading the answer: the server is left holding a
/// handler whose client is gone, at whatever point it had reached.
async fn comment_and_hang_up(base: &str, n: usize, wait: Duration) {
    let addr = base.trim_start_matches("http://");
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let body = json!({ "text": format!("dropped {n}") }).to_string();
    let req = format!(
        "POST /v2/issues/TEST-1/comments HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: OAuth {ALICE}\r\nX-Org-ID: {ACME}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(req.as_bytes()).await;
    tokio::time::sleep(wait).await;
    // Dropping the stream closes it; the answer, if any, is never read.
}

async fn post_comment(app: &TestApp, text: &str) -> reqwest::Response {
    app.as_user(Method::POST, "/v2/issues/TEST-1/comments", ALICE, ACME)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

async fn writes_keep_working_after_clients_drop_requests_mid_write(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "hot issue"})).await;
    let mut rng = rand::thread_rng();
    for burst in 0..8 {
        let waits: Vec<Duration> = (0..16)
            .map(|_| Duration::from_micros(rng.gen_range(0..20_000)))
            .collect();
        let tasks: Vec<_> = waits
            .into_iter()
            .enumerate()
            .map(|(i, wait)| {
                let base = app.base.clone();
                tokio::spawn(async move { comment_and_hang_up(&base, burst * 16 + i, wait).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // After each burst of abandoned writes an ordinary write must go
        // through at once, not fail until a restart.
        let r = tokio::time::timeout(Duration::from_secs(20), post_comment(&app, "still here"))
            .await
            .expect("a write after dropped requests answers");
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 201, "burst {burst}: {text}");
    }
    // Every acknowledged and every abandoned-but-finished comment is whole:
    // the count the issue shows matches the comments listed.
    let issue: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/comments?perPage=1000", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        issue["commentWithoutExternalMessageCount"]
            .as_u64()
            .unwrap() as usize,
        listed.len()
    );
    assert!(listed.len() >= 8);
}

async fn concurrent_comments_on_one_issue_all_succeed(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "busy issue"})).await;
    for round in 0..3 {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..16 {
            let req = app
                .as_user(Method::POST, "/v2/issues/TEST-1/comments", ALICE, ACME)
                .json(&json!({ "text": format!("round {round} comment {i}") }));
            set.spawn(async move {
                let r = req.send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            });
        }
        while let Some(answer) = set.join_next().await {
            let (status, text) = answer.unwrap();
            assert_eq!(
                status, 201,
                "a comment must not conflict with another: {text}"
            );
        }
    }
    let listed: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/comments?perPage=1000", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 48);
    let issue: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issue["commentWithoutExternalMessageCount"], 48);
}
