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

async fn add(app: &TestApp, token: &str, key: &str, query: &str, body: Value) -> reqwest::Response {
    app.as_user(
        Method::POST,
        &format!("/v2/issues/{key}/remotelinks{query}"),
        token,
        ACME,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

async fn remove(app: &TestApp, token: &str, org: &str, key: &str, id: &Value) -> reqwest::Response {
    app.as_user(
        Method::DELETE,
        &format!("/v2/issues/{key}/remotelinks/{id}"),
        token,
        org,
    )
    .send()
    .await
    .unwrap()
}

async fn ok(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn issue(app: &TestApp, key: &str) -> Value {
    ok(app.get_as(&format!("/v2/issues/{key}"), ALICE).await).await
}

fn pr(key: &str) -> Value {
    json!({"relationship": "RELATES", "key": key, "origin": BITBUCKET})
}

async fn a_remote_link_is_added_listed_and_deleted_and_each_change_moves_the_issue(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
    let before = issue(&app, "TEST-1").await;
    app.clock.advance(chrono::Duration::minutes(5));

    let r = add(&app, ALICE, "TEST-1", "", pr("PR-17")).await;
    assert_eq!(r.status(), 201);
    let link: Value = r.json().await.unwrap();
    let id = link["id"].as_i64().expect("a remote link's id is a number");
    assert_eq!(
        link["self"],
        format!("{}/v2/issues/TEST-1/remotelinks/{id}", app.base)
    );
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

    let after_add = issue(&app, "TEST-1").await;
    assert_eq!(
        after_add["version"],
        before["version"].as_i64().unwrap() + 1
    );
    assert_eq!(after_add["updatedAt"], "2026-01-15T12:05:00.000+0000");

    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", BOB_RO).await).await;
    assert_eq!(list, json!([link]), "the list answers what the add did");
    let second = add(&app, ALICE, "TEST-1", "", pr("PR-18")).await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert_ne!(second["object"]["id"], link["object"]["id"]);
    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", ALICE).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id, "oldest first");

    app.clock.advance(chrono::Duration::minutes(5));
    let r = remove(&app, ALICE, ACME, "TEST-1", &link["id"]).await;
    assert_eq!(r.status(), 204);
    let after_delete = issue(&app, "TEST-1").await;
    assert_eq!(
        after_delete["version"],
        before["version"].as_i64().unwrap() + 3
    );
    assert_eq!(after_delete["updatedAt"], "2026-01-15T12:10:00.000+0000");
    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", ALICE).await).await;
    assert_eq!(list, json!([second]));
    envelope(remove(&app, ALICE, ACME, "TEST-1", &link["id"]).await, 404).await;
    envelope(
        remove(&app, ALICE, ACME, "TEST-1", &json!("nope")).await,
        404,
    )
    .await;

    let changelog = ok(app.get_as("/v2/issues/TEST-1/changelog", ALICE).await).await;
    let kinds: Vec<&str> = changelog
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
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
    let created = app
        .create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
    let r = add(&app, ALICE, "TEST-1", "?backlink=true", pr("PR-1")).await;
    assert_eq!(r.status(), 201, "trackerd calls no external application");
    let r = add(&app, ALICE, "TEST-1", "?backlink=false", pr("PR-2")).await;
    assert_eq!(r.status(), 201);
    envelope(
        add(&app, ALICE, "TEST-1", "?backlink=perhaps", pr("PR-3")).await,
        400,
    )
    .await;
    let store = app.state.store.clone();
    let org = store.organization_by_org_id(ACME).await.unwrap().unwrap();
    let pk = store
        .issue_by_key_or_id(org.id, created["key"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap()
        .pk;
    let entries = store
        .list_changelog(
            pk,
            &tracker_store::ChangelogQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
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
    app.create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
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
        let body = envelope(add(&app, ALICE, "TEST-1", "", body.clone()).await, 422).await;
        assert!(body["errors"][field].is_string(), "{field}: {body}");
    }
    let r = app
        .as_user(Method::POST, "/v2/issues/TEST-1/remotelinks", ALICE, ACME)
        .body("{not json")
        .send()
        .await
        .unwrap();
    envelope(r, 400).await;
    envelope(add(&app, ALICE, "TEST-404", "", pr("PR-1")).await, 404).await;

    let r = add(
        &app,
        ALICE,
        "TEST-1",
        "",
        json!({"relationship": "is subtask for", "key": "BUILD-9", "origin": "ci"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let link: Value = r.json().await.unwrap();
    assert_eq!(link["direction"], "inward");
    assert_eq!(link["object"]["application"]["type"], "build");
    let again = add(
        &app,
        ALICE,
        "TEST-1",
        "",
        json!({"relationship": "is subtask for", "key": "BUILD-9", "origin": "ci"}),
    )
    .await;
    envelope(again, 422).await;
    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", ALICE).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing half-written");
}

async fn a_read_only_token_reads_remote_links_but_cannot_add_or_delete_them(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
    let link: Value = add(&app, ALICE, "TEST-1", "", pr("PR-1"))
        .await
        .json()
        .await
        .unwrap();
    envelope(add(&app, BOB_RO, "TEST-1", "", pr("PR-2")).await, 403).await;
    envelope(remove(&app, BOB_RO, ACME, "TEST-1", &link["id"]).await, 403).await;
    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", BOB_RO).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // A member with a write token may link.
    let r = add(&app, CAROL_EXPIRING, "TEST-1", "", pr("PR-3")).await;
    assert_eq!(r.status(), 201);
}

async fn another_organization_sees_neither_the_remote_links_nor_the_applications(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
    let link: Value = add(&app, ALICE, "TEST-1", "", pr("PR-1"))
        .await
        .json()
        .await
        .unwrap();
    let as_mallory = |method: Method, path: &str| app.as_user(method, path, MALLORY, OTHER);
    let r = as_mallory(Method::GET, "/v2/issues/TEST-1/remotelinks")
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    let r = as_mallory(Method::POST, "/v2/issues/TEST-1/remotelinks")
        .json(&json!({"relationship": "relates", "key": "x", "origin": OTHER_APP}))
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    envelope(
        remove(&app, MALLORY, OTHER, "TEST-1", &link["id"]).await,
        404,
    )
    .await;
    let apps: Value = as_mallory(Method::GET, "/v2/applications")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [OTHER_APP]);
    let r = as_mallory(Method::GET, &format!("/v2/applications/{BITBUCKET}"))
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    // Mallory's token names her organization, not Acme.
    let r = app
        .as_user(Method::GET, "/v2/applications", MALLORY, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let list = ok(app.get_as("/v2/issues/TEST-1/remotelinks", ALICE).await).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "Acme's link is untouched"
    );
}

async fn applications_list_the_organizations_external_applications_and_each_is_served_by_id(
    app: TestApp,
) {
    let apps = ok(app.get_as("/v2/applications", BOB_RO).await).await;
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
    let one = ok(app
        .get_as(&format!("/v3/applications/{BITBUCKET}"), ALICE)
        .await)
    .await;
    assert_eq!(
        one["self"],
        format!("{}/v3/applications/{BITBUCKET}", app.base)
    );
    assert_eq!(one["name"], "Bitbucket");
    envelope(app.get_as("/v2/applications/gitlab", ALICE).await, 404).await;
    let r = app
        .request(Method::GET, "/v2/applications")
        .send()
        .await
        .unwrap();
    envelope(r, 401).await;
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
    let one = ok(app.get_as("/v2/applications/gitlab", ALICE).await).await;
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

    app.create_issue(json!({"queue": "TEST", "summary": "x"}))
        .await;
    let link: Value = add(
        &app,
        ALICE,
        "TEST-1",
        "",
        json!({"relationship": "relates", "key": "MR-1", "origin": "gitlab"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let removal = || Cmd::Remove {
        org: ACME.into(),
        id: "gitlab".into(),
    };
    let refused = run(removal()).await.unwrap_err();
    assert!(refused.to_string().contains("remote links"), "{refused}");
    assert_eq!(
        remove(&app, ALICE, ACME, "TEST-1", &link["id"])
            .await
            .status(),
        204
    );
    run(removal()).await.unwrap();
    envelope(app.get_as("/v2/applications/gitlab", ALICE).await, 404).await;
    assert!(run(removal()).await.is_err(), "gone is gone");
}

async fn tag_remove(
    app: &TestApp,
    token: &str,
    org: &str,
    queue: &str,
    body: Value,
) -> reqwest::Response {
    app.as_user(
        Method::POST,
        &format!("/v2/queues/{queue}/tags/_remove"),
        token,
        org,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
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
    let r = tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "a"})).await;
    assert_eq!(r.status(), 204);

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

    let tags = ok(app.get_as("/v2/queues/TEST/tags", ALICE).await).await;
    assert_eq!(tags, json!(["b"]));
    let changelog = ok(app
        .get_as("/v2/issues/TEST-1/changelog?field=tags", ALICE)
        .await)
    .await;
    let last = changelog.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "IssueUpdated");
    assert_eq!(last["fields"][0]["field"]["id"], "tags");
    assert_eq!(last["fields"][0]["from"], json!(["a", "b"]));
    assert_eq!(last["fields"][0]["to"], json!(["b"]));
    envelope(
        tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "a"})).await,
        404,
    )
    .await;
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
        let e = envelope(
            tag_remove(&app, ALICE, ACME, "TEST", body.clone()).await,
            422,
        )
        .await;
        assert!(e["errors"]["tag"].is_string(), "{body}: {e}");
    }
    envelope(
        tag_remove(&app, ALICE, ACME, "TEST", json!({"tag": "never-used"})).await,
        404,
    )
    .await;
    envelope(
        tag_remove(&app, ALICE, ACME, "NOPE", json!({"tag": "a"})).await,
        404,
    )
    .await;
    let r = app
        .as_user(Method::POST, "/v2/queues/TEST/tags/_remove", ALICE, ACME)
        .body("tag=a")
        .send()
        .await
        .unwrap();
    envelope(r, 400).await;
    assert_eq!(issue(&app, "TEST-1").await["tags"], json!(["a"]));
}

async fn only_a_queue_administrator_removes_a_tag(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x", "tags": ["a"]}))
        .await;
    app.create_issue(json!({"queue": "OPS", "summary": "x", "tags": ["a"]}))
        .await;
    // bob leads OPS, but his token only reads.
    envelope(
        tag_remove(&app, BOB_RO, ACME, "OPS", json!({"tag": "a"})).await,
        403,
    )
    .await;
    // carol may change TEST's issues, not the queue's settings.
    envelope(
        tag_remove(&app, CAROL_EXPIRING, ACME, "TEST", json!({"tag": "a"})).await,
        403,
    )
    .await;
    envelope(
        tag_remove(&app, MALLORY, OTHER, "TEST", json!({"tag": "a"})).await,
        404,
    )
    .await;
    envelope(
        tag_remove(&app, MALLORY, ACME, "TEST", json!({"tag": "a"})).await,
        403,
    )
    .await;
    assert_eq!(issue(&app, "TEST-1").await["tags"], json!(["a"]));
    assert_eq!(issue(&app, "OPS-1").await["tags"], json!(["a"]));
}
