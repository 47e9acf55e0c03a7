//! Dictionaries, fields, workflows and queue settings.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    the_standard_dictionaries_are_served,
    queue_settings_are_updated_by_admins_only,
    a_deleted_queue_disappears_and_comes_back_on_restore,
    a_queue_lists_the_tags_its_issues_use,
);

async fn the_standard_dictionaries_are_served(app: TestApp) {
    let statuses: Vec<Value> = app
        .get_as("/v2/statuses", BOB_RO)
        .await
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = statuses
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    for k in ["open", "inProgress", "needInfo", "resolved", "closed"] {
        assert!(keys.contains(&k), "{k}");
    }
    let p: Value = app
        .get_as("/v2/priorities/critical", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["key"], "critical");
    let types: Vec<Value> = app
        .get_as("/v2/issuetypes", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(types.iter().any(|t| t["key"] == "bug"));
    let res: Vec<Value> = app
        .get_as("/v2/resolutions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(res.iter().any(|t| t["key"] == "fixed"));
    let lt: Vec<Value> = app
        .get_as("/v2/linktypes", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(lt
        .iter()
        .any(|t| t["id"] == "depends" && t["inward"] == "is dependent by"));
    let fields: Vec<Value> = app.get_as("/v2/fields", ALICE).await.json().await.unwrap();
    assert!(fields.iter().any(|f| f["id"] == "summary"));
    let f: Value = app
        .get_as("/v2/fields/assignee", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f["name"], "Assignee");
    envelope(app.get_as("/v2/statuses/nope", ALICE).await, 404).await;
    let q: Value = app
        .get_as("/v2/queues/TEST?expand=all", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["defaultType"]["key"], "task");
    assert!(q["workflows"].is_object());
    assert!(q["issueTypesConfig"].as_array().unwrap().len() > 3);
}

async fn queue_settings_are_updated_by_admins_only(app: TestApp) {
    let r = app
        .as_user(Method::PATCH, "/v2/queues/TEST", ALICE, ACME)
        .json(&json!({"name": "Renamed", "defaultPriority": "critical", "lead": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let q: Value = r.json().await.unwrap();
    assert_eq!(q["name"], "Renamed");
    assert_eq!(q["defaultPriority"]["key"], "critical");
    assert_eq!(q["lead"]["display"], "Bob Baker");
    assert_eq!(q["version"], 2);
    let issue = create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    assert_eq!(issue["priority"]["key"], "critical");
    let r = app
        .as_user(Method::PATCH, "/v2/queues/TEST", CAROL_EXPIRING, ACME)
        .json(&json!({"name": "Carol's now"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(Method::PATCH, "/v2/queues/TEST", ALICE, ACME)
        .json(&json!({"color": "red"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
}

async fn a_deleted_queue_disappears_and_comes_back_on_restore(app: TestApp) {
    let r = app
        .as_user(Method::DELETE, "/v2/queues/TEST", ALICE, ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    envelope(app.get_as("/v2/queues/TEST", ALICE).await, 404).await;
    let r = app
        .as_user(Method::POST, "/v2/issues", ALICE, ACME)
        .json(&json!({"queue": "TEST", "summary": "x"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
    let r = app
        .as_user(Method::POST, "/v2/queues/TEST/_restore", ALICE, ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_as("/v2/queues/TEST", ALICE).await.status(), 200);
    let r = app
        .as_user(Method::POST, "/v2/queues/TEST/_restore", ALICE, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 409).await;
}

async fn a_queue_lists_the_tags_its_issues_use(app: TestApp) {
    create_issue(
        &app,
        json!({"queue": "TEST", "summary": "x", "tags": ["beta", "alpha"]}),
    )
    .await;
    create_issue(
        &app,
        json!({"queue": "TEST", "summary": "y", "tags": ["alpha"]}),
    )
    .await;
    let tags: Value = app
        .get_as("/v2/queues/TEST/tags", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tags, json!(["alpha", "beta"]));
    let versions: Value = app
        .get_as("/v2/queues/TEST/versions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions, json!([]));
}
