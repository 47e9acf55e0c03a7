//! Issue and comment templates of the organization and of queues.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_issue_template_is_created_read_listed_edited_and_deleted,
    a_comment_template_carries_its_text_and_summonees,
    a_queues_list_holds_its_own_templates_and_the_organizations,
    a_template_needs_a_name_known_fields_and_valid_values,
    an_edit_at_a_stale_version_is_refused,
    only_administrators_change_templates_and_readers_only_read,
    another_organization_sees_no_templates,
    templates_list_in_pages,
);

async fn issue_template(app: &TestApp, body: Value) -> Value {
    app.post_json("/v2/issueTemplates", body, 201).await
}

async fn an_issue_template_is_created_read_listed_edited_and_deleted(app: TestApp) {
    let t: Value = issue_template(
        &app,
        json!({"name": "Incident", "description": "For outages",
                     "fieldTemplates": {"summary": "Outage: ", "description": "Steps:\n1.",
                                        "priority": "critical", "tags": ["incident"]}}),
    )
    .await;
    let id = app.numeric_id(&t, "/v2/issueTemplates");
    assert_eq!(t["version"], 1);
    assert_eq!(t["name"], "Incident");
    assert_eq!(t["description"], "For outages");
    assert_eq!(t["fieldTemplates"]["description"], "Steps:\n1.");
    assert_eq!(t["createdBy"]["display"], "Alice Archer");
    assert!(t.get("queue").is_none());

    let read: Value = app.read(&format!("/v3/issueTemplates/{id}")).await;
    assert_eq!(read["self"], format!("{}/v3/issueTemplates/{id}", app.base));
    assert_eq!(read["fieldTemplates"], t["fieldTemplates"]);
    let listed: Vec<Value> = app.read("/v2/issueTemplates").await;
    assert_eq!(listed.len(), 1);

    let edited: Value = app
        .edit(
            &format!("/v2/issueTemplates/{id}"),
            json!({"name": "Outage", "queue": "TEST", "fieldTemplates": {"summary": "Down"}}),
        )
        .await;
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["name"], "Outage");
    assert_eq!(edited["queue"]["key"], "TEST");
    assert_eq!(edited["fieldTemplates"], json!({"summary": "Down"}));
    assert_eq!(edited["description"], "For outages");

    app.delete_for_good(&format!("/v2/issueTemplates/{id}"))
        .await;
    // The kinds are apart: a comment template id is not an issue template's.
    app.get(&format!("/v2/commentTemplates/{id}"))
        .await
        .error(404);
}

async fn a_comment_template_carries_its_text_and_summonees(app: TestApp) {
    let t: Value = app
        .post_json(
            "/v3/commentTemplates",
            json!({"name": "Logs", "template": "Please attach the logs.",
                     "summonees": ["bob", "carol"], "maillistSummonees": ["duty@acme.test"],
                     "queue": "OPS"}),
            201,
        )
        .await;
    assert_eq!(t["template"], "Please attach the logs.");
    let names: Vec<&Value> = t["summonees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["display"])
        .collect();
    assert_eq!(names, [&json!("Bob Baker"), &json!("Carol")]);
    assert_eq!(t["maillistSummonees"][0]["id"], "duty@acme.test");
    assert_eq!(t["queue"]["key"], "OPS");
    let id = &t["id"];
    let edited: Value = app
        .edit(
            &format!("/v2/commentTemplates/{id}"),
            json!({"summonees": [], "queue": null}),
        )
        .await;
    assert_eq!(edited["summonees"], json!([]));
    assert!(edited.get("queue").is_none());
    assert_eq!(edited["template"], "Please attach the logs.");
}

async fn a_queues_list_holds_its_own_templates_and_the_organizations(app: TestApp) {
    for (name, queue) in [
        ("everywhere", Value::Null),
        ("test", json!("TEST")),
        ("ops", json!("OPS")),
    ] {
        app.post("/v2/issueTemplates")
            .json(json!({"name": name, "queue": queue, "fieldTemplates": {}}))
            .await
            .status(201);
    }
    let names = |list: Vec<Value>| -> Vec<String> {
        list.iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(app.read("/v2/queues/TEST/issueTemplates").await),
        ["everywhere", "test"]
    );
    assert_eq!(
        names(app.read("/v2/issueTemplates").await),
        ["everywhere", "test", "ops"]
    );
    assert!(names(app.read("/v2/queues/TEST/commentTemplates").await).is_empty());
    app.get("/v2/queues/NOPE/issueTemplates").await.error(404);
}

async fn a_template_needs_a_name_known_fields_and_valid_values(app: TestApp) {
    let cases = [
        ("/v2/issueTemplates", json!({"fieldTemplates": {}}), "name"),
        ("/v2/issueTemplates", json!({"name": " "}), "name"),
        (
            "/v2/issueTemplates",
            json!({"name": "x", "fieldTemplates": {"colour": "red"}}),
            "fieldTemplates",
        ),
        (
            "/v2/issueTemplates",
            json!({"name": "x", "fieldTemplates": {"status": "closed"}}),
            "fieldTemplates",
        ),
        (
            "/v2/issueTemplates",
            json!({"name": "x", "fieldTemplates": "summary"}),
            "fieldTemplates",
        ),
        (
            "/v2/issueTemplates",
            json!({"name": "x", "queue": "NOPE"}),
            "queue",
        ),
        (
            "/v2/issueTemplates",
            json!({"name": "x", "template": "text"}),
            "template",
        ),
        ("/v2/commentTemplates", json!({"name": "x"}), "template"),
        (
            "/v2/commentTemplates",
            json!({"name": "x", "template": "t", "summonees": ["nobody"]}),
            "summonees",
        ),
        (
            "/v2/commentTemplates",
            json!({"name": "x", "template": "t", "maillistSummonees": ["not-an-address"]}),
            "maillistSummonees",
        ),
    ];
    for (path, body, field) in cases {
        let e = app.post(path).json(body.clone()).await.error(422);
        assert!(e["errors"][field].is_string(), "{body}: {e}");
    }
    app.post("/v2/issueTemplates")
        .json(json!([]))
        .await
        .error(400);
    app.get("/v2/issueTemplates/abc").await.error(404);
    let listed: Vec<Value> = app.read("/v2/issueTemplates").await;
    assert!(listed.is_empty());
}

async fn an_edit_at_a_stale_version_is_refused(app: TestApp) {
    let t: Value = issue_template(&app, json!({"name": "x"})).await;
    let id = &t["id"];
    app.patch(&format!("/v2/issueTemplates/{id}?version=1"))
        .json(json!({"name": "y"}))
        .await
        .status(200);
    app.patch(&format!("/v2/issueTemplates/{id}?version=1"))
        .json(json!({"name": "z"}))
        .await
        .error(409);
    app.patch(&format!("/v2/issueTemplates/{id}"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "z"}))
        .await
        .error(412);
    let read: Value = app.read(&format!("/v2/issueTemplates/{id}")).await;
    assert_eq!(read["name"], "y");
}

async fn only_administrators_change_templates_and_readers_only_read(app: TestApp) {
    let org_wide: Value = app
        .post_json(
            "/v2/commentTemplates",
            json!({"name": "x", "template": "t"}),
            201,
        )
        .await;
    // carol is a plain member: neither the organization's nor TEST's admin.
    app.post("/v2/commentTemplates")
        .token(CAROL_EXPIRING)
        .json(json!({"name": "mine", "template": "t"}))
        .await
        .error_saying(403, "administrator");
    let one = format!("/v2/commentTemplates/{}", org_wide["id"]);
    let writes = [
        (
            CAROL_EXPIRING,
            app.post("/v2/commentTemplates")
                .json(json!({"name": "mine", "template": "t", "queue": "TEST"})),
        ),
        (
            CAROL_EXPIRING,
            app.patch(&one).json(json!({"name": "taken over"})),
        ),
        (CAROL_EXPIRING, app.delete(&one)),
        // bob reads; his token cannot write at all.
        (
            BOB_RO,
            app.post("/v2/commentTemplates")
                .json(json!({"name": "x", "template": "t"})),
        ),
        (BOB_RO, app.delete(&one)),
    ];
    for (row, (token, call)) in writes.into_iter().enumerate() {
        let r = call.token(token).await;
        assert_eq!(r.code(), 403, "row {row} ({token}): {}", r.text());
        r.error(403);
    }
    let listed: Vec<Value> = app.read_as("/v2/commentTemplates", BOB_RO).await;
    assert_eq!(listed.len(), 1);
    let read: Value = app.read(&one).await;
    assert_eq!(read["name"], "x");
}

async fn another_organization_sees_no_templates(app: TestApp) {
    let t: Value = issue_template(&app, json!({"name": "secret", "queue": "TEST"})).await;
    let id = &t["id"];
    let theirs: Vec<Value> = app.read_in("/v2/issueTemplates", MALLORY, OTHER).await;
    assert!(theirs.is_empty());
    for call in [
        app.get(&format!("/v2/issueTemplates/{id}")),
        app.patch(&format!("/v2/issueTemplates/{id}"))
            .json(json!({"name": "mine"})),
        app.delete(&format!("/v2/issueTemplates/{id}")),
        app.get("/v2/queues/TEST/issueTemplates"),
    ] {
        call.token(MALLORY).org(OTHER).await.error(404);
    }
    // Nor can a template of theirs be put into Acme's queue.
    app.post("/v2/issueTemplates")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"name": "x", "queue": "TEST"}))
        .await
        .error(422);
    let read: Value = app.read(&format!("/v2/issueTemplates/{id}")).await;
    assert_eq!(read["name"], "secret");
}

async fn templates_list_in_pages(app: TestApp) {
    for n in 0..3 {
        app.post("/v2/issueTemplates")
            .json(json!({"name": format!("t{n}")}))
            .await
            .status(201);
    }
    let r = app
        .get("/v2/issueTemplates?perPage=2&page=2")
        .await
        .status(200);
    assert_eq!(r.header("x-total-count"), "3");
    assert_eq!(r.header("x-total-pages"), "2");
    let page: Vec<Value> = r.json();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["name"], "t2");
    app.get("/v2/issueTemplates?page=0").await.error(400);
}
