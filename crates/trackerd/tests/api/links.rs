//! Links between issues.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
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
    create_issue(app, json!({"queue": "TEST", "summary": "one"})).await;
    create_issue(app, json!({"queue": "TEST", "summary": "two"})).await;
}

async fn link(app: &TestApp, relationship: &str, other: &str) -> reqwest::Response {
    app.as_user(Method::POST, "/v2/issues/TEST-1/links", ALICE, ACME)
        .json(&json!({"relationship": relationship, "issue": other}))
        .send()
        .await
        .unwrap()
}

async fn a_link_appears_on_both_issues_from_each_side(app: TestApp) {
    setup(&app).await;
    let r = link(&app, "depends on", "TEST-2").await;
    assert_eq!(r.status(), 201);
    let l: Value = r.json().await.unwrap();
    assert_eq!(l["type"]["id"], "depends");
    assert_eq!(l["direction"], "outward");
    assert_eq!(l["object"]["key"], "TEST-2");
    assert_eq!(
        l["self"],
        format!("{}/v2/issues/TEST-1/links/{}", app.base, l["id"])
    );
    let back: Vec<Value> = app
        .get_as("/v2/issues/TEST-2/links", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["id"], l["id"]);
    assert_eq!(back[0]["direction"], "inward");
    assert_eq!(back[0]["object"]["key"], "TEST-1");
    assert_eq!(back[0]["type"]["inward"], "is dependent by");
}

async fn linking_twice_answers_422(app: TestApp) {
    setup(&app).await;
    assert_eq!(link(&app, "relates", "TEST-2").await.status(), 201);
    envelope(link(&app, "relates", "TEST-2").await, 422).await;
    // A symmetric link is the same link from the other side.
    let r = app
        .as_user(Method::POST, "/v2/issues/TEST-2/links", ALICE, ACME)
        .json(&json!({"relationship": "relates", "issue": "TEST-1"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
    // A different relationship between the same issues is a new link.
    assert_eq!(link(&app, "is subtask for", "TEST-2").await.status(), 201);
}

async fn links_are_deleted_by_id(app: TestApp) {
    setup(&app).await;
    let l: Value = link(&app, "relates", "TEST-2").await.json().await.unwrap();
    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v2/issues/TEST-2/links/{}", l["id"]),
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let left: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/links", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(left.is_empty());
    let r = app
        .as_user(
            Method::DELETE,
            "/v2/issues/TEST-1/links/999999",
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
}

async fn the_link_and_unlink_methods_work_with_a_link_header(app: TestApp) {
    setup(&app).await;
    let method = |m: &str| Method::from_bytes(m.as_bytes()).unwrap();
    let r = app
        .as_user(method("LINK"), "/v2/issues/TEST-1", ALICE, ACME)
        .header(
            "Link",
            format!("<{}/v2/issues/TEST-2>; rel=\"duplicates\"", app.base),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let links: Vec<Value> = app
        .get_as("/v2/issues/TEST-2/links", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links[0]["type"]["id"], "duplicates");
    assert_eq!(links[0]["direction"], "inward");
    let r = app
        .as_user(method("UNLINK"), "/v2/issues/TEST-1", ALICE, ACME)
        .header("Link", "<TEST-2>; rel=\"duplicates\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let links: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/links", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert!(links.is_empty());
    let r = app
        .as_user(method("PURGE"), "/v2/issues/TEST-1", ALICE, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 405).await;
}

async fn links_to_unknown_issues_or_with_unknown_relationships_answer_422(app: TestApp) {
    setup(&app).await;
    let body = envelope(link(&app, "relates", "TEST-99").await, 422).await;
    assert!(body["errors"]["issue"].is_string(), "{body}");
    let body = envelope(link(&app, "adores", "TEST-2").await, 422).await;
    assert!(body["errors"]["relationship"].is_string(), "{body}");
    envelope(link(&app, "relates", "TEST-1").await, 422).await;
}
