//! The emulator's control plane (`/_trackerd/…`, docs/emulator.md): found
//! by nobody but the holder of its token; reset, snapshots and seeding; the
//! test clock; fault injection; the request journal.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use trackerd_testkit::{
    backend_tests, each_refused, with_control_plane, Call, TestApp, ACME, ALICE, BOB_RO,
    CONTROL_TOKEN,
};

backend_tests!(with with_control_plane;
    without_the_admin_token_every_control_path_answers_404,
    restoring_a_snapshot_brings_back_the_exact_state,
    reset_goes_back_to_the_seed_or_to_no_data_at_all,
    seeding_by_api_adds_data_and_becomes_what_reset_returns_to,
    snapshot_names_and_unknown_snapshots_are_refused_clearly,
    advancing_the_clock_twelve_hours_expires_an_iam_token,
    a_frozen_clock_stands_still_and_a_set_clock_dates_new_objects,
    another_node_drops_its_caches_and_follows_the_clock_after_a_reset,
    a_fault_rule_answers_the_next_n_matching_requests_then_stops,
    a_share_of_zero_never_fires_and_a_share_of_one_always_does,
    a_fault_rule_with_a_token_touches_only_that_callers_requests,
    a_delay_rule_holds_the_answer_back,
    a_drop_rule_closes_the_connection_without_an_answer,
    bad_fault_rules_are_refused_with_the_reason,
    the_journal_shows_what_a_client_sent_with_secrets_redacted,
);

mod plane_off {
    use super::*;
    backend_tests!(the_control_plane_is_absent_unless_configured);
}

/// What `path` answers with `authorization` (or none).
async fn status_with(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<&str>,
) -> (u16, String) {
    let mut req = app.request(method, path).header("X-Org-ID", ACME);
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    let r = req.json(&json!({})).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn concrete(path: &str) -> String {
    path.replace("{name}", "snap").replace("{id}", "1")
}

async fn without_the_admin_token_every_control_path_answers_404(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    let strangers = [
        None,
        Some(format!("OAuth {ALICE}")),
        Some(format!("Bearer {ALICE}")),
        Some(format!("Bearer {iam}")),
        Some("Bearer not-the-control-token".to_owned()),
        Some(format!("OAuth {CONTROL_TOKEN}")),
        Some(format!("Bearer {CONTROL_TOKEN}x")),
    ];
    for (method, path) in trackerd::control::ROUTES {
        let path = concrete(path);
        for auth in &strangers {
            let (status, body) = status_with(&app, method.clone(), &path, auth.as_deref()).await;
            assert_eq!(status, 404, "{method} {path} with {auth:?}: {body}");
            // The same answer as a path trackerd does not serve at all.
            assert!(
                body.contains("This endpoint is not served by trackerd"),
                "{body}"
            );
        }
    }
    // A method no route has, or a path below the prefix that is not one:
    // 404 too, not 405.
    for (method, path) in [
        (Method::DELETE, "/_trackerd/reset"),
        (Method::PATCH, "/_trackerd/clock"),
        (Method::GET, "/_trackerd/nothing"),
    ] {
        assert_eq!(status_with(&app, method, path, None).await.0, 404, "{path}");
    }
    // The admin gets in; the health check stays open to all.
    app.control(Method::GET, "/_trackerd/clock")
        .await
        .status(200);
    app.request(Method::GET, "/_trackerd/health")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    // A wrong method, once in, is what it is.
    app.control(Method::DELETE, "/_trackerd/reset")
        .await
        .error(405);
}

async fn the_control_plane_is_absent_unless_configured(app: TestApp) {
    for (method, path) in trackerd::control::ROUTES {
        let path = concrete(path);
        let auth = format!("Bearer {CONTROL_TOKEN}");
        let (status, _) = status_with(&app, method.clone(), &path, Some(&auth)).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // Nor does anything of it wrap the requests.
    app.get("/v2/myself").await.status(200);
}

async fn restoring_a_snapshot_brings_back_the_exact_state(app: TestApp) {
    let first = app.create_test_issue("before the snapshot").await;
    let key = first["key"].as_str().unwrap().to_owned();
    app.comment(&key, "an early comment").await;
    let issue_before: Value = app.read(&format!("/v2/issues/{key}")).await;
    let comments_before: Value = app.read(&format!("/v2/issues/{key}/comments")).await;
    let queues_before: Value = app.read("/v2/queues").await;

    let taken: Value = app
        .control_json(Method::PUT, "/_trackerd/snapshots/before")
        .await;
    assert_eq!(taken["name"], "before");
    assert!(taken["rows"].as_i64().unwrap() > 0, "{taken}");

    let later = app.create_test_issue("after the snapshot").await;
    app.patch(&format!("/v2/issues/{key}"))
        .json(json!({"summary": "changed after"}))
        .await
        .status(200);
    app.comment(&key, "a late comment").await;
    app.create_queue("LATER", "Made later").await;

    let restored: Value = app
        .control_json(Method::POST, "/_trackerd/snapshots/before/restore")
        .await;
    println!(
        "{:?}: snapshot {} ms, restore {} ms",
        app.backend(),
        taken["tookMs"],
        restored["tookMs"]
    );

    let later_key = later["key"].as_str().unwrap();
    app.get(&format!("/v2/issues/{later_key}")).await.error(404);
    app.get("/v2/queues/LATER").await.error(404);
    assert_eq!(
        app.read::<Value>(&format!("/v2/issues/{key}")).await,
        issue_before
    );
    assert_eq!(
        app.read::<Value>(&format!("/v2/issues/{key}/comments"))
            .await,
        comments_before
    );
    assert_eq!(app.read::<Value>("/v2/queues").await, queues_before);
    // Keys and ids go on from where they were at the snapshot.
    let again = app.create_test_issue("after the restore").await;
    assert_eq!(again["key"], later["key"]);
    // Searching sees the restored text and not the lost one.
    let found: Vec<Value> = app
        .post_json(
            "/v2/issues/_search",
            json!({"query": "Queue: TEST \"before the snapshot\""}),
            200,
        )
        .await;
    assert_eq!(found.len(), 1);
    // The queue's kept issue count was rebuilt with the issues.
    let count = |q: &'static str| {
        let app = &app;
        async move {
            let n: i64 = app
                .post_json("/v2/issues/_count", json!({"query": q}), 200)
                .await;
            n
        }
    };
    assert_eq!(count("Queue: TEST").await, 2);
    assert_eq!(count("Queue: TEST Summary: after").await, 1);
    // And the words of each issue (PostgreSQL's word rows): the lost
    // issue's and comment's words are gone, the restored ones are back.
    assert_eq!(count("snapshot").await, 1);
    assert_eq!(count("late").await, 0);
    assert_eq!(count("early").await, 1);
    // So were the counts per queue, status, priority and type.
    assert_eq!(count("Status: open Priority: !blocker").await, 2);

    let list: Vec<Value> = app.control_json(Method::GET, "/_trackerd/snapshots").await;
    let names: Vec<&str> = list.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["before", "seed"]);
    snapshot(&app, Method::DELETE, "before").await.status(204);
    snapshot(&app, Method::POST, "before/restore")
        .await
        .error(404);
}

/// `method` on the control plane's snapshot `path` (a name, or a name and
/// `/restore`).
fn snapshot(app: &TestApp, method: Method, path: &str) -> Call {
    app.control(method, &format!("/_trackerd/snapshots/{path}"))
}

async fn reset_goes_back_to_the_seed_or_to_no_data_at_all(app: TestApp) {
    let issue = app.create_test_issue("to be forgotten").await;
    let started = Instant::now();
    let reset: Value = app.control_json(Method::POST, "/_trackerd/reset").await;
    println!(
        "{:?}: reset to the seed {} ms inside, {:?} over HTTP",
        app.backend(),
        reset["tookMs"],
        started.elapsed()
    );
    assert_eq!(reset["to"], "seed");
    let key = issue["key"].as_str().unwrap();
    app.get(&format!("/v2/issues/{key}")).await.error(404);
    app.get("/v2/myself").await.status(200);

    app.control(Method::POST, "/_trackerd/reset")
        .json(json!({"to": "empty"}))
        .await
        .status(200);
    // No accounts, no tokens: alice's cached authentication went with them.
    app.get("/v2/myself").await.error(401);

    app.control(Method::POST, "/_trackerd/reset")
        .json(json!({"to": "seed"}))
        .await
        .status(200);
    app.get("/v2/myself").await.status(200);
    let again = app.create_test_issue("the first again").await;
    assert_eq!(again["key"], issue["key"]);

    app.control(Method::POST, "/_trackerd/reset")
        .json(json!({"to": "yesterday"}))
        .await
        .error(400);
}

async fn seeding_by_api_adds_data_and_becomes_what_reset_returns_to(app: TestApp) {
    let zed = "y0_zed_token_seeded_by_api_0001";
    let seed = json!({"organizations": [{
        "id": ACME, "name": "Acme",
        "users": [{"login": "zed", "tokens": [{"token": zed, "scopes": ["tracker:read", "tracker:write"]}]}],
        "queues": [{"key": "ZED", "name": "Zed's", "lead": "zed"}],
    }]});
    let report: Value = app
        .control(Method::POST, "/_trackerd/seed")
        .json(&seed)
        .await
        .status(200)
        .json();
    assert_eq!(report["users"], 1);
    let me: Value = app.read_as("/v2/myself", zed).await;
    assert_eq!(me["login"], "zed");
    app.get("/v2/queues/ZED").await.status(200);

    app.control(Method::POST, "/_trackerd/reset")
        .await
        .status(200);
    app.get("/v2/myself").token(zed).await.status(200);

    // YAML too; a bad seed is refused whole.
    app.control(Method::POST, "/_trackerd/seed")
        .header("Content-Type", "application/yaml")
        .body("organizations:\n  - id: \"7000001\"\n    name: Acme\n    queues:\n      - {key: GHOST, name: G, lead: nobody}\n")
        .await
        .error_saying(400, "lead");
    app.get("/v2/queues/GHOST").await.error(404);
    app.control(Method::POST, "/_trackerd/seed")
        .body("organizations: [")
        .await
        .error(400);
}

async fn snapshot_names_and_unknown_snapshots_are_refused_clearly(app: TestApp) {
    let too_long = format!("/_trackerd/snapshots/{}", "x".repeat(65));
    for (method, path, status) in [
        (Method::PUT, "/_trackerd/snapshots/has%20space", 400),
        (Method::PUT, too_long.as_str(), 400),
        (Method::DELETE, "/_trackerd/snapshots/never", 404),
    ] {
        let r = app.control(method.clone(), path).await;
        assert_eq!(r.code(), status, "{method} {path}: {}", r.text());
        r.error(status);
    }
    snapshot(&app, Method::POST, "never/restore")
        .await
        .error_saying(404, "never");
    // Taking a snapshot twice under one name replaces it.
    snapshot(&app, Method::PUT, "twice").await.status(200);
    app.create_test_issue("between").await;
    snapshot(&app, Method::PUT, "twice").await.status(200);
    snapshot(&app, Method::POST, "twice/restore")
        .await
        .status(200);
    app.get("/v2/issues/TEST-1").await.status(200);
}

async fn advancing_the_clock_twelve_hours_expires_an_iam_token(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    let myself = || {
        app.request(Method::GET, "/v2/myself")
            .header("Authorization", format!("Bearer {iam}"))
            .header("X-Org-ID", ACME)
    };
    assert_eq!(myself().send().await.unwrap().status(), 200);
    let before: Value = app.control_json(Method::GET, "/_trackerd/clock").await;
    let moved: Value = app
        .control(Method::POST, "/_trackerd/clock/advance")
        .json(json!({"seconds": 12 * 3600}))
        .await
        .status(200)
        .json();
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap()).unwrap();
    assert_eq!((t(&moved) - t(&before)).num_hours(), 12);
    assert_eq!(moved["offsetSeconds"], 43200.0);
    assert_eq!(myself().send().await.unwrap().status(), 401);
    // The OAuth token it came from never expires.
    app.get("/v2/myself").await.status(200);

    app.control(Method::POST, "/_trackerd/clock/advance")
        .json(json!({"seconds": "soon"}))
        .await
        .error(400);
}

async fn a_frozen_clock_stands_still_and_a_set_clock_dates_new_objects(app: TestApp) {
    let set: Value = app
        .control(Method::PUT, "/_trackerd/clock")
        .json(json!({"now": "2030-01-02T03:04:05Z", "frozen": true}))
        .await
        .status(200)
        .json();
    assert_eq!(set["now"], "2030-01-02T03:04:05.000Z");
    assert_eq!(set["frozen"], true);
    // The time under it moves; the frozen clock does not.
    app.clock.advance(chrono::Duration::hours(3));
    let issue = app.create_test_issue("dated").await;
    assert_eq!(issue["createdAt"], "2030-01-02T03:04:05.000+0000");
    // Advancing a frozen clock moves it, still frozen.
    let moved: Value = app
        .control(Method::POST, "/_trackerd/clock/advance")
        .json(json!({"seconds": 60}))
        .await
        .status(200)
        .json();
    assert_eq!(moved["now"], "2030-01-02T03:05:05.000Z");
    assert_eq!(moved["frozen"], true);
    // Running again from there.
    let running: Value = app
        .control(Method::PUT, "/_trackerd/clock")
        .json(json!({"frozen": false}))
        .await
        .status(200)
        .json();
    assert_eq!(running["frozen"], false);
    app.clock.advance(chrono::Duration::seconds(10));
    let now: Value = app.control_json(Method::GET, "/_trackerd/clock").await;
    assert_eq!(now["now"], "2030-01-02T03:05:15.000Z");
    // Released: the real time again.
    let real: Value = app.control_json(Method::DELETE, "/_trackerd/clock").await;
    assert_eq!(real["offsetSeconds"], 0.0);
    let set_clock = |body: Value| app.control(Method::PUT, "/_trackerd/clock").json(body);
    each_refused(
        [set_clock(json!({"now": "yesterday"})), set_clock(json!({}))],
        400,
    )
    .await;
}

async fn another_node_drops_its_caches_and_follows_the_clock_after_a_reset(app: TestApp) {
    let other = app.another_node().await;
    let iam = app.iam_token(BOB_RO).await;
    // Both nodes have alice and bob's IAM token cached.
    other.get("/v2/myself").await.status(200);
    other
        .eventually_status(
            || {
                other
                    .request(Method::GET, "/v2/myself")
                    .header("Authorization", format!("Bearer {iam}"))
                    .header("X-Org-ID", ACME)
            },
            200,
        )
        .await;
    app.control(Method::POST, "/_trackerd/clock/advance")
        .json(json!({"seconds": 13 * 3600}))
        .await
        .status(200);
    other
        .eventually_unauthorized(&format!("Bearer {iam}"))
        .await;
    app.control(Method::POST, "/_trackerd/reset")
        .json(json!({"to": "empty"}))
        .await
        .status(200);
    other
        .eventually_unauthorized(&format!("OAuth {ALICE}"))
        .await;
}

async fn add_fault(app: &TestApp, rule: Value) -> Value {
    app.control(Method::POST, "/_trackerd/faults")
        .json(rule)
        .await
        .status(201)
        .json()
}

async fn a_fault_rule_answers_the_next_n_matching_requests_then_stops(app: TestApp) {
    let rule = add_fault(
        &app,
        json!({"method": "GET", "path": "/v*/myself", "status": 429, "retryAfter": 2, "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let r = app.get("/v3/myself").await;
        r.error(429);
        assert_eq!(r.header("retry-after"), "2");
    }
    app.get("/v2/myself").await.status(200);
    // Other methods and paths were never touched.
    app.get("/v2/queues/TEST").await.status(200);
    let rules: Vec<Value> = app.control_json(Method::GET, "/_trackerd/faults").await;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], rule["id"]);
    assert_eq!(rules[0]["hits"], 2);
    assert_eq!(rules[0]["remaining"], 0);
    // The journal names the rule that answered.
    let faulted: Vec<Value> = app
        .control_json(Method::GET, "/_trackerd/requests?status=429")
        .await;
    assert_eq!(faulted.len(), 2);
    assert_eq!(faulted[0]["fault"], rule["id"]);
    app.control(Method::DELETE, "/_trackerd/faults")
        .await
        .status(204);
    let rules: Vec<Value> = app.control(Method::GET, "/_trackerd/faults").await.json();
    assert!(rules.is_empty());
}

async fn a_share_of_zero_never_fires_and_a_share_of_one_always_does(app: TestApp) {
    let never = add_fault(
        &app,
        json!({"path": "/v2/myself", "status": 500, "share": 0}),
    )
    .await;
    for _ in 0..20 {
        app.get("/v2/myself").await.status(200);
    }
    let always = add_fault(&app, json!({"path": "/v2/**", "status": 503, "share": 1})).await;
    for _ in 0..5 {
        app.get("/v2/myself").await.error(503);
        app.get("/v2/queues").await.error(503);
    }
    app.control(
        Method::DELETE,
        &format!("/_trackerd/faults/{}", always["id"].as_str().unwrap()),
    )
    .await
    .status(204);
    app.get("/v2/myself").await.status(200);
    let rules: Vec<Value> = app.control(Method::GET, "/_trackerd/faults").await.json();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], never["id"]);
    assert_eq!(rules[0]["hits"], 0);
    app.control(Method::DELETE, "/_trackerd/faults/999")
        .await
        .error(404);
}

async fn a_fault_rule_with_a_token_touches_only_that_callers_requests(app: TestApp) {
    add_fault(
        &app,
        json!({"path": "/v2/myself", "token": BOB_RO, "status": 502}),
    )
    .await;
    app.get("/v2/myself").token(BOB_RO).await.error(502);
    app.get("/v2/myself").await.status(200);
    let rules: Vec<Value> = app.control(Method::GET, "/_trackerd/faults").await.json();
    // The token itself is never shown back.
    assert_eq!(rules[0]["token"], true);
    assert!(!rules[0].to_string().contains(BOB_RO));
}

async fn a_delay_rule_holds_the_answer_back(app: TestApp) {
    add_fault(
        &app,
        json!({"path": "/v2/myself", "delayMs": 400, "count": 1}),
    )
    .await;
    let started = Instant::now();
    app.get("/v2/myself").await.status(200);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    app.get("/v2/myself").await.status(200);
    assert!(started.elapsed() < Duration::from_millis(400));
}

async fn a_drop_rule_closes_the_connection_without_an_answer(app: TestApp) {
    add_fault(
        &app,
        json!({"path": "/v2/issues", "method": "POST", "drop": true, "count": 1}),
    )
    .await;
    let client = reqwest::Client::new();
    let sent = client
        .post(format!("{}/v2/issues", app.base))
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Org-ID", ACME)
        .json(&json!({"queue": "TEST", "summary": "dropped"}))
        .timeout(Duration::from_secs(4))
        .send()
        .await;
    let err = sent.expect_err("no answer");
    assert!(!err.is_timeout(), "{err:?}");
    // The request never reached the handler; the journal has it, without
    // an answer; the next one goes through.
    app.get("/v2/issues/TEST-1").await.error(404);
    let dropped: Vec<Value> = app
        .control(Method::GET, "/_trackerd/requests?method=POST")
        .await
        .json();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["status"], 0);
    assert!(dropped[0]["fault"].is_string());
    assert!(dropped[0]["requestBody"]
        .as_str()
        .unwrap()
        .contains("dropped"));
    app.create_test_issue("kept").await;
}

async fn bad_fault_rules_are_refused_with_the_reason(app: TestApp) {
    for (rule, words) in [
        (json!({"path": "/v2/myself"}), "needs"),
        (json!({"path": "v2/myself", "status": 500}), "path"),
        (json!({"path": "/v2/myself", "status": 200}), "status"),
        (
            json!({"path": "/v2/myself", "status": 500, "drop": true}),
            "both",
        ),
        (
            json!({"path": "/v2/myself", "status": 500, "share": 1.5}),
            "share",
        ),
        (
            json!({"path": "/v2/myself", "status": 500, "count": 0}),
            "count",
        ),
        (
            json!({"path": "/v2/myself", "drop": true, "retryAfter": 1}),
            "retryAfter",
        ),
        (
            json!({"path": "/v2/myself", "status": 500, "colour": "red"}),
            "colour",
        ),
    ] {
        app.control(Method::POST, "/_trackerd/faults")
            .json(&rule)
            .await
            .error_saying(400, words);
    }
}

async fn the_journal_shows_what_a_client_sent_with_secrets_redacted(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    app.create_test_issue("journalled").await;
    app.get("/v2/myself?fields=login")
        .token(BOB_RO)
        .await
        .status(200);
    let all: Vec<Value> = app.control_json(Method::GET, "/_trackerd/requests").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let text = serde_json::to_string(&all).unwrap();
    for secret in [ALICE, BOB_RO, iam.as_str()] {
        assert!(!text.contains(secret), "a secret in the journal: {text}");
    }
    let exchange = &all[0];
    assert_eq!(exchange["path"], "/iam/v1/tokens");
    assert_eq!(exchange["status"], 200);
    assert!(exchange["requestBody"]
        .as_str()
        .unwrap()
        .contains("\"yandexPassportOauthToken\":\"***\""));
    assert!(exchange["responseBody"]
        .as_str()
        .unwrap()
        .contains("\"iamToken\":\"***\""));

    let created = &all[1];
    assert_eq!(created["method"], "POST");
    assert_eq!(created["path"], "/v2/issues");
    assert_eq!(created["org"], ACME);
    assert_eq!(created["account"], "alice");
    assert_eq!(created["status"], 201);
    assert_eq!(created["requestHeaders"]["authorization"], "OAuth ***");
    let sent: Value = serde_json::from_str(created["requestBody"].as_str().unwrap()).unwrap();
    assert_eq!(sent, json!({"queue": "TEST", "summary": "journalled"}));
    assert!(created["responseBody"].as_str().unwrap().contains("TEST-1"));
    assert!(created["durationMs"].as_f64().unwrap() >= 0.0);

    assert_eq!(all[2]["query"], "fields=login");
    assert_eq!(all[2]["account"], "bob");

    let bobs: Vec<Value> = app
        .control(Method::GET, "/_trackerd/requests?account=bob")
        .await
        .json();
    assert_eq!(bobs.len(), 1);
    let posts: Vec<Value> = app
        .control(Method::GET, "/_trackerd/requests?method=POST&path=/v2/**")
        .await
        .json();
    assert_eq!(posts.len(), 1);
    let last: Vec<Value> = app
        .control(Method::GET, "/_trackerd/requests?limit=1")
        .await
        .json();
    assert_eq!(last[0]["id"], all[2]["id"]);
    let after: Vec<Value> = app
        .control(
            Method::GET,
            &format!("/_trackerd/requests?since={}", all[1]["id"]),
        )
        .await
        .json();
    assert_eq!(after.len(), 1);

    app.control(Method::DELETE, "/_trackerd/requests")
        .await
        .status(204);
    let none: Vec<Value> = app.control(Method::GET, "/_trackerd/requests").await.json();
    assert!(none.is_empty());
}
