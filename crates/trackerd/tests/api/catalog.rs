//! A queue's components and versions, and issues that refer to them.

use reqwest::Method;
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    components_are_created_read_listed_changed_and_deleted,
    versions_are_created_read_listed_and_changed,
    a_component_name_is_unique_in_its_queue,
    bad_component_and_version_input_is_refused_field_by_field,
    only_queue_administrators_with_a_writing_token_manage_the_catalog,
    another_organization_sees_none_of_them,
    a_stale_version_of_a_component_or_version_is_refused,
    the_queue_answers_its_versions_and_components,
    issues_take_components_and_versions_by_id_name_or_object,
    a_component_or_version_of_another_queue_is_refused_on_an_issue,
    a_component_used_by_issues_is_not_deleted,
    issues_are_found_by_component_and_version_names,
    moving_an_issue_leaves_its_components_and_versions_behind,
    a_component_with_assign_auto_assigns_new_issues_to_its_lead,
);

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let org = if token == MALLORY { OTHER } else { ACME };
    let mut r = app.as_user(method, path, token, org);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let r = send(app, method.clone(), path, ALICE, body).await;
    assert!(r.status().is_success(), "{method} {path}: {}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

async fn component(app: &TestApp, body: Value) -> Value {
    let r = send(app, Method::POST, "/v2/components", ALICE, Some(body)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn version(app: &TestApp, body: Value) -> Value {
    let r = send(app, Method::POST, "/v2/versions", ALICE, Some(body)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["name"]
                .as_str()
                .unwrap_or(c["display"].as_str().unwrap_or(""))
                .to_owned()
        })
        .collect()
}

async fn components_are_created_read_listed_changed_and_deleted(app: TestApp) {
    let c = component(
        &app,
        json!({"queue": "TEST", "name": "Backend", "description": "APIs", "lead": "bob"}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["self"], format!("{}/v2/components/{id}", app.base));
    assert_eq!(c["version"], 1);
    assert_eq!(c["name"], "Backend");
    assert_eq!(c["queue"]["key"], "TEST");
    assert_eq!(c["description"], "APIs");
    assert_eq!(c["lead"]["display"], "Bob Baker");
    assert_eq!(c["assignAuto"], false);
    component(&app, json!({"queue": "OPS", "name": "Servers"})).await;

    let got = ok(&app, Method::GET, &format!("/v2/components/{id}"), None).await;
    assert_eq!(got, c);
    let all = ok(&app, Method::GET, "/v2/components", None).await;
    assert_eq!(names(&all), ["Backend", "Servers"]);

    let changed = ok(
        &app,
        Method::PATCH,
        &format!("/v2/components/{id}"),
        Some(json!({"name": "Back end", "assignAuto": true, "lead": null, "description": null})),
    )
    .await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["name"], "Back end");
    assert_eq!(changed["assignAuto"], true);
    assert!(changed.get("lead").is_none() && changed.get("description").is_none());

    let r = send(
        &app,
        Method::DELETE,
        &format!("/v2/components/{id}"),
        ALICE,
        None,
    )
    .await;
    assert_eq!(r.status(), 204);
    let r = send(
        &app,
        Method::GET,
        &format!("/v2/components/{id}"),
        ALICE,
        None,
    )
    .await;
    envelope(r, 404).await;
    let all = ok(&app, Method::GET, "/v2/components", None).await;
    assert_eq!(names(&all), ["Servers"]);
}

async fn versions_are_created_read_listed_and_changed(app: TestApp) {
    let v = version(
        &app,
        json!({"queue": "TEST", "name": "version 0.1", "description": "Test version 1",
               "startDate": "2023-10-03", "dueDate": "2024-06-03"}),
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["self"], format!("{}/v2/versions/{id}", app.base));
    assert_eq!(v["version"], 1);
    assert_eq!(v["queue"]["key"], "TEST");
    assert_eq!(v["startDate"], "2023-10-03");
    assert_eq!(v["dueDate"], "2024-06-03");
    assert_eq!(v["released"], false);
    assert_eq!(v["archived"], false);
    assert_eq!(
        ok(&app, Method::GET, &format!("/v2/versions/{id}"), None).await,
        v
    );

    let changed = ok(
        &app,
        Method::PATCH,
        &format!("/v2/versions/{id}"),
        Some(json!({"released": true, "dueDate": null, "name": "0.1"})),
    )
    .await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["released"], true);
    assert_eq!(changed["name"], "0.1");
    assert!(changed.get("dueDate").is_none());
    assert_eq!(changed["startDate"], "2023-10-03");
}

async fn a_component_name_is_unique_in_its_queue(app: TestApp) {
    let first = component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    let r = send(
        &app,
        Method::POST,
        "/v2/components",
        ALICE,
        Some(json!({"queue": "TEST", "name": "backend"})),
    )
    .await;
    envelope(r, 409).await;
    // Another queue may use the name.
    component(&app, json!({"queue": "OPS", "name": "Backend"})).await;
    let other = component(&app, json!({"queue": "TEST", "name": "Frontend"})).await;
    let r = send(
        &app,
        Method::PATCH,
        &format!("/v2/components/{}", other["id"]),
        ALICE,
        Some(json!({"name": "BACKEND"})),
    )
    .await;
    envelope(r, 409).await;

    version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    let r = send(
        &app,
        Method::POST,
        "/v2/versions",
        ALICE,
        Some(json!({"queue": "TEST", "name": "1.0"})),
    )
    .await;
    envelope(r, 409).await;
    assert_eq!(first["name"], "Backend");
}

async fn bad_component_and_version_input_is_refused_field_by_field(app: TestApp) {
    for (path, body, field) in [
        ("/v2/components", json!({"name": "x"}), "queue"),
        (
            "/v2/components",
            json!({"queue": "NOPE", "name": "x"}),
            "queue",
        ),
        ("/v2/components", json!({"queue": "TEST"}), "name"),
        (
            "/v2/components",
            json!({"queue": "TEST", "name": "  "}),
            "name",
        ),
        (
            "/v2/components",
            json!({"queue": "TEST", "name": "x", "lead": "nobody"}),
            "lead",
        ),
        (
            "/v2/components",
            json!({"queue": "TEST", "name": "x", "assignAuto": "yes"}),
            "assignAuto",
        ),
        (
            "/v2/components",
            json!({"queue": "TEST", "name": "x", "colour": "red"}),
            "colour",
        ),
        (
            "/v2/versions",
            json!({"queue": "TEST", "name": "x", "startDate": "2023.10.03"}),
            "startDate",
        ),
        (
            "/v2/versions",
            json!({"queue": "TEST", "name": "x", "released": 1}),
            "released",
        ),
        ("/v2/versions", json!({"name": "x"}), "queue"),
    ] {
        let r = send(&app, Method::POST, path, ALICE, Some(body.clone())).await;
        let e = envelope(r, 422).await;
        assert!(e["errors"].get(field).is_some(), "{body}: {e}");
    }
    let c = component(&app, json!({"queue": "TEST", "name": "x"})).await;
    let r = send(
        &app,
        Method::PATCH,
        &format!("/v2/components/{}", c["id"]),
        ALICE,
        Some(json!({"queue": "OPS"})),
    )
    .await;
    envelope(r, 422).await;
    for path in [
        "/v2/components/999999",
        "/v2/components/abc",
        "/v2/versions/999999",
    ] {
        envelope(send(&app, Method::GET, path, ALICE, None).await, 404).await;
    }
    app.post("/v2/versions")
        .header("Content-Type", "application/json")
        .body("{not json")
        .await
        .error(400);
}

async fn only_queue_administrators_with_a_writing_token_manage_the_catalog(app: TestApp) {
    let c = component(&app, json!({"queue": "OPS", "name": "Servers"})).await;
    let v = version(&app, json!({"queue": "OPS", "name": "1.0"})).await;
    let cp = format!("/v2/components/{}", c["id"]);
    let vp = format!("/v2/versions/{}", v["id"]);
    // Bob leads OPS, but his token only reads.
    for (method, path, body) in [
        (
            Method::POST,
            "/v2/components",
            Some(json!({"queue": "OPS", "name": "y"})),
        ),
        (Method::PATCH, cp.as_str(), Some(json!({"name": "y"}))),
        (Method::DELETE, cp.as_str(), None),
        (
            Method::POST,
            "/v2/versions",
            Some(json!({"queue": "OPS", "name": "y"})),
        ),
        (Method::PATCH, vp.as_str(), Some(json!({"name": "y"}))),
    ] {
        let r = send(&app, method.clone(), path, BOB_RO, body.clone()).await;
        envelope(r, 403).await;
        // Carol may write, but does not administer the queue.
        let r = send(&app, method, path, CAROL_EXPIRING, body).await;
        envelope(r, 403).await;
    }
    // Reading needs only the queue's read right.
    let r = send(&app, Method::GET, &cp, BOB_RO, None).await;
    assert_eq!(r.status(), 200);
    let r = send(&app, Method::GET, &vp, BOB_RO, None).await;
    assert_eq!(r.status(), 200);
    let r = send(&app, Method::GET, "/v2/components", BOB_RO, None).await;
    assert_eq!(names(&r.json().await.unwrap()), ["Servers"]);
}

async fn another_organization_sees_none_of_them(app: TestApp) {
    let c = component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    let v = version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    let cp = format!("/v2/components/{}", c["id"]);
    let vp = format!("/v2/versions/{}", v["id"]);
    let all: Value = send(&app, Method::GET, "/v2/components", MALLORY, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all, json!([]));
    for (method, path, body) in [
        (Method::GET, cp.as_str(), None),
        (Method::PATCH, cp.as_str(), Some(json!({"name": "mine"}))),
        (Method::DELETE, cp.as_str(), None),
        (Method::GET, vp.as_str(), None),
        (Method::PATCH, vp.as_str(), Some(json!({"name": "mine"}))),
    ] {
        envelope(send(&app, method, path, MALLORY, body).await, 404).await;
    }
    // Nor can it create in a queue of ours (it has none by that key).
    let r = send(
        &app,
        Method::POST,
        "/v2/components",
        MALLORY,
        Some(json!({"queue": "TEST", "name": "x"})),
    )
    .await;
    envelope(r, 422).await;
    assert_eq!(ok(&app, Method::GET, &cp, None).await["name"], "Backend");
}

async fn a_stale_version_of_a_component_or_version_is_refused(app: TestApp) {
    let c = component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    let v = version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    for path in [
        format!("/v2/components/{}", c["id"]),
        format!("/v2/versions/{}", v["id"]),
    ] {
        app.patch(&path)
            .header("If-Match", "\"7\"")
            .json(json!({"description": "x"}))
            .await
            .error(412);
        let r = send(
            &app,
            Method::PATCH,
            &format!("{path}?version=3"),
            ALICE,
            Some(json!({"description": "x"})),
        )
        .await;
        envelope(r, 409).await;
        app.patch(&path)
            .header("If-Match", "\"1\"")
            .json(json!({"description": "x"}))
            .await
            .status(200);
    }
}

async fn the_queue_answers_its_versions_and_components(app: TestApp) {
    assert_eq!(
        ok(&app, Method::GET, "/v2/queues/TEST/components", None).await,
        json!([])
    );
    component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    component(&app, json!({"queue": "OPS", "name": "Servers"})).await;
    version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    let comps = ok(&app, Method::GET, "/v2/queues/TEST/components", None).await;
    assert_eq!(names(&comps), ["Backend"]);
    let vers = ok(&app, Method::GET, "/v2/queues/TEST/versions", None).await;
    assert_eq!(names(&vers), ["1.0"]);
    assert_eq!(vers[0]["queue"]["key"], "TEST");
    let q = ok(
        &app,
        Method::GET,
        "/v2/queues/TEST?expand=versions,components",
        None,
    )
    .await;
    assert_eq!(q["components"], comps);
    assert_eq!(q["versions"], vers);
    let ops = ok(&app, Method::GET, "/v2/queues/OPS/versions", None).await;
    assert_eq!(ops, json!([]));
    // Another organization does not reach the queue at all.
    let r = send(
        &app,
        Method::GET,
        "/v2/queues/TEST/components",
        MALLORY,
        None,
    )
    .await;
    envelope(r, 404).await;
}

async fn issues_take_components_and_versions_by_id_name_or_object(app: TestApp) {
    let back = component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    let front = component(&app, json!({"queue": "TEST", "name": "Frontend"})).await;
    let v1 = version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    let v2 = version(&app, json!({"queue": "TEST", "name": "2.0"})).await;
    let issue = app
        .create_issue(
            json!({"queue": "TEST", "summary": "x", "components": ["backend"],
               "fixVersions": [v2["id"]], "affectedVersions": [{"id": v1["id"].to_string()}]}),
        )
        .await;
    assert_eq!(
        issue["components"],
        json!([{"self": back["self"], "id": back["id"].to_string(), "display": "Backend"}])
    );
    assert_eq!(issue["fixVersions"][0]["display"], "2.0");
    assert_eq!(issue["fixVersions"][0]["self"], v2["self"]);
    assert_eq!(issue["affectedVersions"][0]["id"], v1["id"].to_string());

    let patched = ok(
        &app,
        Method::PATCH,
        "/v2/issues/TEST-1",
        Some(json!({"components": {"add": [{"name": "Frontend"}]},
                    "fixVersions": {"remove": ["2.0"], "add": [v1["id"]]}})),
    )
    .await;
    assert_eq!(names(&patched["components"]), ["Backend", "Frontend"]);
    assert_eq!(names(&patched["fixVersions"]), ["1.0"]);
    let got = ok(&app, Method::GET, "/v2/issues/TEST-1", None).await;
    assert_eq!(got["components"], patched["components"]);

    let patched = ok(
        &app,
        Method::PATCH,
        "/v2/issues/TEST-1",
        Some(json!({"components": {"set": [front["id"]]}, "affectedVersions": []})),
    )
    .await;
    assert_eq!(names(&patched["components"]), ["Frontend"]);
    assert!(patched.get("affectedVersions").is_none());
    let unknown = send(
        &app,
        Method::PATCH,
        "/v2/issues/TEST-1",
        ALICE,
        Some(json!({"components": ["Nope"]})),
    )
    .await;
    let e = envelope(unknown, 422).await;
    assert!(e["errors"].get("components").is_some(), "{e}");
}

async fn a_component_or_version_of_another_queue_is_refused_on_an_issue(app: TestApp) {
    let servers = component(&app, json!({"queue": "OPS", "name": "Servers"})).await;
    let v = version(&app, json!({"queue": "OPS", "name": "9.9"})).await;
    for body in [
        json!({"queue": "TEST", "summary": "x", "components": [servers["id"]]}),
        json!({"queue": "TEST", "summary": "x", "components": ["Servers"]}),
        json!({"queue": "TEST", "summary": "x", "fixVersions": [{"id": v["id"]}]}),
    ] {
        let r = send(&app, Method::POST, "/v2/issues", ALICE, Some(body.clone())).await;
        envelope(r, 422).await;
    }
    app.create_test_issue("x").await;
    let r = send(
        &app,
        Method::PATCH,
        "/v2/issues/TEST-1",
        ALICE,
        Some(json!({"affectedVersions": {"add": [v["id"]]}})),
    )
    .await;
    envelope(r, 422).await;
}

async fn a_component_used_by_issues_is_not_deleted(app: TestApp) {
    let c = component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    app.create_issue(json!({"queue": "TEST", "summary": "x", "components": ["Backend"]}))
        .await;
    let path = format!("/v2/components/{}", c["id"]);
    envelope(send(&app, Method::DELETE, &path, ALICE, None).await, 409).await;
    ok(
        &app,
        Method::PATCH,
        "/v2/issues/TEST-1",
        Some(json!({"components": []})),
    )
    .await;
    let r = send(&app, Method::DELETE, &path, ALICE, None).await;
    assert_eq!(r.status(), 204);
}

async fn issues_are_found_by_component_and_version_names(app: TestApp) {
    component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    component(&app, json!({"queue": "TEST", "name": "Frontend"})).await;
    version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    app.create_issue(
        json!({"queue": "TEST", "summary": "a", "components": ["Backend"], "fixVersions": ["1.0"]}),
    )
    .await;
    app.create_issue(json!({"queue": "TEST", "summary": "b", "components": ["Frontend"], "affectedVersions": ["1.0"]}),
    )
    .await;
    app.create_test_issue("c").await;
    let find = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let v = ok(
                app,
                Method::POST,
                "/v2/issues/_search",
                Some(json!({"query": query})),
            )
            .await;
            v.as_array()
                .unwrap()
                .iter()
                .map(|i| i["key"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("Components: backend").await, ["TEST-1"]);
    assert_eq!(
        find("Component: Backend, Frontend").await,
        ["TEST-1", "TEST-2"]
    );
    assert_eq!(find("\"Fix Version\": \"1.0\"").await, ["TEST-1"]);
    assert_eq!(find("\"Affected Version\": \"1.0\"").await, ["TEST-2"]);
    assert_eq!(find("Components: empty()").await, ["TEST-3"]);
    assert_eq!(
        find("Queue: TEST AND Components: !Backend").await,
        ["TEST-2", "TEST-3"]
    );
    assert_eq!(find("Components: Nothing").await, Vec::<String>::new());
}

async fn moving_an_issue_leaves_its_components_and_versions_behind(app: TestApp) {
    component(&app, json!({"queue": "TEST", "name": "Backend"})).await;
    version(&app, json!({"queue": "TEST", "name": "1.0"})).await;
    app.create_issue(
        json!({"queue": "TEST", "summary": "x", "components": ["Backend"], "fixVersions": ["1.0"]}),
    )
    .await;
    let moved = ok(
        &app,
        Method::POST,
        "/v2/issues/TEST-1/_move?queue=OPS",
        None,
    )
    .await;
    assert_eq!(moved["queue"]["key"], "OPS");
    assert!(moved.get("components").is_none(), "{moved}");
    assert!(moved.get("fixVersions").is_none(), "{moved}");
}

async fn a_component_with_assign_auto_assigns_new_issues_to_its_lead(app: TestApp) {
    component(
        &app,
        json!({"queue": "TEST", "name": "Backend", "lead": "bob", "assignAuto": true}),
    )
    .await;
    let issue = app
        .create_issue(json!({"queue": "TEST", "summary": "x", "components": ["Backend"]}))
        .await;
    assert_eq!(issue["assignee"]["display"], "Bob Baker");
    let issue = app.create_issue(json!({"queue": "TEST", "summary": "y", "components": ["Backend"], "assignee": "carol"}),
    )
    .await;
    assert_eq!(issue["assignee"]["display"], "Carol");
}
