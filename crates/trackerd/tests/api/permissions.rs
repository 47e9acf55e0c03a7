//! Queue permissions, issue access lists and groups through the API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_new_queue_is_open_to_everyone_and_administered_by_its_lead,
    permissions_are_replaced_by_lists_and_edited_by_add_and_remove,
    bad_permission_subjects_answer_422_and_change_nothing,
    a_restricted_queue_hides_its_issues_from_members_without_access,
    an_issue_access_list_opens_that_issue_only,
    group_membership_grants_what_the_group_is_granted,
    moving_an_issue_needs_the_right_to_create_in_the_target_queue,
    check_permissions_answers_200_or_403,
);

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.as_user(method, path, token, ACME)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Restricts TEST so that only alice (and the listed extras) may read it.
async fn restrict_test_queue(app: &TestApp, readers: Value) {
    let r = send(
        app,
        ALICE,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({
            "create": {"groups": [], "roles": [], "users": ["alice"]},
            "write": {"groups": [], "roles": [], "users": ["alice"]},
            "read": {"groups": [], "roles": [], "users": readers},
        }),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn a_new_queue_is_open_to_everyone_and_administered_by_its_lead(app: TestApp) {
    let p: Value = app
        .get_as("/v2/queues/TEST/permissions", BOB_RO)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        p["self"],
        format!("{}/v2/queues/TEST/permissions", app.base)
    );
    for perm in ["create", "write", "read"] {
        assert_eq!(
            p[perm]["groups"][0]["display"], "All employees",
            "{perm}: {p}"
        );
        let roles: Vec<&str> = p[perm]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert!(
            roles.contains(&"author") && roles.contains(&"queue-lead"),
            "{perm}: {roles:?}"
        );
    }
    assert_eq!(p["grant"]["roles"][0]["id"], "queue-lead");
    assert!(p["grant"]["groups"].as_array().unwrap().is_empty());
}

async fn permissions_are_replaced_by_lists_and_edited_by_add_and_remove(app: TestApp) {
    let before: Value = app
        .get_as("/v2/queues/TEST/permissions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let r = send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({"grant": {"users": ["bob"]}}),
    )
    .await;
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["grant"]["users"][0]["display"], "Bob Baker");
    assert_eq!(
        p["grant"]["roles"][0]["id"], "queue-lead",
        "other kinds are left alone"
    );
    assert_eq!(p["version"], before["version"].as_i64().unwrap() + 1);
    let r = send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({"grant": {"users": {"remove": ["bob"], "add": ["carol"]}}, "read": {"roles": {"remove": ["follower"]}}}),
    )
    .await;
    let p: Value = r.json().await.unwrap();
    let grant_users: Vec<&str> = p["grant"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["display"].as_str().unwrap())
        .collect();
    assert_eq!(grant_users, ["Carol"]);
    assert!(!p["read"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "follower"));
    // Bob, who was briefly an administrator of the queue, is no longer.
    let r = app
        .as_user(Method::PATCH, "/v2/queues/TEST", CAROL_EXPIRING, ACME)
        .json(&json!({"name": "Carol administers this"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "carol now holds grant");
}

async fn bad_permission_subjects_answer_422_and_change_nothing(app: TestApp) {
    let before: Value = app
        .get_as("/v2/queues/TEST/permissions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let r = send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({"read": {"users": ["ghost"], "roles": ["wizard"], "groups": [999]}, "destroy": {}}),
    )
    .await;
    let body = envelope(r, 422).await;
    for f in ["read.users", "read.roles", "read.groups", "destroy"] {
        assert!(body["errors"][f].is_string(), "{f}: {body}");
    }
    let after: Value = app
        .get_as("/v2/queues/TEST/permissions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
    let r = send(
        &app,
        CAROL_EXPIRING,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({"read": {"users": ["carol"]}}),
    )
    .await;
    envelope(r, 403).await;
}

async fn a_restricted_queue_hides_its_issues_from_members_without_access(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    restrict_test_queue(&app, json!(["alice"])).await;
    envelope(app.get_as("/v2/issues/TEST-1", BOB_RO).await, 403).await;
    envelope(app.get_as("/v2/queues/TEST", BOB_RO).await, 403).await;
    // Only the seed's other queue, OPS, is left in bob's list.
    let r = app.get_as("/v2/queues", BOB_RO).await;
    assert_eq!(r.headers()["x-total-count"], "1");
    let queues: Vec<Value> = r.json().await.unwrap();
    let keys: Vec<_> = queues.iter().map(|q| q["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["OPS"]);
    let r = send(
        &app,
        CAROL_EXPIRING,
        Method::POST,
        "/v2/issues",
        json!({"queue": "TEST", "summary": "y"}),
    )
    .await;
    envelope(r, 403).await;
    // The author of an issue is not a reader here: the roles were removed.
    assert_eq!(app.get_as("/v2/issues/TEST-1", ALICE).await.status(), 200);
}

async fn an_issue_access_list_opens_that_issue_only(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "one"})).await;
    create_issue(&app, json!({"queue": "TEST", "summary": "two"})).await;
    restrict_test_queue(&app, json!(["alice"])).await;
    let r = send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/issues/TEST-1/permissions",
        json!({"access": {"users": {"add": ["bob"]}}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let p: Value = app
        .get_as("/v2/issues/TEST-1/permissions", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["access"]["users"][0]["display"], "Bob Baker");
    assert_eq!(app.get_as("/v2/issues/TEST-1", BOB_RO).await.status(), 200);
    envelope(app.get_as("/v2/issues/TEST-2", BOB_RO).await, 403).await;
}

async fn group_membership_grants_what_the_group_is_granted(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = send(
        &app,
        CAROL_EXPIRING,
        Method::POST,
        "/v2/groups",
        json!({"name": "nope"}),
    )
    .await;
    envelope(r, 403).await;
    let r = send(
        &app,
        ALICE,
        Method::POST,
        "/v2/groups",
        json!({"name": "qa", "members": []}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let g: Value = r.json().await.unwrap();
    let id = g["id"].as_i64().unwrap();
    restrict_test_queue(&app, json!([])).await;
    send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/queues/TEST/permissions",
        json!({"read": {"groups": {"add": [id]}}}),
    )
    .await;
    envelope(app.get_as("/v2/issues/TEST-1", BOB_RO).await, 403).await;
    let r = send(
        &app,
        ALICE,
        Method::PATCH,
        &format!("/v2/groups/{id}"),
        json!({"members": {"add": ["bob"]}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_as("/v2/issues/TEST-1", BOB_RO).await.status(), 200);
    let groups: Vec<Value> = app.get_as("/v2/groups", BOB_RO).await.json().await.unwrap();
    assert!(groups
        .iter()
        .any(|g| g["name"] == "qa" && g["members"][0]["display"] == "Bob Baker"));
    let r = send(
        &app,
        ALICE,
        Method::POST,
        "/v2/groups",
        json!({"name": "qa"}),
    )
    .await;
    envelope(r, 409).await;
}

async fn moving_an_issue_needs_the_right_to_create_in_the_target_queue(app: TestApp) {
    send(
        &app,
        ALICE,
        Method::POST,
        "/v2/queues",
        json!({"key": "PRIV", "name": "Private", "lead": "alice"}),
    )
    .await;
    send(
        &app,
        ALICE,
        Method::PATCH,
        "/v2/queues/PRIV/permissions",
        json!({"create": {"groups": [], "roles": []}}),
    )
    .await;
    let r = app
        .as_user(Method::POST, "/v2/issues", CAROL_EXPIRING, ACME)
        .json(&json!({"queue": "TEST", "summary": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/TEST-1/_move?queue=PRIV",
            CAROL_EXPIRING,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(
            Method::POST,
            "/v2/issues/TEST-1/_clone?queues=PRIV",
            CAROL_EXPIRING,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let i: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(i["queue"]["key"], "TEST");
}

async fn check_permissions_answers_200_or_403(app: TestApp) {
    assert_eq!(
        app.get_as("/v2/queues/TEST/checkPermissions/write", BOB_RO)
            .await
            .status(),
        200
    );
    envelope(
        app.get_as("/v2/queues/TEST/checkPermissions/grant", BOB_RO)
            .await,
        403,
    )
    .await;
    assert_eq!(
        app.get_as("/v2/queues/TEST/checkPermissions/grant", ALICE)
            .await
            .status(),
        200
    );
    envelope(
        app.get_as("/v2/queues/TEST/checkPermissions/fly", ALICE)
            .await,
        404,
    )
    .await;
}
