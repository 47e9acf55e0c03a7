//! Issues: create, read, update, versions, transitions, move, clone, unique.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_issue_is_created_with_the_queues_next_key_and_read_back,
    creating_without_queue_or_summary_answers_422_naming_the_fields,
    unknown_fields_and_bad_values_answer_422_and_write_nothing,
    a_second_create_with_the_same_unique_answers_409_and_find_by_unique_finds_the_first,
    fifty_parallel_creates_get_fifty_consecutive_keys,
    patch_sets_plain_values_and_edits_lists,
    every_change_bumps_the_version,
    a_stale_version_parameter_answers_409,
    a_stale_if_match_answers_412,
    parallel_patches_with_the_same_version_let_exactly_one_win,
    unknown_issues_answer_404,
    issues_of_other_organizations_do_not_resolve,
    transitions_follow_the_workflow_and_resolve_needs_a_resolution,
    an_unavailable_transition_answers_404,
    a_moved_issue_gets_a_new_key_and_the_old_key_still_resolves,
    clone_copies_the_issue_into_other_queues,
    expand_and_fields_shape_the_answer,
    a_read_only_token_reads_issues_but_cannot_create_them,
);

pub async fn create_issue(app: &TestApp, body: Value) -> Value {
    let r = app
        .as_user(Method::POST, "/v2/issues/", ALICE, ACME)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn patch(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.as_user(Method::PATCH, &format!("/v2/issues/{key}"), ALICE, ACME)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn an_issue_is_created_with_the_queues_next_key_and_read_back(app: TestApp) {
    let issue = create_issue(
        &app,
        json!({"queue": "TEST", "summary": "First", "description": "Body", "type": "bug",
               "priority": {"key": "critical"}, "assignee": "bob", "followers": ["carol"], "tags": ["a", "b"]}),
    )
    .await;
    assert_eq!(issue["key"], "TEST-1");
    assert_eq!(issue["self"], format!("{}/v2/issues/TEST-1", app.base));
    assert_eq!(issue["id"].as_str().unwrap().len(), 24);
    assert_eq!(issue["version"], 1);
    assert_eq!(issue["summary"], "First");
    assert_eq!(issue["description"], "Body");
    assert_eq!(issue["type"]["key"], "bug");
    assert_eq!(issue["priority"]["key"], "critical");
    assert_eq!(issue["status"]["key"], "open");
    assert_eq!(issue["assignee"]["display"], "Bob Baker");
    assert_eq!(issue["followers"][0]["display"], "Carol");
    assert_eq!(issue["createdBy"]["display"], "Alice Archer");
    assert_eq!(issue["queue"]["key"], "TEST");
    assert_eq!(issue["tags"], json!(["a", "b"]));
    assert_eq!(issue["createdAt"], "2026-01-15T12:00:00.000+0000");
    let second = create_issue(&app, json!({"queue": {"key": "TEST"}, "summary": "Second"})).await;
    assert_eq!(second["key"], "TEST-2");
    assert_eq!(second["type"]["key"], "task", "the queue's default type");
    assert_eq!(second["priority"]["key"], "normal");

    let got: Value = app
        .get_as("/v2/issues/TEST-1", BOB_RO)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, issue);
    let by_id: Value = app
        .get_as(
            &format!("/v2/issues/{}", issue["id"].as_str().unwrap()),
            ALICE,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id["key"], "TEST-1");
    let v3: Value = app
        .get_as("/v3/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(v3["self"].as_str().unwrap().ends_with("/v3/issues/TEST-1"));
}

async fn creating_without_queue_or_summary_answers_422_naming_the_fields(app: TestApp) {
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = envelope(r, 422).await;
    assert!(
        body["errors"]["queue"].is_string() && body["errors"]["summary"].is_string(),
        "{body}"
    );
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({"queue": "NOPE", "summary": "x"}))
        .send()
        .await
        .unwrap();
    let body = envelope(r, 422).await;
    assert!(
        body["errors"]["queue"].as_str().unwrap().contains("NOPE"),
        "{body}"
    );
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .body("{")
        .send()
        .await
        .unwrap();
    envelope(r, 400).await;
}

async fn unknown_fields_and_bad_values_answer_422_and_write_nothing(app: TestApp) {
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({"queue": "TEST", "summary": "x", "bogus": 1, "priority": "urgent", "assignee": "mallory"}))
        .send()
        .await
        .unwrap();
    let body = envelope(r, 422).await;
    for f in ["bogus", "priority", "assignee"] {
        assert!(body["errors"][f].is_string(), "{f}: {body}");
    }
    // Nothing was written: the next issue still gets number 1.
    let issue = create_issue(&app, json!({"queue": "TEST", "summary": "ok"})).await;
    assert_eq!(issue["key"], "TEST-1");
}

async fn a_second_create_with_the_same_unique_answers_409_and_find_by_unique_finds_the_first(
    app: TestApp,
) {
    let first = create_issue(
        &app,
        json!({"queue": "TEST", "summary": "once", "unique": "ext-42"}),
    )
    .await;
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({"queue": "TEST", "summary": "twice", "unique": "ext-42"}))
        .send()
        .await
        .unwrap();
    envelope(r, 409).await;
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/_findByUnique?unique=ext-42",
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["key"], first["key"]);
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/_findByUnique?unique=nope",
            BOB_RO,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
}

async fn fifty_parallel_creates_get_fifty_consecutive_keys(app: TestApp) {
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/v2/issues/", app.base);
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("Authorization", format!("OAuth {ALICE}"))
                .header("X-Org-ID", ACME)
                .json(&json!({"queue": "TEST", "summary": format!("parallel {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            v["key"].as_str().unwrap().to_owned()
        }));
    }
    let mut keys = HashSet::new();
    for t in tasks {
        keys.insert(t.await.unwrap());
    }
    let expected: HashSet<String> = (1..=50).map(|n| format!("TEST-{n}")).collect();
    assert_eq!(keys, expected);
}

async fn patch_sets_plain_values_and_edits_lists(app: TestApp) {
    create_issue(
        &app,
        json!({"queue": "TEST", "summary": "x", "followers": ["bob"], "tags": ["one", "two"]}),
    )
    .await;
    let r = patch(
        &app,
        "TEST-1",
        json!({"summary": "renamed", "priority": {"set": "minor"}, "followers": {"add": ["carol"], "remove": ["bob"]},
               "tags": {"add": ["three"], "remove": ["one"]}, "assignee": "carol", "dueDate": "2026-02-01"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let i: Value = r.json().await.unwrap();
    assert_eq!(i["summary"], "renamed");
    assert_eq!(i["priority"]["key"], "minor");
    assert_eq!(i["followers"].as_array().unwrap().len(), 1);
    assert_eq!(i["followers"][0]["display"], "Carol");
    assert_eq!(i["tags"], json!(["three", "two"]));
    assert_eq!(i["assignee"]["display"], "Carol");
    assert_eq!(i["dueDate"], "2026-02-01");
    let i: Value = patch(
        &app,
        "TEST-1",
        json!({"assignee": null, "tags": [], "dueDate": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        i.get("assignee").is_none() && i.get("tags").is_none() && i.get("dueDate").is_none(),
        "{i}"
    );
    let r = patch(&app, "TEST-1", json!({"status": "closed"})).await;
    envelope(r, 422).await;
}

async fn every_change_bumps_the_version(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let i: Value = patch(&app, "TEST-1", json!({"summary": "y"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["version"], 2);
    // An edit that changes nothing is not a change.
    let i: Value = patch(&app, "TEST-1", json!({"summary": "y"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["version"], 2);
    app.as_user(Method::POST, "/v2/issues/TEST-1/comments", ALICE, ACME)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["version"], 3);
}

async fn a_stale_version_parameter_answers_409(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = app
        .as_user(Method::PATCH, "/v2/issues/TEST-1?version=1", ALICE, ACME)
        .json(&json!({"summary": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .as_user(Method::PATCH, "/v2/issues/TEST-1?version=1", ALICE, ACME)
        .json(&json!({"summary": "b"}))
        .send()
        .await
        .unwrap();
    envelope(r, 409).await;
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["summary"], "a");
}

async fn a_stale_if_match_answers_412(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = app
        .as_user(Method::PATCH, "/v2/issues/TEST-1", ALICE, ACME)
        .header("If-Match", "\"1\"")
        .json(&json!({"summary": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .as_user(Method::PATCH, "/v2/issues/TEST-1", ALICE, ACME)
        .header("If-Match", "\"1\"")
        .json(&json!({"summary": "b"}))
        .send()
        .await
        .unwrap();
    envelope(r, 412).await;
}

async fn parallel_patches_with_the_same_version_let_exactly_one_win(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let req = app
            .as_user(Method::PATCH, "/v2/issues/TEST-1?version=1", ALICE, ACME)
            .json(&json!({"summary": format!("writer {i}")}));
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["version"], 2);
}

async fn unknown_issues_answer_404(app: TestApp) {
    envelope(app.get_as("/v2/issues/TEST-999", ALICE).await, 404).await;
    envelope(patch(&app, "TEST-999", json!({"summary": "x"})).await, 404).await;
}

async fn issues_of_other_organizations_do_not_resolve(app: TestApp) {
    let r = app
        .as_user(Method::POST, "/v2/issues", MALLORY, OTHER)
        .json(&json!({"queue": "SECRET", "summary": "hidden"}))
        .send()
        .await
        .unwrap();
    let secret: Value = r.json().await.unwrap();
    envelope(app.get_as("/v2/issues/SECRET-1", ALICE).await, 404).await;
    envelope(
        app.get_as(
            &format!("/v2/issues/{}", secret["id"].as_str().unwrap()),
            ALICE,
        )
        .await,
        404,
    )
    .await;
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({"queue": "SECRET", "summary": "x"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
}

async fn transitions_follow_the_workflow_and_resolve_needs_a_resolution(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let ts: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/transitions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = ts.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["start_progress", "need_info", "resolve", "close"]);
    assert_eq!(ts[0]["to"]["key"], "inProgress");
    assert_eq!(
        ts[0]["self"],
        format!("{}/v2/issues/TEST-1/transitions/start_progress", app.base)
    );

    let exec = |t: &str, body: Value| {
        app.as_user(
            Method::POST,
            &format!("/v2/issues/TEST-1/transitions/{t}/_execute"),
            ALICE,
            ACME,
        )
        .json(&body)
    };
    let r = exec("start_progress", json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let next: Vec<Value> = r.json().await.unwrap();
    assert!(next.iter().any(|t| t["id"] == "stop_progress"));
    let body = envelope(exec("resolve", json!({})).send().await.unwrap(), 422).await;
    assert!(body["errors"]["resolution"].is_string(), "{body}");
    let r = exec(
        "resolve",
        json!({"resolution": "fixed", "comment": "Done!"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["status"]["key"], "resolved");
    assert_eq!(i["previousStatus"]["key"], "inProgress");
    assert_eq!(i["resolution"]["key"], "fixed");
    assert!(i["resolvedAt"].is_string());
    assert_eq!(i["commentWithoutExternalMessageCount"], 1);
    // Reopening clears the resolution.
    assert_eq!(
        exec("reopen", json!({})).send().await.unwrap().status(),
        200
    );
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["status"]["key"], "open");
    assert!(
        i.get("resolution").is_none() && i.get("resolvedAt").is_none(),
        "{i}"
    );
}

async fn an_unavailable_transition_answers_404(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/TEST-1/transitions/reopen/_execute",
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    envelope(
        app.get_as("/v2/issues/TEST-1/transitions/teleport", ALICE)
            .await,
        404,
    )
    .await;
}

async fn a_moved_issue_gets_a_new_key_and_the_old_key_still_resolves(app: TestApp) {
    let r = app
        .as_user(Method::POST, "/v2/queues", ALICE, ACME)
        .json(&json!({"key": "DEV", "name": "Dev", "lead": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    create_issue(&app, json!({"queue": "TEST", "summary": "traveller"})).await;
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/TEST-1/_move?queue=DEV",
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["key"], "DEV-1");
    assert_eq!(moved["queue"]["key"], "DEV");
    assert_eq!(moved["aliases"], json!(["TEST-1"]));
    let old: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["key"], "DEV-1");
    // The old queue's counter is not reused.
    let next = create_issue(&app, json!({"queue": "TEST", "summary": "next"})).await;
    assert_eq!(next["key"], "TEST-2");
}

async fn clone_copies_the_issue_into_other_queues(app: TestApp) {
    app.as_user(Method::POST, "/v2/queues", ALICE, ACME)
        .json(&json!({"key": "DEV", "name": "Dev", "lead": "alice"}))
        .send()
        .await
        .unwrap();
    create_issue(
        &app,
        json!({"queue": "TEST", "summary": "original", "tags": ["t"]}),
    )
    .await;
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/TEST-1/_clone?queues=DEV&linkWithOriginal=true",
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let clones: Vec<Value> = r.json().await.unwrap();
    assert_eq!(clones.len(), 1);
    assert_eq!(clones[0]["key"], "DEV-1");
    assert_eq!(clones[0]["summary"], "original");
    assert_eq!(clones[0]["tags"], json!(["t"]));
    let links: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/links", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["object"]["key"], "DEV-1");
}

async fn expand_and_fields_shape_the_answer(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let i: Value = app
        .get_as("/v2/issues/TEST-1?expand=transitions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(i["transitions"].as_array().unwrap().len() >= 2);
    let i: Value = app
        .get_as("/v2/issues/TEST-1?fields=summary,status", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let keys: HashSet<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from(["self", "id", "key", "version", "summary", "status"])
    );
}

async fn a_read_only_token_reads_issues_but_cannot_create_them(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    assert_eq!(app.get_as("/v2/issues/TEST-1", BOB_RO).await.status(), 200);
    let r = app
        .as_user(Method::POST, "/v2/issues", BOB_RO, ACME)
        .json(&json!({"queue": "TEST", "summary": "y"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(Method::PATCH, "/v2/issues/TEST-1", BOB_RO, ACME)
        .json(&json!({"summary": "y"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}
