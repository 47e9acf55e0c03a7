//! Queue automation: macros, triggers and auto-actions through HTTP, and
//! what they do — a trigger firing on an issue's change, its webhook
//! delivered to a receiver with retries, the chain limit, a macro applied in
//! one changelog entry, an auto-action on its schedule on two nodes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_macro_is_created_listed_read_edited_and_deleted,
    a_macro_applied_to_an_issue_makes_its_changes_and_comment_in_one_changelog_entry,
    a_trigger_is_created_listed_read_edited_with_its_version_and_deleted,
    an_autoaction_is_created_listed_read_edited_and_deleted,
    automation_refuses_bad_input_and_names_what_trackerd_does_not_support,
    another_organization_sees_no_automation_and_a_read_only_token_changes_none,
    a_trigger_sets_fields_comments_and_transitions_as_the_robot_when_its_conditions_hold,
    a_trigger_fires_on_the_creates_of_its_own_queue_from_its_creation_to_its_deletion,
    a_trigger_on_closing_calls_the_webhook_with_the_filled_body,
    a_failing_receiver_is_retried_and_the_delivery_records_its_attempts,
    a_trigger_that_sets_itself_off_stops_at_the_chain_limit,
    a_private_webhook_target_is_refused_with_the_setting_off,
    an_autoaction_runs_on_its_schedule_over_its_filter_once_per_period_on_two_nodes,
);

/// An app whose automation loop ticks fast, retries at once and may call
/// the test's receiver on loopback (unless `private` is false).
async fn automated(app: TestApp, private: bool) -> TestApp {
    app.restarted_with(|c| {
        c.automation.allow_private_webhook_targets = private;
        c.automation.tick_ms = 40;
        c.automation.webhook_backoff_ms = 0;
        c.automation.webhook_max_attempts = 3;
        c.automation.webhook_timeout_ms = 2_000;
    })
    .await
}

/// What a receiver got: each request's headers and body.
#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// Requests to answer 500 before answering 200.
    fail_first: Arc<Mutex<usize>>,
}

async fn receive(State(r): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
    r.calls.lock().unwrap().push((headers, body));
    let mut left = r.fail_first.lock().unwrap();
    if *left > 0 {
        *left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn receiver(fail_first: usize) -> (String, Received) {
    let r = Received::default();
    *r.fail_first.lock().unwrap() = fail_first;
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let (base, _task) = serve_mock(router).await;
    (format!("{base}/hook"), r)
}

/// Polls `check` until it answers `Some`, for at most ten seconds.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn deliveries(app: &TestApp, trigger: &Value) -> Value {
    app.read(&format!(
        "/v2/queues/TEST/triggers/{}/deliveries",
        trigger["id"]
    ))
    .await
}

/// Creates a macro, trigger or auto-action of queue TEST (`kind` as its
/// path names it) as alice: Tracker answers these creates 200, not 201.
async fn create_in_test(app: &TestApp, kind: &str, body: Value) -> Value {
    app.post_json(&format!("/v2/queues/TEST/{kind}"), body, 200)
        .await
}

async fn close(app: &TestApp, key: &str) {
    app.post(&format!("/v2/issues/{key}/transitions/close/_execute"))
        .json(json!({"resolution": "fixed"}))
        .await
        .status(200);
}

async fn a_macro_is_created_listed_read_edited_and_deleted(app: TestApp) {
    let m: Value = create_in_test(
        &app,
        "macros",
        json!({"name": "Triage", "body": "Triaged by {{currentUser}}",
                     "fieldChanges": [{"field": "tags", "value": "triaged"}]}),
    )
    .await;
    assert_eq!(m["name"], "Triage");
    assert_eq!(m["queue"]["key"], "TEST");
    assert_eq!(m["fieldChanges"][0]["field"]["id"], "tags");
    assert_eq!(m["fieldChanges"][0]["value"], json!(["triaged"]));
    let path = format!("/v2/queues/TEST/macros/{}", m["id"]);
    assert!(m["self"].as_str().unwrap().ends_with(&path));
    let list: Value = app.read("/v2/queues/TEST/macros").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // bob reads the queue: he sees its macros.
    let seen: Value = app.read_as(&path, BOB_RO).await;
    assert_eq!(seen["name"], "Triage");
    let edited: Value = app.edit(&path, json!({"name": "Triage 2", "fieldChanges": {"add": [{"field": "priority", "value": "critical"}]},
                     "body": {"unset": 1}})).await;
    assert_eq!(edited["name"], "Triage 2");
    assert_eq!(edited["fieldChanges"].as_array().unwrap().len(), 2);
    assert!(edited["body"].is_null());
    app.delete(&path).await.status(204);
    app.get(&path).await.error(404);
    let list: Value = app.read("/v2/queues/TEST/macros").await;
    assert!(list.as_array().unwrap().is_empty());
}

async fn a_macro_applied_to_an_issue_makes_its_changes_and_comment_in_one_changelog_entry(
    app: TestApp,
) {
    app.create_test_issue("one").await;
    let m: Value = create_in_test(
        &app,
        "macros",
        json!({"name": "Escalate", "body": "Escalated {{issue.key}}",
                     "fieldChanges": [{"field": "priority", "value": "critical"},
                                      {"field": "tags", "value": ["hot"]}]}),
    )
    .await;
    let before: Value = app.read("/v2/issues/TEST-1/changelog").await;
    let issue: Value = app
        .post(&format!("/v2/issues/TEST-1/macros/{}/_execute", m["id"]))
        .await
        .status(200)
        .json();
    assert_eq!(issue["priority"]["key"], "critical");
    assert_eq!(issue["tags"], json!(["hot"]));
    let after: Value = app.read("/v2/issues/TEST-1/changelog").await;
    let added = after.as_array().unwrap().len() - before.as_array().unwrap().len();
    assert_eq!(added, 1, "one entry for the whole macro: {after}");
    let comments: Value = app.read("/v2/issues/TEST-1/comments").await;
    assert_eq!(comments[0]["text"], "Escalated TEST-1");
    // A macro of another queue is not this issue's to apply.
    app.create_queue("SIDE", "Side").await;
    app.create_issue(json!({"queue": "SIDE", "summary": "side"}))
        .await;
    app.post(&format!("/v2/issues/SIDE-1/macros/{}/_execute", m["id"]))
        .await
        .error(404);
    // bob's token reads only.
    app.post(&format!("/v2/issues/TEST-1/macros/{}/_execute", m["id"]))
        .token(BOB_RO)
        .await
        .error(403);
}

async fn a_trigger_is_created_listed_read_edited_with_its_version_and_deleted(app: TestApp) {
    let t: Value = create_in_test(
        &app,
        "triggers",
        json!({"name": "On open", "actions": [{"type": "Transition", "status": {"key": "open"}}],
                     "conditions": [{"type": "CommentFullyMatchCondition", "word": "Open"}]}),
    )
    .await;
    assert_eq!(t["version"], 1);
    assert_eq!(t["active"], true);
    assert_eq!(t["actions"][0]["id"], 1);
    assert_eq!(t["conditions"][0]["word"], "Open");
    let path = format!("/v2/queues/TEST/triggers/{}", t["id"]);
    let list: Value = app.read("/v2/queues/TEST/triggers").await;
    assert_eq!(list[0]["id"], t["id"]);
    let edited: Value = app
        .edit(
            &format!("{path}?version=1"),
            json!({"active": false, "name": "Renamed"}),
        )
        .await;
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["active"], false);
    // An edit made against the old version loses.
    app.patch(&format!("{path}?version=1"))
        .json(json!({"name": "Stale"}))
        .await
        .error(409);
    // bob reads the queue but does not administer it: its triggers are not his.
    app.get(&path).token(BOB_RO).await.error(403);
    app.delete(&path).await.status(204);
    app.get(&path).await.error(404);
}

async fn an_autoaction_is_created_listed_read_edited_and_deleted(app: TestApp) {
    let a: Value = create_in_test(
        &app,
        "autoactions",
        json!({"name": "Sweep", "query": "Priority: critical",
                     "actions": [{"type": "CreateComment", "text": "still critical"}],
                     "intervalMillis": 120000}),
    )
    .await;
    assert_eq!(a["version"], 1);
    assert_eq!(a["intervalMillis"], 120000);
    assert_eq!(a["totalIssuesProcessed"], 0);
    assert_eq!(a["query"], "Priority: critical");
    let path = format!("/v2/queues/TEST/autoactions/{}", a["id"]);
    let list: Value = app.read("/v2/queues/TEST/autoactions").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The reference's request block reads it with POST.
    let read: Value = app.post(&path).await.status(200).json();
    assert_eq!(read["name"], "Sweep");
    let edited: Value = app
        .edit(
            &path,
            json!({"filter": {"priority": "critical"}, "query": null, "active": false}),
        )
        .await;
    assert_eq!(edited["filter"], json!({"priority": "critical"}));
    assert!(edited.get("query").is_none());
    assert_eq!(edited["version"], 2);
    app.delete(&path).await.status(204);
    app.delete(&path).await.error(404);
}

async fn automation_refuses_bad_input_and_names_what_trackerd_does_not_support(app: TestApp) {
    let comment = json!([{"type": "CreateComment", "text": "t"}]);
    // (what, body, a word the refusal must name where trackerd lacks it)
    for (what, body, names) in [
        ("macros", json!({"body": "no name"}), None),
        (
            "macros",
            json!({"name": "x", "fieldChanges": [{"field": "status", "value": "closed"}]}),
            None,
        ),
        (
            "triggers",
            json!({"name": "x", "actions": [{"type": "CreateChecklist", "checklistItems": []}]}),
            Some("CreateChecklist"),
        ),
        (
            "triggers",
            json!({"name": "x", "actions": comment, "conditions": [{"type": "ChecklistDone"}]}),
            Some("ChecklistDone"),
        ),
        ("triggers", json!({"name": "x"}), None),
        (
            "autoactions",
            json!({"name": "x", "actions": comment}),
            None,
        ),
        (
            "autoactions",
            json!({"name": "x", "query": "Queue: TEST", "calendar": {"id": 2}, "actions": comment}),
            Some("calendar"),
        ),
        (
            "autoactions",
            json!({"name": "x", "query": "Queue: TEST", "intervalMillis": 5, "actions": comment}),
            None,
        ),
    ] {
        let r = app
            .post(&format!("/v2/queues/TEST/{what}"))
            .json(&body)
            .await;
        assert_eq!(r.code(), 422, "{what} {body}: {}", r.text());
        let e = r.error(422);
        if let Some(word) = names {
            assert!(e.to_string().contains(word), "{what} {body}: {e}");
        }
    }
    app.get("/v2/queues/TEST/triggers/nope").await.error(404);
    app.get("/v2/queues/NOPE/macros").await.error(404);
}

async fn another_organization_sees_no_automation_and_a_read_only_token_changes_none(app: TestApp) {
    let m: Value = create_in_test(&app, "macros", json!({"name": "Mine"})).await;
    let t: Value = create_in_test(
        &app,
        "triggers",
        json!({"name": "Mine", "actions": [{"type": "CreateComment", "text": "t"}]}),
    )
    .await;
    for path in [
        format!("/v2/queues/TEST/macros/{}", m["id"]),
        format!("/v2/queues/TEST/triggers/{}", t["id"]),
        format!("/v2/queues/TEST/triggers/{}/deliveries", t["id"]),
        "/v2/queues/TEST/autoactions".to_owned(),
    ] {
        app.get(&path).token(MALLORY).org(OTHER).await.error(404);
    }
    app.post("/v2/queues/TEST/macros")
        .token(BOB_RO)
        .json(json!({"name": "x"}))
        .await
        .error(403);
    app.patch(&format!("/v2/queues/TEST/macros/{}", m["id"]))
        .token(BOB_RO)
        .json(json!({"name": "x"}))
        .await
        .error(403);
    app.delete(&format!("/v2/queues/TEST/triggers/{}", t["id"]))
        .token(BOB_RO)
        .await
        .error(403);
}

async fn a_trigger_sets_fields_comments_and_transitions_as_the_robot_when_its_conditions_hold(
    app: TestApp,
) {
    app.post("/v2/queues/TEST/triggers")
        .json(json!({"name": "Urgent", "conditions": [
                        {"type": "Event.comment-create"},
                        {"type": "CommentStringMatchCondition", "word": "urgent", "ignoreCase": true}],
                     "actions": [
                        {"type": "Update", "update": [
                            {"field": "priority", "update": {"set": "critical"}},
                            {"field": "tags", "update": {"add": ["urgent"]}}]},
                        {"type": "Transition", "status": "inProgress"},
                        {"type": "CreateComment", "text": "Escalated {{issue.key}} for {{issue.createdBy}}"}]}))
        .await
        .status(200);
    app.create_test_issue("calm").await;
    app.comment("TEST-1", "nothing to see").await;
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(
        issue["priority"]["key"], "normal",
        "the condition did not hold"
    );
    app.comment("TEST-1", "This is URGENT").await;
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(issue["priority"]["key"], "critical");
    assert_eq!(issue["tags"], json!(["urgent"]));
    assert_eq!(issue["status"]["key"], "inProgress");
    let comments: Value = app.read("/v2/issues/TEST-1/comments").await;
    let last = comments.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["text"], "Escalated TEST-1 for alice");
    assert_eq!(last["createdBy"]["display"], "Robot Tracker", "{last}");
    let log: Value = app.read("/v2/issues/TEST-1/changelog").await;
    let workflow = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "IssueWorkflow")
        .expect("the transition's entry");
    assert_eq!(
        workflow["updatedBy"]["display"], "Robot Tracker",
        "{workflow}"
    );
}

/// A create looks for triggers only when its queue counted some as the
/// request read it (`QueueRecord::triggers`): the count must follow the
/// triggers as they come and go, and count only the queue's own.
async fn a_trigger_fires_on_the_creates_of_its_own_queue_from_its_creation_to_its_deletion(
    app: TestApp,
) {
    app.create_queue("OTHER", "Other").await;
    let tags = |issue: &Value| issue["tags"].clone();
    let before = app.create_test_issue("before").await;
    assert_eq!(tags(&before), Value::Null, "{before}");
    // A macro is not a trigger.
    create_in_test(
        &app,
        "macros",
        json!({"name": "Tagger", "fieldChanges": [{"field": "tags", "value": "macro"}]}),
    )
    .await;
    let t: Value = create_in_test(&app, "triggers", json!({"name": "Tag new",
        "conditions": [{"type": "Event.create"}],
        "actions": [{"type": "Update", "update": [{"field": "tags", "update": {"add": ["auto"]}}]}]}))
    .await;
    let key = app.create_test_issue("tagged").await["key"].clone();
    let read: Value = app
        .read(&format!("/v2/issues/{}", key.as_str().unwrap()))
        .await;
    assert_eq!(tags(&read), json!(["auto"]), "{read}");
    // Another queue's creates do not fire it.
    let other = app
        .create_issue(json!({"queue": "OTHER", "summary": "elsewhere"}))
        .await;
    let read: Value = app
        .read(&format!("/v2/issues/{}", other["key"].as_str().unwrap()))
        .await;
    assert_eq!(tags(&read), Value::Null, "{read}");
    app.delete(&format!("/v2/queues/TEST/triggers/{}", t["id"]))
        .await
        .status(204);
    let after = app.create_test_issue("after").await;
    let read: Value = app
        .read(&format!("/v2/issues/{}", after["key"].as_str().unwrap()))
        .await;
    assert_eq!(tags(&read), Value::Null, "{read}");
}

async fn a_trigger_on_closing_calls_the_webhook_with_the_filled_body(app: TestApp) {
    let app = automated(app, true).await;
    let (url, got) = receiver(0).await;
    let t: Value = create_in_test(&app, "triggers", json!({"name": "Closed hook",
                     "conditions": [{"type": "FieldBecameEqual", "field": "status", "value": "closed"}],
                     "actions": [{"type": "Webhook", "endpoint": url, "method": "POST",
                                  "headers": {"X-Issue": "{{issue.key}}"},
                                  "authContext": {"type": "oauth", "accessToken": "s3cret", "tokenType": "Bearer", "headerName": "Authorization"},
                                  "body": {"issue": "{{issue.key}}", "summary": "{{issue.summary}}", "status": "{{issue.status}}"}}]})).await;
    app.create_test_issue("ship it").await;
    app.patch("/v2/issues/TEST-1")
        .json(json!({"summary": "ship it now"}))
        .await
        .status(200);
    close(&app, "TEST-1").await;
    let (headers, body) = eventually("the webhook", || async {
        got.calls.lock().unwrap().first().cloned()
    })
    .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"issue": "TEST-1", "summary": "ship it now", "status": "closed"})
    );
    assert_eq!(headers["x-issue"], "TEST-1");
    assert_eq!(headers["authorization"], "Bearer s3cret");
    assert_eq!(headers["content-type"], "application/json");
    let d = eventually("the delivery's record", || async {
        let d = deliveries(&app, &t).await;
        (d[0]["status"] == "delivered").then_some(d)
    })
    .await;
    assert_eq!(d.as_array().unwrap().len(), 1, "only the close fired: {d}");
    assert_eq!(d[0]["attempts"], 1);
    assert_eq!(d[0]["lastResponseStatus"], 200);
    assert_eq!(d[0]["issue"], "TEST-1");
    assert_eq!(got.calls.lock().unwrap().len(), 1);
}

async fn a_failing_receiver_is_retried_and_the_delivery_records_its_attempts(app: TestApp) {
    let app = automated(app, true).await;
    let (url, got) = receiver(2).await;
    let t: Value = create_in_test(&app, "triggers", json!({"name": "Created hook", "conditions": [{"type": "Event.create"}],
                     "actions": [{"type": "Webhook", "endpoint": url, "body": "{{issue.key}} created"}]})).await;
    app.create_test_issue("flaky").await;
    let d = eventually("the third attempt", || async {
        let d = deliveries(&app, &t).await;
        (d[0]["status"] == "delivered").then_some(d)
    })
    .await;
    assert_eq!(d[0]["attempts"], 3, "{d}");
    let calls = got.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|(_, b)| b == "TEST-1 created"));
    // A receiver that never recovers: the delivery fails after the configured attempts.
    *got.fail_first.lock().unwrap() = 100;
    app.create_test_issue("doomed").await;
    let d = eventually("the delivery to fail", || async {
        let d = deliveries(&app, &t).await;
        (d[0]["status"] == "failed").then_some(d)
    })
    .await;
    assert_eq!(d[0]["issue"], "TEST-2");
    assert_eq!(d[0]["attempts"], 3);
    assert_eq!(d[0]["lastResponseStatus"], 500);
}

async fn a_trigger_that_sets_itself_off_stops_at_the_chain_limit(app: TestApp) {
    // Every comment adds a comment: without the limit it would never end.
    app.post("/v2/queues/TEST/triggers")
        .json(
            json!({"name": "Echo", "conditions": [{"type": "Event.comment-create"}],
                     "actions": [{"type": "CreateComment", "text": "echo"}]}),
        )
        .await
        .status(200);
    app.create_test_issue("loop").await;
    app.comment("TEST-1", "hello").await;
    let comments: Value = app.read("/v2/issues/TEST-1/comments").await;
    // alice's comment, then one echo per step up to the default limit (5).
    let texts = each_str(&comments, "text");
    assert_eq!(texts, ["hello", "echo", "echo", "echo", "echo", "echo"]);
    // And it has stopped: nothing more comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again: Value = app.read("/v2/issues/TEST-1/comments").await;
    assert_eq!(again.as_array().unwrap().len(), 6);
}

async fn a_private_webhook_target_is_refused_with_the_setting_off(app: TestApp) {
    let app = automated(app, false).await;
    let (url, got) = receiver(0).await;
    let t: Value = create_in_test(&app, "triggers", json!({"name": "Local", "conditions": [{"type": "Event.create"}],
                     "actions": [{"type": "Webhook", "endpoint": url, "body": {"k": "{{issue.key}}"}}]})).await;
    app.create_test_issue("x").await;
    let d = eventually("the refusal", || async {
        let d = deliveries(&app, &t).await;
        (d[0]["status"] == "failed").then_some(d)
    })
    .await;
    assert!(
        d[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("allow_private_webhook_targets"),
        "{d}"
    );
    assert!(
        got.calls.lock().unwrap().is_empty(),
        "the receiver was never called"
    );
}

async fn an_autoaction_runs_on_its_schedule_over_its_filter_once_per_period_on_two_nodes(
    app: TestApp,
) {
    let app = automated(app, true).await;
    let other = app.another_node().await;
    app.create_issue(json!({"queue": "TEST", "summary": "hot", "priority": "critical"}))
        .await;
    app.create_test_issue("cold").await;
    let a: Value = create_in_test(
        &app,
        "autoactions",
        json!({"name": "Nag", "filter": {"priority": "critical"},
                     "actions": [{"type": "CreateComment", "text": "still {{issue.priority}}"}],
                     "intervalMillis": 60000}),
    )
    .await;
    let comments = |key: &'static str| {
        let app = &app;
        async move {
            let c: Value = app.read(&format!("/v2/issues/{key}/comments")).await;
            c.as_array().unwrap().len()
        }
    };
    // Before its period has passed it does not run, however often the nodes tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(comments("TEST-1").await, 0);
    for round in 1..=2 {
        app.clock.advance(chrono::Duration::seconds(61));
        eventually("the run", || async {
            (comments("TEST-1").await == round).then_some(())
        })
        .await;
        // Both nodes keep ticking: no second run in the same period.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(comments("TEST-1").await, round, "one run per period");
        assert_eq!(comments("TEST-2").await, 0, "the filter leaves TEST-2 out");
    }
    let seen: Value = other
        .read(&format!("/v2/queues/TEST/autoactions/{}", a["id"]))
        .await;
    assert_eq!(seen["totalIssuesProcessed"], 1);
    let c: Value = app.read("/v2/issues/TEST-1/comments").await;
    assert_eq!(c[0]["text"], "still critical");
}
