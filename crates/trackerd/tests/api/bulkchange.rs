//! Bulk changes: `POST /v2/bulkchange/_update`, `_transition`, `_move`,
//! applied in the background issue by issue; `GET /v2/bulkchange/{id}` and
//! its failed issues (`/issues`).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tracker_store::{NewChangelog, NewIssue, Store};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_bulk_update_reaches_every_issue_and_reports_complete,
    a_bulk_update_by_query_changes_the_issues_the_query_finds,
    a_bulk_transition_moves_each_issue_it_can_and_reports_the_others,
    a_bulk_move_gives_each_issue_a_key_in_the_new_queue,
    bad_bodies_get_enveloped_errors_and_too_many_issues_name_the_limit,
    another_organization_and_other_members_do_not_see_a_bulk_change,
    a_read_only_token_cannot_start_a_bulk_change,
    an_issue_the_author_may_not_edit_is_a_per_issue_failure_and_stays_unchanged,
    a_bulk_change_over_a_thousand_issues_runs_in_the_background_while_reads_answer,
    two_nodes_apply_each_issue_of_one_bulk_change_exactly_once,
    an_entity_bulk_change_sets_fields_comments_and_links_on_each_project,
    an_entity_bulk_change_reports_the_entities_it_could_not_change,
    bad_entity_bulk_change_bodies_get_enveloped_errors,
    an_entity_bulk_change_stays_in_its_organization_and_needs_a_write_token,
);

/// `n` issues of TEST made straight in the store (a thousand through the
/// API would cost the test most of its time); their keys, in order.
pub(crate) async fn many_issues(store: &dyn Store, n: usize) -> Vec<String> {
    let org = store.organization_by_org_id(ACME).await.unwrap().unwrap();
    let queue = store.queue_by_key(org.id, "TEST").await.unwrap().unwrap();
    let alice = store.user_by_login("alice").await.unwrap().unwrap();
    let now = chrono::Utc::now();
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        let mut issue = trackerd::access::issues::fresh_issue(org.id, &queue, alice.uid, now, None);
        issue.summary = format!("issue {i}");
        let created = store
            .create_issue(&NewIssue {
                issue,
                changelog: NewChangelog {
                    id: trackerd::ids::object_id(now),
                    kind: "IssueCreated".into(),
                    updated_by: alice.uid,
                    updated_at: now,
                    fields: "[]".into(),
                    data: "{}".into(),
                },
                attachments: None,
            })
            .await
            .unwrap();
        keys.push(created.key);
    }
    keys
}

/// Polls the bulk change (as alice) until it has finished; its last state.
pub(crate) async fn finished(app: &TestApp, id: &str, within: Duration) -> Value {
    finished_as(app, id, ALICE, ACME, within).await
}

/// [`finished`] as `token` in `org`.
async fn finished_as(app: &TestApp, id: &str, token: &str, org: &str, within: Duration) -> Value {
    let path = format!("/v2/bulkchange/{id}");
    let state = || async {
        let op: Value = app.read_in(&path, token, org).await;
        op
    };
    let every = Duration::from_millis(50);
    poll_until(
        (within, every),
        "the bulk change did not finish",
        state,
        bulk_change_ended,
    )
    .await
}

/// Starts `POST /v2/bulkchange/_update` with `body` as alice, which must
/// be accepted (201): the bulk change.
async fn bulk_update(app: &TestApp, body: Value) -> Value {
    app.post_json("/v2/bulkchange/_update", body, 201).await
}

async fn issues(app: &TestApp, n: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..n {
        let issue = app
            .create_issue(json!({"queue": "TEST", "summary": format!("bulk {i}")}))
            .await;
        keys.push(issue["key"].as_str().unwrap().to_owned());
    }
    keys
}

async fn changelog_kinds(app: &TestApp, key: &str) -> Vec<String> {
    let entries: Vec<Value> = app.read(&format!("/v2/issues/{key}/changelog")).await;
    entries
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn failures(app: &TestApp, id: &str) -> Vec<Value> {
    app.read(&format!("/v2/bulkchange/{id}/issues")).await
}

async fn a_bulk_update_reaches_every_issue_and_reports_complete(app: TestApp) {
    let keys = issues(&app, 3).await;
    let op: Value = bulk_update(&app, json!({"issues": keys, "values": {"priority": {"key": "critical"}, "tags": {"add": ["bulk"]}}})).await;
    let id = op["id"].as_str().unwrap().to_owned();
    assert_eq!(op["self"], format!("{}/v2/bulkchange/{id}", app.base));
    assert!(op["createdBy"]["display"].is_string(), "{op}");
    assert_eq!(
        op["createdBy"]["self"],
        format!(
            "{}/v2/users/{}",
            app.base,
            op["createdBy"]["id"].as_str().unwrap()
        )
    );
    assert!(op["createdAt"].as_str().unwrap().ends_with("+0000"), "{op}");
    assert_eq!(op["status"], "CREATED");
    assert_eq!(op["statusText"], "Bulk change task created.");
    assert_eq!(op["executionChunkPercent"], 0);
    assert_eq!(op["executionIssuePercent"], 0);

    let done = finished(&app, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["executionIssuePercent"], 100);
    assert_eq!(done["executionChunkPercent"], 100);
    assert_eq!(done["totalIssues"], 3);
    assert_eq!(done["totalCompletedIssues"], 3);
    assert!(failures(&app, &id).await.is_empty());
    for key in &keys {
        let issue: Value = app.read(&format!("/v2/issues/{key}")).await;
        assert_eq!(issue["priority"]["key"], "critical", "{issue}");
        assert_eq!(issue["tags"], json!(["bulk"]));
        // One edit each, made as alice, with its version moved once.
        assert_eq!(issue["version"], 2, "{issue}");
        assert_eq!(
            changelog_kinds(&app, key).await,
            ["IssueCreated", "IssueUpdated"]
        );
    }
    // The same answer under /v3.
    let v3: Value = app.read(&format!("/v3/bulkchange/{id}")).await;
    assert_eq!(v3["self"], format!("{}/v3/bulkchange/{id}", app.base));
}

async fn a_bulk_update_by_query_changes_the_issues_the_query_finds(app: TestApp) {
    let keys = issues(&app, 3).await;
    app.patch(&format!("/v2/issues/{}", keys[1]))
        .json(json!({"summary": "the odd one"}))
        .await
        .status(200);
    let op: Value = bulk_update(
        &app,
        json!({"issues": "Summary: \"the odd one\"", "values": {"tags": {"add": ["found"]}}}),
    )
    .await;
    let done = finished(&app, op["id"].as_str().unwrap(), Duration::from_secs(20)).await;
    assert_eq!(done["totalIssues"], 1, "{done}");
    let tagged: Value = app.read(&format!("/v2/issues/{}", keys[1])).await;
    assert_eq!(tagged["tags"], json!(["found"]));
    let other: Value = app.read(&format!("/v2/issues/{}", keys[0])).await;
    assert!(other.get("tags").is_none_or(|t| t == &json!([])), "{other}");
}

async fn a_bulk_transition_moves_each_issue_it_can_and_reports_the_others(app: TestApp) {
    let keys = issues(&app, 3).await;
    // The third is already in progress: start_progress is not offered there.
    app.post(&format!(
        "/v2/issues/{}/transitions/start_progress/_execute",
        keys[2]
    ))
    .json(json!({}))
    .await
    .status(200);
    let mut names = keys.clone();
    names.push("TEST-999".into());
    let op: Value = app.post_json("/v2/bulkchange/_transition", json!({"transition": "start_progress", "issues": names, "values": {"comment": "started in bulk"}}), 201).await;
    let id = op["id"].as_str().unwrap().to_owned();
    let done = finished(&app, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["totalIssues"], 4);
    assert_eq!(done["totalCompletedIssues"], 2);
    assert_eq!(done["executionIssuePercent"], 100);
    for key in &keys[..2] {
        let issue: Value = app.read(&format!("/v2/issues/{key}")).await;
        assert_eq!(issue["status"]["key"], "inProgress", "{issue}");
        let comments: Vec<Value> = app.read(&format!("/v2/issues/{key}/comments")).await;
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0]["text"], "started in bulk");
    }
    let failed = failures(&app, &id).await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0]["issue"]["key"], keys[2].as_str());
    assert_eq!(failed[0]["status"], "FAILED");
    assert_eq!(failed[0]["error"]["statusCode"], 404);
    assert!(
        failed[0]["statusText"]
            .as_str()
            .unwrap()
            .contains("not available"),
        "{failed:?}"
    );
    assert_eq!(failed[1]["issue"]["key"], "TEST-999");
    assert_eq!(failed[1]["error"]["statusCode"], 404);
    // The failed issue is as it was: one transition, by hand.
    assert_eq!(
        changelog_kinds(&app, &keys[2]).await,
        ["IssueCreated", "IssueWorkflow"]
    );
}

async fn a_bulk_move_gives_each_issue_a_key_in_the_new_queue(app: TestApp) {
    let keys = issues(&app, 2).await;
    let op: Value = app
        .post_json(
            "/v2/bulkchange/_move",
            json!({"queue": "OPS", "issues": keys, "values": {"tags": {"add": ["moved"]}},
            "moveAllFields": false, "initialStatus": false}),
            201,
        )
        .await;
    let done = finished(&app, op["id"].as_str().unwrap(), Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    let mut new_keys = Vec::new();
    for key in &keys {
        // The old key still finds the issue, now under its new key.
        let issue: Value = app.read(&format!("/v2/issues/{key}")).await;
        let new_key = issue["key"].as_str().unwrap().to_owned();
        assert!(new_key.starts_with("OPS-"), "{issue}");
        assert_eq!(issue["queue"]["key"], "OPS");
        assert_eq!(issue["tags"], json!(["moved"]));
        assert_eq!(
            changelog_kinds(&app, &new_key).await,
            ["IssueCreated", "IssueMoved"]
        );
        new_keys.push(new_key);
    }
    new_keys.dedup();
    assert_eq!(new_keys.len(), 2);
}

async fn bad_bodies_get_enveloped_errors_and_too_many_issues_name_the_limit(app: TestApp) {
    let keys = issues(&app, 1).await;
    for (path, body, status) in [
        ("_update", json!(["TEST-1"]), 400),
        ("_update", json!({"values": {"summary": "x"}}), 422),
        ("_update", json!({"issues": ["TEST-1"]}), 422),
        (
            "_update",
            json!({"issues": [], "values": {"summary": "x"}}),
            422,
        ),
        (
            "_update",
            json!({"issues": [{"key": "TEST-1"}], "values": {}}),
            422,
        ),
        ("_update", json!({"issues": 7, "values": {}}), 422),
        ("_update", json!({"issues": keys, "values": "summary"}), 422),
        ("_update", json!({"issues": "Queue: ((", "values": {}}), 400),
        ("_transition", json!({"issues": keys}), 422),
        (
            "_transition",
            json!({"issues": keys, "transition": "fly_away"}),
            422,
        ),
        ("_transition", json!({"issues": keys, "transition": 3}), 422),
        ("_move", json!({"issues": keys}), 422),
        ("_move", json!({"issues": keys, "queue": "NOPE"}), 422),
        (
            "_move",
            json!({"issues": keys, "queue": "OPS", "moveAllFields": "yes"}),
            422,
        ),
    ] {
        let r = app
            .post(&format!("/v2/bulkchange/{path}"))
            .json(&body)
            .await;
        r.error(status);
    }
    let r = app
        .post("/v2/bulkchange/_update")
        .body("{not json")
        .header("Content-Type", "application/json")
        .await;
    assert!(r.code() == 400 || r.code() == 422, "{}", r.text());
    r.error(r.code());
    let many: Vec<String> = (1..=10_001).map(|n| format!("TEST-{n}")).collect();
    let body = app
        .post("/v2/bulkchange/_update")
        .json(json!({"issues": many, "values": {"summary": "x"}}))
        .await
        .error(422);
    assert!(
        body.to_string().contains("10000") && body.to_string().contains("max_bulk_issues"),
        "{body}"
    );
    // A bulk change that is not there.
    app.get("/v2/bulkchange/000000000000000000000000")
        .await
        .error(404);
    app.get("/v2/bulkchange/000000000000000000000000/issues")
        .await
        .error(404);
    let op: Value = bulk_update(&app, json!({"issues": keys, "values": {"summary": "x"}})).await;
    let op_id = op["id"].as_str().unwrap();
    app.get(&format!("/v2/bulkchange/{op_id}/issues?perPage=0"))
        .await
        .error(400);
}

async fn another_organization_and_other_members_do_not_see_a_bulk_change(app: TestApp) {
    let keys = issues(&app, 1).await;
    let op: Value = bulk_update(&app, json!({"issues": keys, "values": {"summary": "mine"}})).await;
    let id = op["id"].as_str().unwrap();
    finished(&app, id, Duration::from_secs(20)).await;
    for path in [
        format!("/v2/bulkchange/{id}"),
        format!("/v2/bulkchange/{id}/issues"),
    ] {
        app.get(&path).token(MALLORY).org(OTHER).await.error(404);
        // bob is a member of Acme, but the change is alice's.
        app.get(&path).token(BOB_RO).await.error(404);
    }
    // mallory's own bulk change cannot reach Acme's issues.
    let theirs: Value = app
        .post("/v2/bulkchange/_update")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"issues": keys, "values": {"summary": "stolen"}}))
        .await
        .status(201)
        .json();
    let theirs_id = theirs["id"].as_str().unwrap().to_owned();
    let done = finished_as(&app, &theirs_id, MALLORY, OTHER, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    let issue: Value = app.read(&format!("/v2/issues/{}", keys[0])).await;
    assert_eq!(issue["summary"], "mine");
    // And alice does not see mallory's.
    app.get(&format!("/v2/bulkchange/{theirs_id}"))
        .await
        .error(404);
}

async fn a_read_only_token_cannot_start_a_bulk_change(app: TestApp) {
    let keys = issues(&app, 1).await;
    for (path, body) in [
        (
            "_update",
            json!({"issues": keys, "values": {"summary": "x"}}),
        ),
        (
            "_transition",
            json!({"issues": keys, "transition": "start_progress"}),
        ),
        ("_move", json!({"issues": keys, "queue": "OPS"})),
    ] {
        app.post(&format!("/v2/bulkchange/{path}"))
            .token(BOB_RO)
            .json(body)
            .await
            .error(403);
    }
    let issue: Value = app.read(&format!("/v2/issues/{}", keys[0])).await;
    assert_eq!(issue["version"], 1);
}

async fn an_issue_the_author_may_not_edit_is_a_per_issue_failure_and_stays_unchanged(app: TestApp) {
    app.create_queue("PRIV", "Private").await;
    app.patch("/v2/queues/PRIV/permissions")
        .json(json!({
            "write": {"users": ["alice"], "groups": [], "roles": []},
            "read": {"users": ["alice", "carol"], "groups": [], "roles": []},
        }))
        .await
        .status(200);
    let open = issues(&app, 1).await;
    let closed = app
        .create_issue(json!({"queue": "PRIV", "summary": "guarded"}))
        .await;
    let closed = closed["key"].as_str().unwrap().to_owned();
    let op: Value = app
        .post("/v2/bulkchange/_update")
        .token(CAROL_EXPIRING)
        .json(json!({"issues": [open[0], closed], "values": {"summary": "carol was here"}}))
        .await
        .status(201)
        .json();
    let id = op["id"].as_str().unwrap();
    let done = finished_as(&app, id, CAROL_EXPIRING, ACME, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["totalCompletedIssues"], 1, "{done}");
    let failed: Vec<Value> = app
        .read_as(&format!("/v2/bulkchange/{id}/issues"), CAROL_EXPIRING)
        .await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["issue"]["key"], closed.as_str());
    assert_eq!(failed[0]["error"]["statusCode"], 403);
    let guarded: Value = app.read(&format!("/v2/issues/{closed}")).await;
    assert_eq!(guarded["summary"], "guarded");
    assert_eq!(guarded["version"], 1);
    let changed: Value = app.read(&format!("/v2/issues/{}", open[0])).await;
    assert_eq!(changed["summary"], "carol was here");
    // The administrator sees carol's bulk change too.
    app.get(&format!("/v2/bulkchange/{id}")).await.status(200);
}

async fn a_bulk_change_over_a_thousand_issues_runs_in_the_background_while_reads_answer(
    app: TestApp,
) {
    let keys = many_issues(app.state.store.as_ref(), 1000).await;
    let started = Instant::now();
    let op: Value = bulk_update(
        &app,
        json!({"issues": keys, "values": {"tags": {"add": ["thousand"]}}}),
    )
    .await;
    let created_in = started.elapsed();
    let id = op["id"].as_str().unwrap().to_owned();
    let mut slowest = Duration::ZERO;
    let mut reads = 0;
    let mut seen_running = false;
    let until = Instant::now() + Duration::from_secs(240);
    let done = loop {
        let t = Instant::now();
        let issue: Value = app
            .read(&format!("/v2/issues/{}", keys[reads % keys.len()]))
            .await;
        slowest = slowest.max(t.elapsed());
        assert!(issue["key"].is_string());
        reads += 1;
        let status: Value = app.read(&format!("/v2/bulkchange/{id}")).await;
        match status["status"].as_str().unwrap() {
            "COMPLETE" => break status,
            "IN_PROGRESS" => {
                seen_running = true;
                let pct = status["executionIssuePercent"].as_i64().unwrap();
                assert!((0..100).contains(&pct), "{status}");
            }
            "CREATED" => {}
            other => panic!("unexpected status {other}: {status}"),
        }
        assert!(
            Instant::now() < until,
            "the bulk change did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(seen_running, "the change was never seen in progress");
    assert_eq!(done["executionIssuePercent"], 100);
    assert_eq!(done["totalCompletedIssues"], 1000);
    assert!(failures(&app, &id).await.is_empty());
    // Reads kept answering promptly while the worker wrote.
    assert!(slowest < Duration::from_secs(2), "a read took {slowest:?}");
    for key in keys.iter().step_by(97) {
        let issue: Value = app.read(&format!("/v2/issues/{key}")).await;
        assert_eq!(issue["tags"], json!(["thousand"]), "{issue}");
        assert_eq!(
            changelog_kinds(&app, key).await,
            ["IssueCreated", "IssueUpdated"]
        );
    }
    println!(
        "bulk change ({}): 1000 issues, accepted in {created_in:?}, done in {:?}; \
         {reads} issue reads meanwhile, slowest {slowest:?}",
        app.backend().name(),
        started.elapsed()
    );
}

async fn two_nodes_apply_each_issue_of_one_bulk_change_exactly_once(app: TestApp) {
    let second = app.another_node().await;
    let keys = many_issues(app.state.store.as_ref(), 300).await;
    let op: Value = bulk_update(
        &app,
        json!({"issues": keys, "values": {"tags": {"add": ["once"]}}}),
    )
    .await;
    let id = op["id"].as_str().unwrap();
    // Read from the other node: the job lives in the shared database.
    let done = finished(&second, id, Duration::from_secs(120)).await;
    assert_eq!(done["totalCompletedIssues"], 300, "{done}");
    for key in &keys {
        let kinds = changelog_kinds(&app, key).await;
        assert_eq!(kinds, ["IssueCreated", "IssueUpdated"], "{key}");
    }
}

async fn project(app: &TestApp, summary: &str) -> String {
    let p: Value = app
        .post_json(
            "/v2/entities/project",
            json!({"fields": {"summary": summary, "queues": "TEST"}}),
            201,
        )
        .await;
    p["id"].as_str().unwrap().to_owned()
}

async fn entity_update(app: &TestApp, token: &str, org: &str, body: Value) -> String {
    let op: Value = app
        .post("/v2/entities/project/bulkchange/_update")
        .token(token)
        .org(org)
        .json(body)
        .await
        .status(201)
        .json();
    assert_eq!(op["status"], "CREATED", "{op}");
    op["id"].as_str().unwrap().to_owned()
}

async fn an_entity_bulk_change_sets_fields_comments_and_links_on_each_project(app: TestApp) {
    let (a, b, target) = (
        project(&app, "one").await,
        project(&app, "two").await,
        project(&app, "three").await,
    );
    let id = entity_update(
        &app,
        ALICE,
        ACME,
        json!({
            "metaEntities": [a, b],
            "values": {
                "fields": {"entityStatus": "at_risk", "followers": "bob"},
                "comment": "The project is at risk",
                "links": [{"relationship": "depends on", "entity": target}],
            },
        }),
    )
    .await;
    let done = finished(&app, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["totalCompletedIssues"], 2, "{done}");
    for e in [&a, &b] {
        let got: Value = app
            .read(&format!(
                "/v2/entities/project/{e}?fields=entityStatus,followers,summary"
            ))
            .await;
        assert_eq!(got["fields"]["entityStatus"], "at_risk", "{got}");
        assert_eq!(
            got["fields"]["followers"][0]["display"], "Bob Baker",
            "{got}"
        );
        let comments: Vec<Value> = app
            .read(&format!("/v2/entities/project/{e}/comments"))
            .await;
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert_eq!(comments[0]["text"], "The project is at risk");
        let links: Vec<Value> = app.read(&format!("/v2/entities/project/{e}/links")).await;
        assert_eq!(links.len(), 1, "{links:?}");
        // One write per entity: its version moved once.
        let events: Value = app
            .read(&format!("/v2/entities/project/{e}/events/_relative"))
            .await;
        let displays: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|ev| ev["display"].as_str())
            .collect();
        assert!(displays.contains(&"Entity updated"), "{events}");
        assert!(displays.contains(&"Comment added"), "{events}");
    }
    let untouched: Value = app
        .read(&format!(
            "/v2/entities/project/{target}?fields=entityStatus"
        ))
        .await;
    assert_ne!(untouched["fields"]["entityStatus"], "at_risk");
    // Running the same change again changes nothing more but the comment.
    let again = entity_update(
        &app,
        ALICE,
        ACME,
        json!({"metaEntities": [a], "values": {"fields": {"entityStatus": "at_risk"}}}),
    )
    .await;
    let done = finished(&app, &again, Duration::from_secs(20)).await;
    assert_eq!(done["totalCompletedIssues"], 1, "{done}");
}

async fn an_entity_bulk_change_reports_the_entities_it_could_not_change(app: TestApp) {
    let mine = project(&app, "alice's").await;
    // carol is a member but neither author, lead nor team of alice's project:
    // the change she starts fails on it, and on an id that names nothing.
    let id = entity_update(
        &app,
        CAROL_EXPIRING,
        ACME,
        json!({"metaEntities": [mine, "000000000000000000000000"],
               "values": {"fields": {"summary": "carol's now"}}}),
    )
    .await;
    let done = finished_as(&app, &id, CAROL_EXPIRING, ACME, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["totalFailedIssues"], 2, "{done}");
    let failed: Vec<Value> = app
        .read_as(&format!("/v2/bulkchange/{id}/issues"), CAROL_EXPIRING)
        .await;
    let statuses: Vec<(Value, Value)> = failed
        .iter()
        .map(|f| (f["issue"]["id"].clone(), f["error"]["statusCode"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!(mine), json!(403)),
            (json!("000000000000000000000000"), json!(404))
        ]
    );
    let got: Value = app
        .read(&format!("/v2/entities/project/{mine}?fields=summary"))
        .await;
    assert_eq!(got["fields"]["summary"], "alice's");
    assert_eq!(got["version"], 1, "{got}");
}

async fn bad_entity_bulk_change_bodies_get_enveloped_errors(app: TestApp) {
    let p = project(&app, "p").await;
    for (path, body, status) in [
        ("project", json!(["x"]), 400),
        ("project", json!({"values": {"fields": {}}}), 422),
        ("project", json!({"metaEntities": [p]}), 422),
        ("project", json!({"metaEntities": [], "values": {}}), 422),
        (
            "project",
            json!({"metaEntities": [true], "values": {}}),
            422,
        ),
        ("project", json!({"metaEntities": p, "values": {}}), 422),
        (
            "project",
            json!({"metaEntities": [p], "values": {"fields": {"colour": "red"}}}),
            422,
        ),
        (
            "project",
            json!({"metaEntities": [p], "values": {"fields": {"entityStatus": "on_fire"}}}),
            422,
        ),
        (
            "project",
            json!({"metaEntities": [p], "values": {"fields": {}, "comment": 5}}),
            422,
        ),
        (
            "project",
            json!({"metaEntities": [p], "values": {"links": "relates"}}),
            422,
        ),
        ("spaceship", json!({"metaEntities": [p], "values": {}}), 404),
    ] {
        app.post(&format!("/v2/entities/{path}/bulkchange/_update"))
            .json(&body)
            .await
            .error(status);
    }
    let got: Value = app.read(&format!("/v2/entities/project/{p}")).await;
    assert_eq!(got["version"], 1, "{got}");
}

async fn an_entity_bulk_change_stays_in_its_organization_and_needs_a_write_token(app: TestApp) {
    let p = project(&app, "acme's").await;
    let body = json!({"metaEntities": [p], "values": {"fields": {"summary": "taken"}}});
    app.post("/v2/entities/project/bulkchange/_update")
        .token(BOB_RO)
        .json(&body)
        .await
        .error(403);
    let theirs = entity_update(&app, MALLORY, OTHER, body).await;
    let done = finished_as(&app, &theirs, MALLORY, OTHER, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    app.get(&format!("/v2/bulkchange/{theirs}"))
        .await
        .error(404);
    let got: Value = app
        .read(&format!("/v2/entities/project/{p}?fields=summary"))
        .await;
    assert_eq!(got["fields"]["summary"], "acme's");
}
