//! Remote links (an issue's links to objects of external applications), the
//! organization's external applications, and removing a tag from a queue.

use reqwest::Method;
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_remote_link_is_added_listed_and_deleted_and_each_change_moves_the_issue,
    a_backlink_request_is_accepted_and_recorded_as_not_performed,
    a_remote_link_needs_a_known_relationship_a_key_and_an_application_of_the_organization,
    a_read_only_token_reads_remote_links_but_cannot_add_or_delete_them,
    another_organization_sees_neither_the_remote_links_nor_the_applications,
    applications_list_the_organizations_external_applications_and_each_is_served_by_id,
    the_admin_command_registers_renames_and_removes_an_application_but_not_one_in_use,
    removing_a_tag_takes_it_off_every_issue_of_the_queue_with_a_changelog_entry_each,
    removing_a_tag_needs_a_tag_the_queue_uses,
    only_a_queue_administrator_removes_a_tag,
);

async fn add(app: &TestApp, token: &str, key: &str, query: &str, body: Value) -> Reply {
    app.post(&format!("/v2/issues/{key}/remotelinks{query}"))
        .token(token)
        .json(body)
        .await
}

async fn remove(app: &TestApp, token: &str, org: &str, key: &str, id: &Value) -> Reply {
    app.delete(&format!("/v2/issues/{key}/remotelinks/{id}"))
        .token(token)
        .org(org)
        .await
}

async fn issue(app: &TestApp, key: &str) -> Value {
    app.read(&format!("/v2/issues/{key}")).await
}

/// Checks TEST-1 is `versions` past `before`, updated `at`: each change of
/// its remote links moves the issue.
async fn moved(app: &TestApp, before: &Value, versions: i64, at: &str) {
    let now = issue(app, "TEST-1").await;
    assert_eq!(
        now["version"],
        before["version"].as_i64().unwrap() + versions
    );
    assert_eq!(now["updatedAt"], at);
}

fn pr(key: &str) -> Value {
    json!({"relationship": "RELATES", "key": key, "origin": BITBUCKET})
}

async fn a_remote_link_is_added_listed_and_deleted_and_each_change_moves_the_issue(app: TestApp) {
    app.create_test_issue("x").await;
    let before = issue(&app, "TEST-1").await;
    app.clock.advance(chrono::Duration::minutes(5));

    let link: Value = add(&app, ALICE, "TEST-1", "", pr("PR-17"))
        .await
        .status(201)
        .json();
    let id = app.numeric_id(&link, "/v2/issues/TEST-1/remotelinks");
    assert_eq!(link["type"]["id"], "relates");
    assert_eq!(
        link["type"]["self"],
        format!("{}/v2/linktypes/relates", app.base)
    );
    assert!(link["type"]["inward"].is_string() && link["type"]["outward"].is_string());
    assert_eq!(link["direction"], "outward");
    let object = &link["object"];
    assert_eq!(object["key"], "PR-17");
    let object_id = object["id"].as_str().expect("an object id is a string");
    assert_eq!(
        object["self"],
        format!(
            "{}/v2/applications/{BITBUCKET}/objects/{object_id}",
            app.base
        )
    );
    assert_eq!(
        object["application"],
        json!({
            "self": format!("{}/v2/applications/{BITBUCKET}", app.base),
            "id": BITBUCKET,
            "type": BITBUCKET,
            "name": "Bitbucket",
        })
    );
    assert_eq!(link["createdBy"]["display"], "Alice Archer");
    assert_eq!(link["updatedBy"], link["createdBy"]);
    assert_eq!(link["createdAt"], "2026-01-15T12:05:00.000+0000");
    assert_eq!(link["updatedAt"], link["createdAt"]);

    moved(&app, &before, 1, "2026-01-15T12:05:00.000+0000").await;

    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", BOB_RO).await;
    assert_eq!(list, json!([link]), "the list answers what the add did");
    let second: Value = add(&app, ALICE, "TEST-1", "", pr("PR-18"))
        .await
        .status(201)
        .json();
    assert_ne!(second["object"]["id"], link["object"]["id"]);
    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", ALICE).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id, "oldest first");

    app.clock.advance(chrono::Duration::minutes(5));
    remove(&app, ALICE, ACME, "TEST-1", &link["id"])
        .await
        .status(204);
    moved(&app, &before, 3, "2026-01-15T12:10:00.000+0000").await;
    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", ALICE).await;
    assert_eq!(list, json!([second]));
    remove(&app, ALICE, ACME, "TEST-1", &link["id"])
        .await
        .error(404);
    remove(&app, ALICE, ACME, "TEST-1", &json!("nope"))
        .await
        .error(404);

    let changelog: Value = app.read_as("/v2/issues/TEST-1/changelog", ALICE).await;
    let kinds = each_str(&changelog, "type");
    assert_eq!(
        kinds,
        [
            "IssueCreated",
            "IssueLinked",
            "IssueLinked",
            "IssueUnlinked"
        ]
    );
    let unlinked = &changelog[3]["links"][0];
    assert_eq!(unlinked["object"]["key"], "PR-17");
    assert_eq!(unlinked["object"]["application"]["id"], BITBUCKET);
    assert_eq!(unlinked["type"], "relates");
}

async fn a_backlink_request_is_accepted_and_recorded_as_not_performed(app: TestApp) {
    let created = app.create_test_issue("x").await;
    // Accepted, though trackerd calls no external application.
    add(&app, ALICE, "TEST-1", "?backlink=true", pr("PR-1"))
        .await
        .status(201);
    add(&app, ALICE, "TEST-1", "?backlink=false", pr("PR-2"))
        .await
        .status(201);
    add(&app, ALICE, "TEST-1", "?backlink=perhaps", pr("PR-3"))
        .await
        .error(400);
    let store = app.state.store.clone();
    let org = store.organization_by_org_id(ACME).await.unwrap().unwrap();
    let pk = store
        .issue_by_key_or_id(org.id, created["key"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap()
        .pk;
    let entries = history(store.as_ref(), pk, 10).await;
    let backlinks: Vec<Value> = entries
        .iter()
        .filter(|e| e.kind == "IssueLinked")
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["backlink"].clone())
        .collect();
    assert_eq!(backlinks, [json!("not performed"), Value::Null]);
}

async fn a_remote_link_needs_a_known_relationship_a_key_and_an_application_of_the_organization(
    app: TestApp,
) {
    app.create_test_issue("x").await;
    for (body, field) in [
        (json!({"key": "PR-1", "origin": BITBUCKET}), "relationship"),
        (
            json!({"relationship": "rules", "key": "PR-1", "origin": BITBUCKET}),
            "relationship",
        ),
        (
            json!({"relationship": "relates", "origin": BITBUCKET}),
            "key",
        ),
        (
            json!({"relationship": "relates", "key": 17, "origin": BITBUCKET}),
            "key",
        ),
        (
            json!({"relationship": "relates", "key": "a\nb", "origin": BITBUCKET}),
            "key",
        ),
        (json!({"relationship": "relates", "key": "PR-1"}), "origin"),
        (
            json!({"relationship": "relates", "key": "PR-1", "origin": "gitlab"}),
            "origin",
        ),
        (
            json!({"relationship": "relates", "key": "PR-1", "origin": OTHER_APP}),
            "origin",
        ),
    ] {
        let body = add(&app, ALICE, "TEST-1", "", body.clone())
            .await
            .error(422);
        assert!(body["errors"][field].is_string(), "{field}: {body}");
    }
    app.post_text("/v2/issues/TEST-1/remotelinks", "{not json")
        .await
        .error(400);
    add(&app, ALICE, "TEST-404", "", pr("PR-1"))
        .await
        .error(404);

    let build = json!({"relationship": "is subtask for", "key": "BUILD-9", "origin": "ci"});
    let link: Value = add(&app, ALICE, "TEST-1", "", build.clone())
        .await
        .status(201)
        .json();
    assert_eq!(link["direction"], "inward");
    assert_eq!(link["object"]["application"]["type"], "build");
    add(&app, ALICE, "TEST-1", "", build).await.error(422);
    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", ALICE).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing half-written");
}

async fn a_read_only_token_reads_remote_links_but_cannot_add_or_delete_them(app: TestApp) {
    app.create_test_issue("x").await;
    let link: Value = add(&app, ALICE, "TEST-1", "", pr("PR-1")).await.json();
    add(&app, BOB_RO, "TEST-1", "", pr("PR-2")).await.error(403);
    remove(&app, BOB_RO, ACME, "TEST-1", &link["id"])
        .await
        .error(403);
    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", BOB_RO).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // A member with a write token may link.
    add(&app, CAROL_EXPIRING, "TEST-1", "", pr("PR-3"))
        .await
        .status(201);
}

async fn another_organization_sees_neither_the_remote_links_nor_the_applications(app: TestApp) {
    app.create_test_issue("x").await;
    let link: Value = add(&app, ALICE, "TEST-1", "", pr("PR-1")).await.json();
    let as_mallory = |method: Method, path: &str| app.call(method, path).token(MALLORY).org(OTHER);
    as_mallory(Method::GET, "/v2/issues/TEST-1/remotelinks")
        .await
        .error(404);
    as_mallory(Method::POST, "/v2/issues/TEST-1/remotelinks")
        .json(json!({"relationship": "relates", "key": "x", "origin": OTHER_APP}))
        .await
        .error(404);
    remove(&app, MALLORY, OTHER, "TEST-1", &link["id"])
        .await
        .error(404);
    let apps: Value = as_mallory(Method::GET, "/v2/applications").await.json();
    let ids = each_str(&apps, "id");
    assert_eq!(ids, [OTHER_APP]);
    as_mallory(Method::GET, &format!("/v2/applications/{BITBUCKET}"))
        .await
        .error(404);
    // Mallory's token names her organization, not Acme.
    app.get("/v2/applications").token(MALLORY).await.error(403);
    let list: Value = app.read_as("/v2/issues/TEST-1/remotelinks", ALICE).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "Acme's link is untouched"
    );
}

async fn applications_list_the_organizations_external_applications_and_each_is_served_by_id(
    app: TestApp,
) {
    let apps: Value = app.read_as("/v2/applications", BOB_RO).await;
    assert_eq!(
        apps,
        json!([
            {
                "self": format!("{}/v2/applications/ci", app.base),
                "id": "ci",
                "type": "build",
                "name": "Build server",
            },
            {
                "self": format!("{}/v2/applications/{BITBUCKET}", app.base),
                "id": BITBUCKET,
                "type": BITBUCKET,
                "name": "Bitbucket",
            },
        ])
    );
    let one: Value = app
        .read_as(&format!("/v3/applications/{BITBUCKET}"), ALICE)
        .await;
    assert_eq!(
        one["self"],
        format!("{}/v3/applications/{BITBUCKET}", app.base)
    );
    assert_eq!(one["name"], "Bitbucket");
    app.get("/v2/applications/gitlab").await.error(404);
    app.get("/v2/applications").anonymous().await.error(401);
}

async fn the_admin_command_registers_renames_and_removes_an_application_but_not_one_in_use(
    app: TestApp,
) {
    use trackerd::admin::applications::ExternalAppCommand as Cmd;
    let run = |cmd| {
        trackerd::admin::run(
            trackerd::admin::Command::ExternalApp(cmd),
            app.state.store.as_ref(),
            &app.clock,
        )
    };
    run(Cmd::Put {
        org: ACME.into(),
        id: "gitlab".into(),
        app_type: None,
        name: "GitLab".into(),
    })
    .await
    .unwrap();
    run(Cmd::Put {
        org: ACME.into(),
        id: "gitlab".into(),
        app_type: Some("vcs".into()),
        name: "GitLab CE".into(),
    })
    .await
    .unwrap();
    let one: Value = app.read_as("/v2/applications/gitlab", ALICE).await;
    assert_eq!(
        (&one["type"], &one["name"]),
        (&json!("vcs"), &json!("GitLab CE"))
    );
    assert!(run(Cmd::Put {
        org: ACME.into(),
        id: "git/lab".into(),
        app_type: None,
        name: "x".into(),
    })
    .await
    .is_err());
    assert!(run(Cmd::Put {
        org: "nope".into(),
        id: "x".into(),
        app_type: None,
        name: "x".into(),
    })
    .await
    .is_err());

    app.create_test_issue("x").await;
    let mr = json!({"relationship": "relates", "key": "MR-1", "origin": "gitlab"});
    let link: Value = add(&app, ALICE, "TEST-1", "", mr).await.json();
    let removal = || Cmd::Remove {
        org: ACME.into(),
        id: "gitlab".into(),
    };
    let refused = run(removal()).await.unwrap_err();
    assert!(refused.to_string().contains("remote links"), "{refused}");
    remove(&app, ALICE, ACME, "TEST-1", &link["id"])
        .await
        .status(204);
    run(removal()).await.unwrap();
    app.get("/v2/applications/gitlab").await.error(404);
    assert!(run(removal()).await.is_err(), "gone is gone");
}

async fn tag_remove(app: &TestApp, token: &str, org: &str, queue: &str, body: Value) -> Reply {
    app.post(&format!("/v2/queues/{queue}/tags/_remove"))
        .token(token)
        .org(org)
        .json(body)
        .await
}

async fn removing_a_tag_takes_it_off_every_issue_of_the_queue_with_a_changelog_entry_each(
    app: TestApp,
) {
    for (queue, tags) in [
        ("TEST", json!(["a", "b"])),
        ("TEST", json!(["a"])),
        ("TEST", json!(["b"])),
        ("OPS", json!(["a"])),
    ] {
        app.create_issue(json!({"queue": queue, "summary": "x", "tags": tags}))
            .await;
    }
    let before: Vec<Value> = versions(&app, &["TEST-1", "TEST-2", "TEST-3", "OPS-1"]).await;
    app.clock.advance(chrono::Duration::minutes(1));
    tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "a"}))
        .await
        .status(204);

    let one = issue(&app, "TEST-1").await;
    assert_eq!(one["tags"], json!(["b"]));
    assert_eq!(one["version"], before[0].as_i64().unwrap() + 1);
    assert_eq!(one["updatedAt"], "2026-01-15T12:01:00.000+0000");
    let two = issue(&app, "TEST-2").await;
    assert!(
        two.get("tags").is_none() || two["tags"] == json!([]),
        "{two}"
    );
    assert_eq!(two["version"], before[1].as_i64().unwrap() + 1);
    let three = issue(&app, "TEST-3").await;
    assert_eq!(
        three["version"], before[2],
        "an issue without the tag is untouched"
    );
    let ops = issue(&app, "OPS-1").await;
    assert_eq!(ops["tags"], json!(["a"]), "another queue keeps its tags");
    assert_eq!(ops["version"], before[3]);

    let tags: Value = app.read_as("/v2/queues/TEST/tags", ALICE).await;
    assert_eq!(tags, json!(["b"]));
    let changelog: Value = app
        .read_as("/v2/issues/TEST-1/changelog?field=tags", ALICE)
        .await;
    let last = changelog.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "IssueUpdated");
    assert_eq!(last["fields"][0]["field"]["id"], "tags");
    assert_eq!(last["fields"][0]["from"], json!(["a", "b"]));
    assert_eq!(last["fields"][0]["to"], json!(["b"]));
    tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "a"}))
        .await
        .error(404);
}

async fn versions(app: &TestApp, keys: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for k in keys {
        out.push(issue(app, k).await["version"].clone());
    }
    out
}

async fn removing_a_tag_needs_a_tag_the_queue_uses(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x", "tags": ["a"]}))
        .await;
    for body in [
        json!({}),
        json!({"tag": 5}),
        json!({"tag": " "}),
        json!({"tag": null}),
    ] {
        let e = tag_remove(&app, ALICE, ACME, "TEST", body.clone())
            .await
            .error(422);
        assert!(e["errors"]["tag"].is_string(), "{body}: {e}");
    }
    tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "never-used"}))
        .await
        .error(404);
    tag_remove(&app, ALICE, ACME, "NOPE", json!({"tag": "a"}))
        .await
        .error(404);
    app.post_text("/v2/queues/TEST/tags/_remove", "tag=a")
        .await
        .error(400);
    assert_eq!(issue(&app, "TEST-1").await["tags"], json!(["a"]));
}

async fn only_a_queue_administrator_removes_a_tag(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x", "tags": ["a"]}))
        .await;
    app.create_issue(json!({"queue": "OPS", "summary": "x", "tags": ["a"]}))
        .await;
    for (token, org, queue, status) in [
        // bob leads OPS, but his token only reads.
        (BOB_RO, ACME, "OPS", 403),
        // carol may change TEST's issues, not the queue's settings.
        (CAROL_EXPIRING, ACME, "TEST", 403),
        (MALLORY, OTHER, "TEST", 404),
        (MALLORY, ACME, "TEST", 403),
    ] {
        let r = tag_remove(&app, token, org, queue, json!({"tag": "a"})).await;
        assert_eq!(
            r.code(),
            status,
            "{token} in {org} on {queue}: {}",
            r.text()
        );
        r.error(status);
    }
    assert_eq!(issue(&app, "TEST-1").await["tags"], json!(["a"]));
    assert_eq!(issue(&app, "OPS-1").await["tags"], json!(["a"]));
}
