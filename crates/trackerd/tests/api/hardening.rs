//! Clients that misbehave: connections dropped mid-write, bursts of writes to
//! one issue. The server must stay writable and answer without conflicts a
//! real client would not retry.

use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    errors_quote_what_was_sent_but_never_all_of_a_huge_value,
    searches_wait_their_turn_and_writes_never_wait_for_them,
    large_lists_in_searches_answer_a_4xx_or_an_answer_never_a_5xx,
    writes_keep_working_after_clients_drop_requests_mid_write,
    concurrent_comments_on_one_issue_all_succeed,
    path_and_body_rejections_answer_in_the_envelope,
    nul_characters_are_refused_the_same_way_on_every_backend,
    form_endpoints_refuse_too_many_parameters_at_once,
    every_answer_carries_the_security_headers,
    many_full_text_words_are_one_match_not_one_sub_select_each,
    unserved_paths_and_methods_say_so_and_never_look_like_a_missing_issue,
    each_configured_limit_is_answered_with_a_4xx_that_names_it,
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
    app.create_test_issue("hot issue").await;
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
    // the count the issue shows matches the comments listed. Abandoned
    // writes run to their end after their client left, so the two are
    // compared once they stop moving.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let issue: Value = app.read("/v2/issues/TEST-1").await;
        let listed: Vec<Value> = app.read("/v2/issues/TEST-1/comments?perPage=1000").await;
        let count = issue["commentWithoutExternalMessageCount"]
            .as_u64()
            .unwrap() as usize;
        if count == listed.len() {
            break listed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the issue counts {count} comments, {} are listed",
            listed.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(listed.len() >= 8);
}

async fn concurrent_comments_on_one_issue_all_succeed(app: TestApp) {
    app.create_test_issue("busy issue").await;
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
    let listed: Vec<Value> = app.read("/v2/issues/TEST-1/comments?perPage=1000").await;
    assert_eq!(listed.len(), 48);
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(issue["commentWithoutExternalMessageCount"], 48);
}

async fn path_and_body_rejections_answer_in_the_envelope(app: TestApp) {
    // A path segment that is not UTF-8.
    let r = app.get_as("/v2/issues/%ff%fe", ALICE).await;
    let status = r.status().as_u16();
    assert!(status == 400 || status == 404, "{status}");
    envelope(r, status).await;
    // A body over the limit names it, with 413.
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let body = app
        .post("/v2/issues/TEST-1/comments")
        .header("Content-Type", "application/json")
        .body(big)
        .await
        .error(413);
    assert!(
        body["errorMessages"][0].as_str().unwrap().contains("limit"),
        "{body}"
    );
    // A page answers a page, even when axum rejects its path.
    let r = app
        .request(Method::POST, "/my/tokens/abc/revoke")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
}

async fn nul_characters_are_refused_the_same_way_on_every_backend(app: TestApp) {
    app.create_test_issue("x").await;
    let r = app.get_as("/v2/issues/TEST-1%00", ALICE).await;
    envelope(r, 400).await;
    app.post("/v2/issues/TEST-1/comments")
        .header("Content-Type", "application/json")
        .body(r#"{"text":"before\u0000after"}"#)
        .await
        .error(400);
    // An escaped backslash before "u0000" is text, not NUL.
    app.post("/v2/issues/TEST-1/comments")
        .header("Content-Type", "application/json")
        .body(r#"{"text":"C:\\u0000"}"#)
        .await
        .status(201);
    // Unauthenticated form endpoints answer RFC 6749's body.
    for path in ["/device/code", "/introspect", "/revoke_token", "/token"] {
        let r = app
            .request(Method::POST, path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("client_id=abc%00")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].is_string(), "{path}: {v}");
    }
}

async fn form_endpoints_refuse_too_many_parameters_at_once(app: TestApp) {
    let body = (0..230_000)
        .map(|i| format!("p{i}=v"))
        .collect::<Vec<_>>()
        .join("&");
    for path in ["/token", "/device/code", "/introspect"] {
        let started = std::time::Instant::now();
        let r = app
            .request(Method::POST, path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "invalid_request", "{path}: {v}");
        // Refused while reading, not after a pass per parameter (it took 50 s).
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}

async fn every_answer_carries_the_security_headers(app: TestApp) {
    let r = app.get_as("/v2/myself", ALICE).await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let r = app
        .post("/iam/v1/tokens")
        .anonymous()
        .json(json!({ "yandexPassportOauthToken": ALICE }))
        .await
        .status(200);
    assert_eq!(r.header("cache-control"), "no-store");
}

async fn many_full_text_words_are_one_match_not_one_sub_select_each(app: TestApp) {
    app.create_test_issue("alpha beta").await;
    let distinct: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
    for (query, hits) in [
        (vec!["a"; 500].join(" "), 1),
        ("alpha ".repeat(400) + "beta", 1),
        (distinct.join(" "), 0),
    ] {
        let started = std::time::Instant::now();
        let r = app
            .as_user(Method::POST, "/v2/issues/_count", ALICE, ACME)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap(), json!(hits));
        // It took 4 s at 128 words and minutes at 500 on PostgreSQL.
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

async fn unserved_paths_and_methods_say_so_and_never_look_like_a_missing_issue(app: TestApp) {
    app.create_test_issue("x").await;
    for path in [
        "/v2/issues/TEST-1/nosuch",
        "/v2/nosuch",
        "/v3/boards/1/nosuch",
    ] {
        let body = app.post(path).json(json!({})).await.error(404);
        let message = body["errorMessages"][0].as_str().unwrap();
        assert_eq!(
            message,
            format!("This endpoint is not served by trackerd: POST {path}")
        );
    }
    // A path served for other methods: 405 whatever the token, never a 500
    // (the LINK/UNLINK fallback shares the path), never the issue's 404.
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        for token in [ALICE, BOB_RO] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            app.call(method, "/v2/issues/TEST-1")
                .token(token)
                .await
                .error(405);
        }
    }
    app.call(Method::PUT, "/v2/issues/_search")
        .json(json!({}))
        .await
        .error(405);
}

/// Lists far longer than any real client sends, in every place a search
/// takes one: each is answered (or refused with a 4xx naming the limit) by
/// trackerd, never left to an engine limit that answers 500.
async fn large_lists_in_searches_answer_a_4xx_or_an_answer_never_a_5xx(app: TestApp) {
    app.create_issue(serde_json::json!({"queue": "TEST", "summary": "x"}))
        .await;
    let keys: Vec<String> = (1..=20_000).map(|n| format!("TEST-{n}")).collect();
    let values: Vec<String> = (0..5_000).map(|n| format!("tag{n}")).collect();
    let ors = (0..2_000)
        .map(|n| format!("Tags: t{n}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let sort = (0..10_000)
        .map(|_| "Key".to_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let bodies = [
        ("keys", serde_json::json!({"keys": keys})),
        (
            "filter values",
            serde_json::json!({"filter": {"tags": values}}),
        ),
        ("OR terms", serde_json::json!({"query": ors})),
        (
            "sort keys",
            serde_json::json!({"query": format!("Queue: TEST \"Sort by\": {sort}")}),
        ),
        (
            "order keys",
            serde_json::json!({"filter": {"queue": "TEST"}, "order": vec!["+key"; 10_000]}),
        ),
    ];
    for (what, body) in bodies {
        for path in ["/v2/issues/_search", "/v2/issues/_count"] {
            let r = app.post(path).json(body.clone()).await;
            assert!(
                r.code() < 500,
                "{what} on {path}: {} {}",
                r.code(),
                r.text().chars().take(300).collect::<String>()
            );
        }
    }
    let fields: Vec<String> = (0..40).map(|n| format!("field{n}")).collect();
    app.post("/v2/issues/_search")
        .json(serde_json::json!({"filter": {"queue": "TEST"}, "order": fields}))
        .await
        .error_saying(400, "at most 32");
    // Huge names where the database indexes them.
    let huge = "x".repeat(1_000_000);
    for (path, body) in [
        ("/v2/groups", serde_json::json!({"name": huge})),
        (
            "/v2/components",
            serde_json::json!({"name": huge, "queue": "TEST"}),
        ),
        (
            "/v2/queues",
            serde_json::json!({"key": "HUGE", "name": huge, "lead": "alice", "defaultType": "task", "defaultPriority": "normal"}),
        ),
        (
            "/v2/issues",
            serde_json::json!({"queue": "TEST", "summary": huge}),
        ),
    ] {
        let r = app.post(path).json(body).await;
        assert!(
            r.code() < 500,
            "{path}: {} {}",
            r.code(),
            r.text().chars().take(300).collect::<String>()
        );
    }
}

/// Searches take turns (`connections.max_concurrent_searches`): with every
/// turn taken, a search waits, while writes go on; the search answers when
/// a turn frees up. (Without turns, a burst of slow searches held every
/// database connection and unrelated creates failed.)
async fn searches_wait_their_turn_and_writes_never_wait_for_them(app: TestApp) {
    app.create_issue(serde_json::json!({"queue": "TEST", "summary": "x"}))
        .await;
    let turns = app.state.config.connections.max_concurrent_searches;
    let taken = app
        .state
        .search_slots
        .acquire_many(u32::try_from(turns).unwrap())
        .await
        .unwrap();
    let search = {
        let req = app
            .as_user(Method::POST, "/v2/issues/_count", ALICE, ACME)
            .json(&serde_json::json!({"filter": {"queue": "TEST"}}));
        tokio::spawn(async move { req.send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!search.is_finished(), "a search ran without a turn");
    app.create_issue(serde_json::json!({"queue": "TEST", "summary": "while searches wait"}))
        .await;
    drop(taken);
    let r = tokio::time::timeout(Duration::from_secs(10), search)
        .await
        .expect("the search got its turn")
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), 2);
}

/// An error quoting the request ("Queue … not found") quotes at most a few
/// hundred characters of it: a 250 KB value came back whole, once per field.
async fn errors_quote_what_was_sent_but_never_all_of_a_huge_value(app: TestApp) {
    let huge = "Q".repeat(250_000);
    let r = app
        .post("/v2/issues")
        .json(json!({"queue": huge, "summary": "x"}))
        .await;
    assert_eq!(
        r.code(),
        422,
        "{}",
        r.text().chars().take(200).collect::<String>()
    );
    assert!(r.text().len() < 2_000, "{} bytes answered", r.text().len());
    let body: Value = r.json();
    let message = body["errors"]["queue"].as_str().unwrap();
    assert!(
        message.starts_with("Queue QQQ") && message.ends_with('…'),
        "{}",
        &message[..40]
    );
}

async fn each_configured_limit_is_answered_with_a_4xx_that_names_it(app: TestApp) {
    let app = app
        .restarted_with(|c| {
            c.limits.body_bytes = 4096;
            c.limits.form_params = 5;
            c.limits.query_chars = 100;
            c.limits.query_terms = 10;
            c.limits.search_list_items = 5;
            c.limits.sort_keys = 2;
        })
        .await;
    app.create_test_issue("x").await;
    // Just under each limit: answered.
    for body in [
        json!({"query": format!("Summary: \"{}\"", "x".repeat(80))}),
        json!({"query": "Tags: a, b, c, d, e, f, g, h, i, j"}),
        json!({"keys": ["TEST-1", "TEST-2", "TEST-3", "TEST-4", "TEST-5"]}),
        json!({"filter": {"queue": "TEST"}, "order": ["+key", "-updated"]}),
    ] {
        app.post("/v2/issues/_search").json(&body).await.status(200);
    }
    // Over it: refused, naming the setting.
    for (path, body, status, setting) in [
        (
            "/v2/issues",
            json!({"queue": "TEST", "summary": "big", "description": "d".repeat(5000)}),
            413,
            "limits.body_bytes",
        ),
        (
            "/v2/issues/_search",
            json!({"query": format!("Summary: \"{}\"", "x".repeat(101))}),
            400,
            "limits.query_chars",
        ),
        (
            "/v2/issues/_count",
            json!({"query": "Tags: a, b, c, d, e, f, g, h, i, j, k"}),
            400,
            "limits.query_terms",
        ),
        (
            "/v2/issues/_search",
            json!({"filter": {"tags": ["a", "b", "c"], "queue": ["TEST", "A", "B"],
                              "priority": ["minor", "normal", "critical", "blocker", "trivial"]}}),
            400,
            "limits.query_terms",
        ),
        (
            "/v2/issues/_search",
            json!({"keys": ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"]}),
            400,
            "limits.search_list_items",
        ),
        (
            "/v2/issues/_search",
            json!({"filter": {"tags": ["a", "b", "c", "d", "e", "f"]}}),
            400,
            "limits.search_list_items",
        ),
        (
            "/v2/issues/_search",
            json!({"filter": {"queue": "TEST"}, "order": ["+key", "-updated", "+summary"]}),
            400,
            "limits.sort_keys",
        ),
        (
            "/v2/issues/_search",
            json!({"query": "Queue: TEST \"Sort by\": Key, Updated, Summary"}),
            400,
            "limits.sort_keys",
        ),
    ] {
        app.post(path)
            .json(&body)
            .await
            .error_saying(status, setting);
    }
    // Nothing of the refused create was written.
    let count: Value = app
        .post_json(
            "/v2/issues/_count",
            json!({"filter": {"queue": "TEST"}}),
            200,
        )
        .await;
    assert_eq!(count, json!(1));
    let v: Value = app
        .post("/token")
        .anonymous()
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("a=1&b=2&c=3&d=4&e=5&f=6")
        .await
        .status(400)
        .json();
    assert_eq!(v["error"], "invalid_request", "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("limits.form_params"),
        "{v}"
    );
}
