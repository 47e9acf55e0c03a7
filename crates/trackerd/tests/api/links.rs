//! Links between issues.

use reqwest::Method;
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_link_appears_on_both_issues_from_each_side,
    linking_twice_answers_422,
    links_are_deleted_by_id,
    the_link_and_unlink_methods_work_with_a_link_header,
    links_to_unknown_issues_or_with_unknown_relationships_answer_422,
);

async fn setup(app: &TestApp) {
    app.create_test_issue("one").await;
    app.create_test_issue("two").await;
}

/// Links `from` to `to` by `relationship`.
async fn link_from(app: &TestApp, from: &str, relationship: &str, to: &str) -> Reply {
    app.post(&format!("/v2/issues/{from}/links"))
        .json(json!({"relationship": relationship, "issue": to}))
        .await
}

async fn link(app: &TestApp, relationship: &str, other: &str) -> Reply {
    link_from(app, "TEST-1", relationship, other).await
}

async fn a_link_appears_on_both_issues_from_each_side(app: TestApp) {
    setup(&app).await;
    let l: Value = link(&app, "depends on", "TEST-2").await.status(201).json();
    assert_eq!(l["type"]["id"], "depends");
    assert_eq!(l["direction"], "outward");
    assert_eq!(l["object"]["key"], "TEST-2");
    assert_eq!(
        l["self"],
        format!("{}/v2/issues/TEST-1/links/{}", app.base, l["id"])
    );
    let back: Vec<Value> = app.read("/v2/issues/TEST-2/links").await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["id"], l["id"]);
    assert_eq!(back[0]["direction"], "inward");
    assert_eq!(back[0]["object"]["key"], "TEST-1");
    assert_eq!(back[0]["type"]["inward"], "is dependent by");
}

async fn linking_twice_answers_422(app: TestApp) {
    setup(&app).await;
    link(&app, "relates", "TEST-2").await.status(201);
    link(&app, "relates", "TEST-2").await.error(422);
    // A symmetric link is the same link from the other side.
    link_from(&app, "TEST-2", "relates", "TEST-1")
        .await
        .error(422);
    // A different relationship between the same issues is a new link.
    link(&app, "is subtask for", "TEST-2").await.status(201);
}

async fn links_are_deleted_by_id(app: TestApp) {
    setup(&app).await;
    let l: Value = link(&app, "relates", "TEST-2").await.json();
    let path = format!("/v2/issues/TEST-2/links/{}", l["id"]);
    app.delete(&path).await.status(204);
    let left: Vec<Value> = app.read("/v2/issues/TEST-1/links").await;
    assert!(left.is_empty());
    app.delete("/v2/issues/TEST-1/links/999999")
        .await
        .error(404);
}

async fn the_link_and_unlink_methods_work_with_a_link_header(app: TestApp) {
    setup(&app).await;
    let call = |m: &str| {
        app.call(
            Method::from_bytes(m.as_bytes()).unwrap(),
            "/v2/issues/TEST-1",
        )
    };
    let to_two = format!("<{}/v2/issues/TEST-2>; rel=\"duplicates\"", app.base);
    call("LINK").header("Link", to_two).await.status(201);
    let links: Vec<Value> = app.read("/v2/issues/TEST-2/links").await;
    assert_eq!(links[0]["type"]["id"], "duplicates");
    assert_eq!(links[0]["direction"], "inward");
    let unlink = call("UNLINK").header("Link", "<TEST-2>; rel=\"duplicates\"");
    unlink.await.status(204);
    let links: Vec<Value> = app.read("/v2/issues/TEST-1/links").await;
    assert!(links.is_empty());
    call("PURGE").await.error(405);
}

async fn links_to_unknown_issues_or_with_unknown_relationships_answer_422(app: TestApp) {
    setup(&app).await;
    let body = link(&app, "relates", "TEST-99").await.error(422);
    assert!(body["errors"]["issue"].is_string(), "{body}");
    let body = link(&app, "adores", "TEST-2").await.error(422);
    assert!(body["errors"]["relationship"].is_string(), "{body}");
    link(&app, "relates", "TEST-1").await.error(422);
}
