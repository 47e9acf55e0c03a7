//! Comments and the changelog.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    comments_are_created_listed_edited_and_deleted,
    comment_lists_page_by_id_cursor_with_next_links,
    a_comment_needs_text,
    only_the_author_or_an_admin_edits_a_comment,
    the_changelog_records_every_kind_of_change,
    the_changelog_pages_and_filters_by_field_and_type,
);

async fn comment(app: &TestApp, token: &str, text: &str) -> reqwest::Response {
    app.as_user(Method::POST, "/v2/issues/TEST-1/comments", token, ACME)
        .json(&json!({"text": text, "summonees": ["bob"]}))
        .send()
        .await
        .unwrap()
}

async fn comments_are_created_listed_edited_and_deleted(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = comment(&app, ALICE, "first").await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["text"], "first");
    assert_eq!(c["createdBy"]["display"], "Alice Archer");
    assert_eq!(c["summonees"][0]["display"], "Bob Baker");
    assert_eq!(
        c["self"],
        format!("{}/v2/issues/TEST-1/comments/{id}", app.base)
    );
    let issue: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issue["commentWithoutExternalMessageCount"], 1);
    assert!(issue["lastCommentUpdatedAt"].is_string());
    assert_eq!(
        issue["followers"][0]["display"], "Alice Archer",
        "commenters follow the issue"
    );

    let r = app
        .as_user(
            Method::PATCH,
            &format!("/v2/issues/TEST-1/comments/{id}"),
            ALICE,
            ACME,
        )
        .json(&json!({"text": "edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = app
        .get_as(&format!("/v2/issues/TEST-1/comments/{id}"), ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["text"], "edited");
    assert_eq!(got["version"], 2);
    let by_long: Value = app
        .get_as(
            &format!(
                "/v2/issues/TEST-1/comments/{}",
                c["longId"].as_str().unwrap()
            ),
            ALICE,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_long["id"], id);

    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v2/issues/TEST-1/comments/{id}"),
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    envelope(
        app.get_as(&format!("/v2/issues/TEST-1/comments/{id}"), ALICE)
            .await,
        404,
    )
    .await;
    let issue: Value = app
        .get_as("/v2/issues/TEST-1", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issue["commentWithoutExternalMessageCount"], 0);
}

async fn comment_lists_page_by_id_cursor_with_next_links(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    for i in 0..5 {
        assert_eq!(comment(&app, ALICE, &format!("c{i}")).await.status(), 201);
    }
    let mut url = format!("{}/v2/issues/TEST-1/comments?perPage=2", app.base);
    let mut texts = Vec::new();
    loop {
        let r = app
            .client
            .get(&url)
            .header("Authorization", format!("OAuth {ALICE}"))
            .header("X-Org-ID", ACME)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let next = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("rel=\"next\""), "{l}");
            l[1..l.find('>').unwrap()].to_owned()
        });
        let page: Vec<Value> = r.json().await.unwrap();
        texts.extend(page.iter().map(|c| c["text"].as_str().unwrap().to_owned()));
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(texts, ["c0", "c1", "c2", "c3", "c4"]);
}

async fn a_comment_needs_text(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = app
        .as_user(Method::POST, "/v2/issues/TEST-1/comments", ALICE, ACME)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = envelope(r, 422).await;
    assert!(body["errors"]["text"].is_string());
}

async fn only_the_author_or_an_admin_edits_a_comment(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let c: Value = comment(&app, CAROL_EXPIRING, "carol's")
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_i64().unwrap();
    // Alice administers the organization.
    let r = app
        .as_user(
            Method::PATCH,
            &format!("/v2/issues/TEST-1/comments/{id}"),
            ALICE,
            ACME,
        )
        .json(&json!({"text": "moderated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c: Value = comment(&app, ALICE, "alice's").await.json().await.unwrap();
    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v2/issues/TEST-1/comments/{}", c["id"]),
            CAROL_EXPIRING,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn the_changelog_records_every_kind_of_change(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    create_issue(&app, json!({"queue": "TEST", "summary": "other"})).await;
    app.as_user(Method::PATCH, "/v2/issues/TEST-1", ALICE, ACME)
        .json(&json!({"priority": "blocker", "assignee": "bob"}))
        .send()
        .await
        .unwrap();
    comment(&app, ALICE, "note").await;
    app.as_user(
        Method::POST,
        "/v2/issues/TEST-1/transitions/start_progress/_execute",
        ALICE,
        ACME,
    )
    .send()
    .await
    .unwrap();
    app.as_user(Method::POST, "/v2/issues/TEST-1/links", ALICE, ACME)
        .json(&json!({"relationship": "relates", "issue": "TEST-2"}))
        .send()
        .await
        .unwrap();
    let log: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/changelog", ALICE)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = log.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "IssueCreated",
            "IssueUpdated",
            "IssueCommentAdded",
            "IssueWorkflow",
            "IssueLinked"
        ]
    );
    assert_eq!(log[0]["fields"][0]["field"]["id"], "status");
    assert_eq!(log[0]["fields"][0]["to"]["key"], "open");
    let update = &log[1]["fields"];
    let priority = update
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"]["id"] == "priority")
        .unwrap();
    assert_eq!(priority["from"]["key"], "normal");
    assert_eq!(priority["to"]["key"], "blocker");
    let assignee = update
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"]["id"] == "assignee")
        .unwrap();
    assert!(assignee["from"].is_null());
    assert_eq!(assignee["to"]["display"], "Bob Baker");
    assert_eq!(log[3]["fields"][0]["from"]["key"], "open");
    assert_eq!(log[3]["fields"][0]["to"]["key"], "inProgress");
    assert_eq!(log[4]["links"][0]["object"]["key"], "TEST-2");
    assert_eq!(log[0]["updatedBy"]["display"], "Alice Archer");
    assert_eq!(log[0]["issue"]["key"], "TEST-1");
    // The other end of the link has its own entry.
    let other: Vec<Value> = app
        .get_as("/v2/issues/TEST-2/changelog", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other.last().unwrap()["type"], "IssueLinked");
}

async fn the_changelog_pages_and_filters_by_field_and_type(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "s0"})).await;
    for i in 1..=4 {
        app.as_user(Method::PATCH, "/v2/issues/TEST-1", ALICE, ACME)
            .json(&json!({"summary": format!("s{i}")}))
            .send()
            .await
            .unwrap();
    }
    app.as_user(Method::PATCH, "/v2/issues/TEST-1", ALICE, ACME)
        .json(&json!({"priority": "minor"}))
        .send()
        .await
        .unwrap();
    let r = app
        .get_as("/v2/issues/TEST-1/changelog?perPage=2", ALICE)
        .await;
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    let first: Vec<Value> = r.json().await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(
        link.contains(&format!("id={}", first[1]["id"].as_str().unwrap())),
        "{link}"
    );
    let by_field: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/changelog?field=priority", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_field.len(), 1);
    let by_type: Vec<Value> = app
        .get_as("/v2/issues/TEST-1/changelog?type=IssueUpdated", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_type.len(), 5);
}
