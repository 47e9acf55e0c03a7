//! Queue permissions, issue access lists and groups through the API.

use serde_json::{json, Value};

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

/// `PATCH /v2/queues/TEST/permissions` as `token`.
async fn set_test_permissions(app: &TestApp, token: &str, body: Value) -> Reply {
    let path = "/v2/queues/TEST/permissions";
    app.patch(path).token(token).json(body).await
}

/// Restricts TEST so that only alice (and the listed extras) may read it.
async fn restrict_test_queue(app: &TestApp, readers: Value) {
    let only_alice = json!({"groups": [], "roles": [], "users": ["alice"]});
    let body = json!({
        "create": only_alice,
        "write": only_alice,
        "read": {"groups": [], "roles": [], "users": readers},
    });
    set_test_permissions(app, ALICE, body).await.status(200);
}

async fn a_new_queue_is_open_to_everyone_and_administered_by_its_lead(app: TestApp) {
    let p: Value = app
        .get("/v2/queues/TEST/permissions")
        .token(BOB_RO)
        .await
        .json();
    assert_eq!(
        p["self"],
        format!("{}/v2/queues/TEST/permissions", app.base)
    );
    for perm in ["create", "write", "read"] {
        assert_eq!(
            p[perm]["groups"][0]["display"], "All employees",
            "{perm}: {p}"
        );
        let roles = each_str(&p[perm]["roles"], "id");
        assert!(
            roles.contains(&"author") && roles.contains(&"queue-lead"),
            "{perm}: {roles:?}"
        );
    }
    assert_eq!(p["grant"]["roles"][0]["id"], "queue-lead");
    assert!(p["grant"]["groups"].as_array().unwrap().is_empty());
}

async fn permissions_are_replaced_by_lists_and_edited_by_add_and_remove(app: TestApp) {
    let before: Value = app.read("/v2/queues/TEST/permissions").await;
    let bob_grants = json!({"grant": {"users": ["bob"]}});
    let p: Value = set_test_permissions(&app, ALICE, bob_grants).await.json();
    assert_eq!(p["grant"]["users"][0]["display"], "Bob Baker");
    assert_eq!(
        p["grant"]["roles"][0]["id"], "queue-lead",
        "other kinds are left alone"
    );
    assert_eq!(p["version"], before["version"].as_i64().unwrap() + 1);
    let edit = json!({"grant": {"users": {"remove": ["bob"], "add": ["carol"]}}, "read": {"roles": {"remove": ["follower"]}}});
    let p: Value = set_test_permissions(&app, ALICE, edit).await.json();
    let grant_users = each_str(&p["grant"]["users"], "display");
    assert_eq!(grant_users, ["Carol"]);
    assert!(!p["read"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "follower"));
    // Bob, who was briefly an administrator of the queue, is no longer.
    let r = crate::dictionaries::carol_renames_test(&app, "Carol administers this").await;
    assert_eq!(r.code(), 200, "carol now holds grant");
}

async fn bad_permission_subjects_answer_422_and_change_nothing(app: TestApp) {
    let before: Value = app.read("/v2/queues/TEST/permissions").await;
    let bad =
        json!({"read": {"users": ["ghost"], "roles": ["wizard"], "groups": [999]}, "destroy": {}});
    let body = set_test_permissions(&app, ALICE, bad).await.error(422);
    for f in ["read.users", "read.roles", "read.groups", "destroy"] {
        assert!(body["errors"][f].is_string(), "{f}: {body}");
    }
    let after: Value = app.read("/v2/queues/TEST/permissions").await;
    assert_eq!(before, after);
    let carol_reads = json!({"read": {"users": ["carol"]}});
    set_test_permissions(&app, CAROL_EXPIRING, carol_reads)
        .await
        .error(403);
}

/// carol (a member whose token writes) creates issue `summary` in TEST.
async fn carols_issue_in_test(app: &TestApp, summary: &str) -> Reply {
    app.post("/v2/issues")
        .token(CAROL_EXPIRING)
        .json(json!({"queue": "TEST", "summary": summary}))
        .await
}

async fn a_restricted_queue_hides_its_issues_from_members_without_access(app: TestApp) {
    app.create_test_issue("x").await;
    restrict_test_queue(&app, json!(["alice"])).await;
    app.get("/v2/issues/TEST-1").token(BOB_RO).await.error(403);
    app.get("/v2/queues/TEST").token(BOB_RO).await.error(403);
    // Only the seed's other queue, OPS, is left in bob's list.
    let r = app.get("/v2/queues").token(BOB_RO).await;
    assert_eq!(r.header("x-total-count"), "1");
    let queues: Vec<Value> = r.json();
    let keys: Vec<_> = queues.iter().map(|q| q["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["OPS"]);
    carols_issue_in_test(&app, "y").await.error(403);
    // The author of an issue is not a reader here: the roles were removed.
    app.get("/v2/issues/TEST-1").await.status(200);
}

async fn an_issue_access_list_opens_that_issue_only(app: TestApp) {
    app.create_test_issue("one").await;
    app.create_test_issue("two").await;
    restrict_test_queue(&app, json!(["alice"])).await;
    let bob = json!({"access": {"users": {"add": ["bob"]}}});
    let r = app.patch("/v2/issues/TEST-1/permissions").json(bob).await;
    r.status(200);
    let p: Value = app.get("/v2/issues/TEST-1/permissions").await.json();
    assert_eq!(p["access"]["users"][0]["display"], "Bob Baker");
    app.get("/v2/issues/TEST-1").token(BOB_RO).await.status(200);
    app.get("/v2/issues/TEST-2").token(BOB_RO).await.error(403);
}

async fn group_membership_grants_what_the_group_is_granted(app: TestApp) {
    app.create_test_issue("x").await;
    let group = |token: &str, body: Value| app.post("/v2/groups").token(token).json(body);
    group(CAROL_EXPIRING, json!({"name": "nope"}))
        .await
        .error(403);
    let qa = json!({"name": "qa", "members": []});
    let g: Value = group(ALICE, qa).await.status(201).json();
    let id = g["id"].as_i64().unwrap();
    restrict_test_queue(&app, json!([])).await;
    let qa_reads = json!({"read": {"groups": {"add": [id]}}});
    set_test_permissions(&app, ALICE, qa_reads).await;
    let bobs_view = || app.get("/v2/issues/TEST-1").token(BOB_RO);
    bobs_view().await.error(403);
    let add_bob = json!({"members": {"add": ["bob"]}});
    let r = app.patch(&format!("/v2/groups/{id}")).json(add_bob).await;
    r.status(200);
    bobs_view().await.status(200);
    let groups: Vec<Value> = app.get("/v2/groups").token(BOB_RO).await.json();
    assert!(groups
        .iter()
        .any(|g| g["name"] == "qa" && g["members"][0]["display"] == "Bob Baker"));
    group(ALICE, json!({"name": "qa"})).await.error(409);
}

async fn moving_an_issue_needs_the_right_to_create_in_the_target_queue(app: TestApp) {
    app.create_queue("PRIV", "Private").await;
    let nobody_creates = json!({"create": {"groups": [], "roles": []}});
    app.patch("/v2/queues/PRIV/permissions")
        .json(nobody_creates)
        .await;
    carols_issue_in_test(&app, "mine").await.status(201);
    for path in [
        "/v2/issues/TEST-1/_move?queue=PRIV",
        "/v2/issues/TEST-1/_clone?queues=PRIV",
    ] {
        app.post(path).token(CAROL_EXPIRING).await.error(403);
    }
    let i: Value = app.get("/v2/issues/TEST-1").await.json();
    assert_eq!(i["queue"]["key"], "TEST");
}

async fn check_permissions_answers_200_or_403(app: TestApp) {
    let check = |token: &str, what: &str| {
        app.get(&format!("/v2/queues/TEST/checkPermissions/{what}"))
            .token(token)
    };
    check(BOB_RO, "write").await.status(200);
    check(BOB_RO, "grant").await.error(403);
    check(ALICE, "grant").await.status(200);
    check(ALICE, "fly").await.error(404);
}
