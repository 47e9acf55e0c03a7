//! Dictionaries, fields, workflows and queue settings.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    the_standard_dictionaries_are_served,
    queue_settings_are_updated_by_admins_only,
    a_deleted_queue_disappears_and_comes_back_on_restore,
    a_queue_lists_the_tags_its_issues_use,
);

/// carol (a plain member whose token writes) renames queue TEST: the reply.
pub(crate) async fn carol_renames_test(app: &TestApp, name: &str) -> Reply {
    app.patch("/v2/queues/TEST")
        .token(CAROL_EXPIRING)
        .json(json!({ "name": name }))
        .await
}

async fn the_standard_dictionaries_are_served(app: TestApp) {
    let statuses: Vec<Value> = app.get("/v2/statuses").token(BOB_RO).await.json();
    let keys: Vec<&str> = statuses
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    for k in ["open", "inProgress", "needInfo", "resolved", "closed"] {
        assert!(keys.contains(&k), "{k}");
    }
    let p: Value = app.read("/v2/priorities/critical").await;
    assert_eq!(p["key"], "critical");
    // Each list holds one well-known entry.
    for (path, field, value) in [
        ("/v2/issuetypes", "key", "bug"),
        ("/v2/resolutions", "key", "fixed"),
        ("/v2/fields", "id", "summary"),
    ] {
        let list: Vec<Value> = app.read(path).await;
        assert!(list.iter().any(|t| t[field] == value), "{path}");
    }
    let lt: Vec<Value> = app.read("/v2/linktypes").await;
    assert!(lt
        .iter()
        .any(|t| t["id"] == "depends" && t["inward"] == "is dependent by"));
    let f: Value = app.read("/v2/fields/assignee").await;
    assert_eq!(f["name"], "Assignee");
    app.get("/v2/statuses/nope").await.error(404);
    let q: Value = app.read("/v2/queues/TEST?expand=all").await;
    assert_eq!(q["defaultType"]["key"], "task");
    assert!(q["workflows"].is_object());
    assert!(q["issueTypesConfig"].as_array().unwrap().len() > 3);
}

async fn queue_settings_are_updated_by_admins_only(app: TestApp) {
    let settings = json!({"name": "Renamed", "defaultPriority": "critical", "lead": "bob"});
    let q: Value = app.edit("/v2/queues/TEST", settings).await;
    assert_eq!(q["name"], "Renamed");
    assert_eq!(q["defaultPriority"]["key"], "critical");
    assert_eq!(q["lead"]["display"], "Bob Baker");
    assert_eq!(q["version"], 2);
    let issue = app.create_test_issue("x").await;
    assert_eq!(issue["priority"]["key"], "critical");
    carol_renames_test(&app, "Carol's now").await.error(403);
    let red = json!({"color": "red"});
    app.patch("/v2/queues/TEST").json(red).await.error(422);
}

async fn a_deleted_queue_disappears_and_comes_back_on_restore(app: TestApp) {
    app.delete("/v2/queues/TEST").await.status(204);
    app.get("/v2/queues/TEST").await.error(404);
    let issue = json!({"queue": "TEST", "summary": "x"});
    app.post("/v2/issues").json(issue).await.error(422);
    app.post("/v2/queues/TEST/_restore").await.status(200);
    app.get("/v2/queues/TEST").await.status(200);
    app.post("/v2/queues/TEST/_restore").await.error(409);
}

async fn a_queue_lists_the_tags_its_issues_use(app: TestApp) {
    app.create_issue(json!({"queue": "TEST", "summary": "x", "tags": ["beta", "alpha"]}))
        .await;
    app.create_issue(json!({"queue": "TEST", "summary": "y", "tags": ["alpha"]}))
        .await;
    let tags: Value = app.read("/v2/queues/TEST/tags").await;
    assert_eq!(tags, json!(["alpha", "beta"]));
    let versions: Value = app.read("/v2/queues/TEST/versions").await;
    assert_eq!(versions, json!([]));
}
