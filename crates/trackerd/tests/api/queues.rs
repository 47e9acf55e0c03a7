//! The first queue calls, and the envelope for validation errors.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_admin_creates_a_queue_and_reads_it_back,
    creating_a_queue_twice_answers_409,
    a_plain_member_may_not_create_queues,
    an_invalid_queue_answers_422_with_field_errors,
    queues_of_other_organizations_are_invisible,
    a_queue_offers_only_its_configured_issue_types_and_their_resolutions,
    a_bad_issue_types_config_is_refused_field_by_field,
    an_issue_enters_a_queue_only_with_a_type_the_queue_uses,
);

async fn create(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/v2/queues/").token(token).json(body).await
}

async fn an_admin_creates_a_queue_and_reads_it_back(app: TestApp) {
    let dev = json!({"key": "DEV", "name": "Development", "lead": "bob"});
    let q: Value = create(&app, ALICE, dev).await.status(201).json();
    assert_eq!(q["key"], "DEV");
    assert_eq!(q["self"], format!("{}/v2/queues/DEV", app.base));
    assert_eq!(q["lead"]["display"], "Bob Baker");
    let got: Value = app.get("/v2/queues/DEV").token(BOB_RO).await.json();
    assert_eq!(got, q);
    let r = app.get("/v2/queues").token(BOB_RO).await;
    assert_eq!(r.header("x-total-count"), "3");
    let list: Vec<Value> = r.json();
    assert_eq!(
        list.iter()
            .map(|q| q["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["TEST", "OPS", "DEV"]
    );
}

async fn creating_a_queue_twice_answers_409(app: TestApp) {
    let body = json!({"key": "TEST", "name": "Again", "lead": "alice"});
    create(&app, ALICE, body).await.error(409);
}

async fn a_plain_member_may_not_create_queues(app: TestApp) {
    // Carol's token may write, but carol does not administer the organization.
    let body = json!({"key": "CAROL", "name": "Carol's", "lead": "carol"});
    create(&app, CAROL_EXPIRING, body).await.error(403);
}

async fn an_invalid_queue_answers_422_with_field_errors(app: TestApp) {
    for (queue, field) in [
        (json!({"key": "1x", "name": "N", "lead": "alice"}), "key"),
        (json!({"key": "OK", "name": "N", "lead": "mallory"}), "lead"),
    ] {
        let body = create(&app, ALICE, queue).await.error(422);
        assert!(body["errors"][field].is_string(), "{body}");
    }
    let body = create(&app, ALICE, json!({"name": "no key"}))
        .await
        .error(422);
    assert_eq!(body["errors"]["key"], "Required field", "{body}");
    assert_eq!(body["errors"]["lead"], "Required field", "{body}");
    create(&app, ALICE, json!(42)).await.error(400);
    // Nothing was half-written: the seed's TEST and OPS only.
    let r = app.get("/v2/queues").await;
    assert_eq!(r.header("x-total-count"), "2");
}

async fn queues_of_other_organizations_are_invisible(app: TestApp) {
    app.get("/v2/queues/SECRET").await.error(404);
    let other: Value = app
        .get("/v2/queues/SECRET")
        .token(MALLORY)
        .org(OTHER)
        .await
        .json();
    let id = other["id"].as_i64().unwrap();
    app.get(&format!("/v2/queues/{id}")).await.error(404);
}

fn typed_queue() -> Value {
    json!({"key": "DEV", "name": "Development", "lead": "bob", "defaultType": "task",
    "issueTypesConfig": [
        {"issueType": "task", "workflow": "default", "resolutions": ["fixed", "wontFix"]},
        {"issueType": {"key": "bug"}, "resolutions": ["fixed"]},
    ]})
}

fn keys(list: &Value) -> Vec<&str> {
    each_str(list, "key")
}

async fn a_queue_offers_only_its_configured_issue_types_and_their_resolutions(app: TestApp) {
    let q: Value = create(&app, ALICE, typed_queue()).await.status(201).json();
    assert_eq!(keys(&q["issueTypes"]), ["task", "bug"]);
    let full: Value = app.read("/v2/queues/DEV?expand=issueTypesConfig").await;
    let config = full["issueTypesConfig"].as_array().unwrap();
    assert_eq!(config.len(), 2);
    assert_eq!(config[0]["issueType"]["key"], "task");
    assert_eq!(config[0]["workflow"]["id"], "default");
    assert_eq!(keys(&config[0]["resolutions"]), ["fixed", "wontFix"]);
    assert_eq!(keys(&config[1]["resolutions"]), ["fixed"]);
    // Types outside the configuration are refused, on create and on edit.
    let e = app
        .post("/v2/issues")
        .json(json!({"queue": "DEV", "summary": "s", "type": "epic"}))
        .await
        .error(422);
    assert!(
        e["errors"]["type"].as_str().unwrap().contains("epic"),
        "{e}"
    );
    let task: Value = app
        .post_json("/v2/issues", json!({"queue": "DEV", "summary": "s"}), 201)
        .await;
    assert_eq!(task["type"]["key"], "task");
    let set_type = |t: &str| app.patch("/v2/issues/DEV-1").json(json!({ "type": t }));
    set_type("epic").await.error(422);
    set_type("bug").await.status(200);
    // A bug here is resolved only as fixed.
    let resolve = "/v2/issues/DEV-1/transitions/resolve/_execute";
    app.post(resolve)
        .json(json!({"resolution": "wontFix"}))
        .await
        .error_naming(422, "resolution");
    let i: Value = app.read("/v2/issues/DEV-1").await;
    assert_eq!(i["status"]["key"], "open");
    app.post(resolve)
        .json(json!({"resolution": "fixed"}))
        .await
        .status(200);
    // Editing the configuration widens it; queues without one offer all types.
    app.patch("/v2/queues/DEV")
        .json(
            json!({"issueTypesConfig": [{"issueType": "task"}, {"issueType": "bug"},
                                          {"issueType": "epic"}]}),
        )
        .await
        .status(200);
    app.post("/v2/issues")
        .json(json!({"queue": "DEV", "summary": "s", "type": "epic"}))
        .await
        .status(201);
    let test: Value = app.read("/v2/queues/TEST").await;
    assert!(test["issueTypes"].as_array().unwrap().len() > 3);
}

async fn a_bad_issue_types_config_is_refused_field_by_field(app: TestApp) {
    let with = |config: Value| {
        let mut q = typed_queue();
        q["issueTypesConfig"] = config;
        q
    };
    for body in [
        with(json!([])),
        with(json!("task")),
        with(json!([{"issueType": "nope"}])),
        with(json!([{"workflow": "default"}])),
        with(json!([{"issueType": "task"}, {"issueType": "task"}])),
        with(json!([{"issueType": "task", "workflow": "oicn"}])),
        with(json!([{"issueType": "task", "resolutions": []}])),
        with(json!([{"issueType": "task", "resolutions": ["nope"]}])),
    ] {
        let e = create(&app, ALICE, body.clone()).await.error(422);
        assert!(e["errors"]["issueTypesConfig"].is_string(), "{body}: {e}");
    }
    // The default type must be among the queue's types.
    create(&app, ALICE, with(json!([{"issueType": "bug"}])))
        .await
        .error_naming(422, "defaultType");
    app.get("/v2/queues/DEV").await.error(404);
    create(&app, ALICE, typed_queue()).await.status(201);
    app.patch("/v2/queues/DEV")
        .json(json!({"issueTypesConfig": [{"issueType": "bug"}]}))
        .await
        .error_naming(422, "defaultType");
    let q: Value = app.read("/v2/queues/DEV").await;
    assert_eq!(keys(&q["issueTypes"]), ["task", "bug"]);
    // Only an administrator configures a queue's types.
    app.patch("/v2/queues/DEV")
        .token(BOB_RO)
        .json(json!({"issueTypesConfig": [{"issueType": "task"}]}))
        .await
        .error(403);
}

async fn an_issue_enters_a_queue_only_with_a_type_the_queue_uses(app: TestApp) {
    create(&app, ALICE, typed_queue()).await.status(201);
    app.post("/v2/issues")
        .json(json!({"queue": "TEST", "summary": "s", "type": "epic"}))
        .await
        .status(201);
    app.post("/v2/issues/TEST-1/_move?queue=DEV")
        .await
        .error_naming(422, "type");
    app.post("/v2/issues/TEST-1/_clone?queues=DEV")
        .await
        .error_naming(422, "type");
    let i: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(i["queue"]["key"], "TEST");
    app.get("/v2/issues/DEV-1").await.error(404);
}
