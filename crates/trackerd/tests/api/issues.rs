//! Issues: create, read, update, versions, transitions, move, clone, unique.

use std::collections::HashSet;

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_issue_is_created_with_the_queues_next_key_and_read_back,
    creating_without_queue_or_summary_answers_422_naming_the_fields,
    unknown_fields_and_bad_values_answer_422_and_write_nothing,
    a_second_create_with_the_same_unique_answers_409_and_find_by_unique_finds_the_first,
    fifty_parallel_creates_get_fifty_consecutive_keys,
    parallel_creates_sharing_a_unique_fail_alone_and_leave_the_others_keys_gapless,
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

async fn an_issue_is_created_with_the_queues_next_key_and_read_back(app: TestApp) {
    let issue = app
        .create_issue(json!({"queue": "TEST", "summary": "First", "description": "Body", "type": "bug",
               "priority": {"key": "critical"}, "assignee": "bob", "followers": ["carol"], "tags": ["a", "b"]}))
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
    let second = app
        .create_issue(json!({"queue": {"key": "TEST"}, "summary": "Second"}))
        .await;
    assert_eq!(second["key"], "TEST-2");
    assert_eq!(second["type"]["key"], "task", "the queue's default type");
    assert_eq!(second["priority"]["key"], "normal");

    let got: Value = app.get("/v2/issues/TEST-1").token(BOB_RO).await.json();
    assert_eq!(got, issue);
    let by_id: Value = app
        .read(&format!("/v2/issues/{}", issue["id"].as_str().unwrap()))
        .await;
    assert_eq!(by_id["key"], "TEST-1");
    let v3: Value = app.read("/v3/issues/TEST-1").await;
    assert!(v3["self"].as_str().unwrap().ends_with("/v3/issues/TEST-1"));
}

async fn creating_without_queue_or_summary_answers_422_naming_the_fields(app: TestApp) {
    let body = app.post("/v2/issues").json(json!({})).await.error(422);
    assert!(
        body["errors"]["queue"].is_string() && body["errors"]["summary"].is_string(),
        "{body}"
    );
    let nope = json!({"queue": "NOPE", "summary": "x"});
    let body = app.post("/v2/issues").json(nope).await.error(422);
    assert!(
        body["errors"]["queue"].as_str().unwrap().contains("NOPE"),
        "{body}"
    );
    app.post("/v2/issues").body("{").await.error(400);
}

async fn unknown_fields_and_bad_values_answer_422_and_write_nothing(app: TestApp) {
    let bad = json!({"queue": "TEST", "summary": "x", "bogus": 1, "priority": "urgent", "assignee": "mallory"});
    let body = app.post("/v2/issues").json(bad).await.error(422);
    for f in ["bogus", "priority", "assignee"] {
        assert!(body["errors"][f].is_string(), "{f}: {body}");
    }
    // Nothing was written: the next issue still gets number 1.
    let issue = app.create_test_issue("ok").await;
    assert_eq!(issue["key"], "TEST-1");
}

async fn a_second_create_with_the_same_unique_answers_409_and_find_by_unique_finds_the_first(
    app: TestApp,
) {
    let first = app
        .create_issue(json!({"queue": "TEST", "summary": "once", "unique": "ext-42"}))
        .await;
    let twice = json!({"queue": "TEST", "summary": "twice", "unique": "ext-42"});
    app.post("/v2/issues").json(twice).await.error(409);
    let found: Value = app
        .post("/v2/issues/_findByUnique?unique=ext-42")
        .await
        .status(200)
        .json();
    assert_eq!(found["key"], first["key"]);
    app.post("/v2/issues/_findByUnique?unique=nope")
        .token(BOB_RO)
        .await
        .error(404);
}

async fn fifty_parallel_creates_get_fifty_consecutive_keys(app: TestApp) {
    let mut tasks = Vec::new();
    for i in 0..50 {
        let create = app
            .post("/v2/issues/")
            .json(json!({"queue": "TEST", "summary": format!("parallel {i}")}));
        tasks.push(tokio::spawn(async move {
            let v: Value = create.await.status(201).json();
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

/// Creates arriving together share transactions (group commit): pairs
/// racing for one `unique` pass the handler's check together, so the loser
/// fails inside the store, in a batch with others, and must fail alone.
async fn parallel_creates_sharing_a_unique_fail_alone_and_leave_the_others_keys_gapless(
    app: TestApp,
) {
    let mut tasks = Vec::new();
    for i in 0..60 {
        let mut body = json!({"queue": "TEST", "summary": format!("racing {i}")});
        if i % 3 == 0 {
            body["unique"] = json!(format!("pair-{}", i / 6));
        }
        let create = app.post("/v2/issues").json(body);
        tasks.push(tokio::spawn(async move {
            let r = create.await;
            (r.code(), r.json::<Value>())
        }));
    }
    let mut keys = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, v) => keys.push(v["key"].as_str().unwrap().to_owned()),
            (409, v) => {
                assert_eq!(v["statusCode"], 409, "{v}");
                assert!(v["errorMessages"][0].as_str().unwrap().contains("unique"));
                conflicts += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(conflicts, 10, "one loser per pair of the ten pairs");
    let mut numbers: Vec<u64> = keys
        .iter()
        .map(|k| k.strip_prefix("TEST-").unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>(), "no gap, no repeat");
    for n in 1..=50 {
        let got: Value = app.read(&format!("/v2/issues/TEST-{n}")).await;
        assert_eq!(got["key"], format!("TEST-{n}"));
        let log: Vec<Value> = app.read(&format!("/v2/issues/TEST-{n}/changelog")).await;
        assert_eq!(log.len(), 1, "exactly its creation entry");
    }
    app.get("/v2/issues/TEST-51").await.error(404);
    for p in 0..10 {
        let found: Value = app
            .post(&format!("/v2/issues/_findByUnique?unique=pair-{p}"))
            .await
            .status(200)
            .json();
        assert!(keys.contains(&found["key"].as_str().unwrap().to_owned()));
    }
}

async fn patch_sets_plain_values_and_edits_lists(app: TestApp) {
    app.create_issue(
        json!({"queue": "TEST", "summary": "x", "followers": ["bob"], "tags": ["one", "two"]}),
    )
    .await;
    let edit = json!({"summary": "renamed", "priority": {"set": "minor"}, "followers": {"add": ["carol"], "remove": ["bob"]},
               "tags": {"add": ["three"], "remove": ["one"]}, "assignee": "carol", "dueDate": "2026-02-01"});
    let i: Value = app.edit("/v2/issues/TEST-1", edit).await;
    assert_eq!(i["summary"], "renamed");
    assert_eq!(i["priority"]["key"], "minor");
    assert_eq!(i["followers"].as_array().unwrap().len(), 1);
    assert_eq!(i["followers"][0]["display"], "Carol");
    assert_eq!(i["tags"], json!(["three", "two"]));
    assert_eq!(i["assignee"]["display"], "Carol");
    assert_eq!(i["dueDate"], "2026-02-01");
    let clear = json!({"assignee": null, "tags": [], "dueDate": null});
    let i: Value = app.patch("/v2/issues/TEST-1").json(clear).await.json();
    assert!(
        i.get("assignee").is_none() && i.get("tags").is_none() && i.get("dueDate").is_none(),
        "{i}"
    );
    let closed = json!({"status": "closed"});
    app.patch("/v2/issues/TEST-1").json(closed).await.error(422);
}

async fn every_change_bumps_the_version(app: TestApp) {
    app.create_test_issue("x").await;
    // The second edit changes nothing, and is not a change.
    for _ in 0..2 {
        let summary = json!({"summary": "y"});
        let i: Value = app.patch("/v2/issues/TEST-1").json(summary).await.json();
        assert_eq!(i["version"], 2);
    }
    app.comment("TEST-1", "hi").await;
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["version"], 3);
}

async fn a_stale_version_parameter_answers_409(app: TestApp) {
    app.create_test_issue("x").await;
    let edit = |summary: &str| {
        app.patch("/v2/issues/TEST-1?version=1")
            .json(json!({ "summary": summary }))
    };
    edit("a").await.status(200);
    edit("b").await.error(409);
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["summary"], "a");
}

async fn a_stale_if_match_answers_412(app: TestApp) {
    app.create_test_issue("x").await;
    let edit = |summary: &str| {
        app.patch("/v2/issues/TEST-1")
            .header("If-Match", "\"1\"")
            .json(json!({ "summary": summary }))
    };
    edit("a").await.status(200);
    edit("b").await.error(412);
}

async fn parallel_patches_with_the_same_version_let_exactly_one_win(app: TestApp) {
    app.create_test_issue("x").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let req = app
            .patch("/v2/issues/TEST-1?version=1")
            .json(json!({"summary": format!("writer {i}")}));
        tasks.push(tokio::spawn(async move { req.await.code() }));
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
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["version"], 2);
}

async fn unknown_issues_answer_404(app: TestApp) {
    app.get("/v2/issues/TEST-999").await.error(404);
    let edit = json!({"summary": "x"});
    app.patch("/v2/issues/TEST-999").json(edit).await.error(404);
}

async fn issues_of_other_organizations_do_not_resolve(app: TestApp) {
    let secret: Value = app
        .post("/v2/issues")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"queue": "SECRET", "summary": "hidden"}))
        .await
        .json();
    app.get("/v2/issues/SECRET-1").await.error(404);
    let by_id = format!("/v2/issues/{}", secret["id"].as_str().unwrap());
    app.get(&by_id).await.error(404);
    let there = json!({"queue": "SECRET", "summary": "x"});
    app.post("/v2/issues").json(there).await.error(422);
}

async fn transitions_follow_the_workflow_and_resolve_needs_a_resolution(app: TestApp) {
    app.create_test_issue("x").await;
    let ts: Vec<Value> = app.read("/v2/issues/TEST-1/transitions").await;
    let ids: Vec<&str> = ts.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["start_progress", "need_info", "resolve", "close"]);
    assert_eq!(ts[0]["to"]["key"], "inProgress");
    assert_eq!(
        ts[0]["self"],
        format!("{}/v2/issues/TEST-1/transitions/start_progress", app.base)
    );

    let exec = |t: &str, body: Value| {
        app.post(&format!("/v2/issues/TEST-1/transitions/{t}/_execute"))
            .json(body)
    };
    let next: Vec<Value> = exec("start_progress", json!({})).await.status(200).json();
    assert!(next.iter().any(|t| t["id"] == "stop_progress"));
    let body = exec("resolve", json!({})).await.error(422);
    assert!(body["errors"]["resolution"].is_string(), "{body}");
    let fixed = json!({"resolution": "fixed", "comment": "Done!"});
    exec("resolve", fixed).await.status(200);
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["status"]["key"], "resolved");
    assert_eq!(i["previousStatus"]["key"], "inProgress");
    assert_eq!(i["resolution"]["key"], "fixed");
    assert!(i["resolvedAt"].is_string());
    assert_eq!(i["commentWithoutExternalMessageCount"], 1);
    // Reopening clears the resolution.
    exec("reopen", json!({})).await.status(200);
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["status"]["key"], "open");
    assert!(
        i.get("resolution").is_none() && i.get("resolvedAt").is_none(),
        "{i}"
    );
}

async fn an_unavailable_transition_answers_404(app: TestApp) {
    app.create_test_issue("x").await;
    let reopen = "/v2/issues/TEST-1/transitions/reopen/_execute";
    app.post(reopen).await.error(404);
    let teleport = "/v2/issues/TEST-1/transitions/teleport";
    app.get(teleport).await.error(404);
}

async fn a_moved_issue_gets_a_new_key_and_the_old_key_still_resolves(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    app.create_test_issue("traveller").await;
    let moved: Value = app
        .post("/v2/issues/TEST-1/_move?queue=DEV")
        .await
        .status(200)
        .json();
    assert_eq!(moved["key"], "DEV-1");
    assert_eq!(moved["queue"]["key"], "DEV");
    assert_eq!(moved["aliases"], json!(["TEST-1"]));
    let old: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(old["key"], "DEV-1");
    // The old queue's counter is not reused.
    let next = app.create_test_issue("next").await;
    assert_eq!(next["key"], "TEST-2");
}

async fn clone_copies_the_issue_into_other_queues(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    app.create_issue(json!({"queue": "TEST", "summary": "original", "tags": ["t"]}))
        .await;
    let clones: Vec<Value> = app
        .post("/v2/issues/TEST-1/_clone?queues=DEV&linkWithOriginal=true")
        .await
        .status(200)
        .json();
    assert_eq!(clones.len(), 1);
    assert_eq!(clones[0]["key"], "DEV-1");
    assert_eq!(clones[0]["summary"], "original");
    assert_eq!(clones[0]["tags"], json!(["t"]));
    let links: Vec<Value> = app.read("/v2/issues/TEST-1/links").await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["object"]["key"], "DEV-1");
}

async fn expand_and_fields_shape_the_answer(app: TestApp) {
    app.create_test_issue("x").await;
    let i: Value = app.read("/v2/issues/TEST-1?expand=transitions").await;
    assert!(i["transitions"].as_array().unwrap().len() >= 2);
    let i: Value = app.read("/v2/issues/TEST-1?fields=summary,status").await;
    let keys: HashSet<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        HashSet::from(["self", "id", "key", "version", "summary", "status"])
    );
}

async fn a_read_only_token_reads_issues_but_cannot_create_them(app: TestApp) {
    app.create_test_issue("x").await;
    app.get("/v2/issues/TEST-1").token(BOB_RO).await.status(200);
    let create = app
        .post("/v2/issues")
        .json(json!({"queue": "TEST", "summary": "y"}));
    create.token(BOB_RO).await.error(403);
    let edit = app.patch("/v2/issues/TEST-1").json(json!({"summary": "y"}));
    edit.token(BOB_RO).await.error(403);
}
