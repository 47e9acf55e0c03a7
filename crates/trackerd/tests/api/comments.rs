//! Comments and the changelog.

use serde_json::{json, Value};

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

/// Comments on TEST-1 as `token`, summoning bob.
async fn comment(app: &TestApp, token: &str, text: &str) -> Reply {
    app.post("/v2/issues/TEST-1/comments")
        .token(token)
        .json(json!({"text": text, "summonees": ["bob"]}))
        .await
}

async fn comments_are_created_listed_edited_and_deleted(app: TestApp) {
    app.create_test_issue("x").await;
    let c: Value = comment(&app, ALICE, "first").await.status(201).json();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["text"], "first");
    assert_eq!(c["createdBy"]["display"], "Alice Archer");
    assert_eq!(c["summonees"][0]["display"], "Bob Baker");
    let path = format!("/v2/issues/TEST-1/comments/{id}");
    assert_eq!(c["self"], format!("{}{path}", app.base));
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(issue["commentWithoutExternalMessageCount"], 1);
    assert!(issue["lastCommentUpdatedAt"].is_string());
    assert_eq!(
        issue["followers"][0]["display"], "Alice Archer",
        "commenters follow the issue"
    );

    let edited = json!({"text": "edited"});
    app.patch(&path).json(edited).await.status(200);
    let got: Value = app.read(&path).await;
    assert_eq!(got["text"], "edited");
    assert_eq!(got["version"], 2);
    let long_id = c["longId"].as_str().unwrap();
    let by_long: Value = app
        .read(&format!("/v2/issues/TEST-1/comments/{long_id}"))
        .await;
    assert_eq!(by_long["id"], id);

    app.delete(&path).await.status(204);
    app.get(&path).await.error(404);
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(issue["commentWithoutExternalMessageCount"], 0);
}

async fn comment_lists_page_by_id_cursor_with_next_links(app: TestApp) {
    app.create_test_issue("x").await;
    for i in 0..5 {
        comment(&app, ALICE, &format!("c{i}")).await.status(201);
    }
    let mut path = "/v2/issues/TEST-1/comments?perPage=2".to_owned();
    let mut texts = Vec::new();
    loop {
        let r = app.get(&path).await.status(200);
        let page: Vec<Value> = r.json();
        texts.extend(page.iter().map(|c| c["text"].as_str().unwrap().to_owned()));
        let Some(l) = r.headers().get("link") else {
            break;
        };
        let l = l.to_str().unwrap();
        assert!(l.ends_with("rel=\"next\""), "{l}");
        let next = &l[1..l.find('>').unwrap()];
        path = next.strip_prefix(&app.base).unwrap().to_owned();
    }
    assert_eq!(texts, ["c0", "c1", "c2", "c3", "c4"]);
}

async fn a_comment_needs_text(app: TestApp) {
    app.create_test_issue("x").await;
    let r = app.post("/v2/issues/TEST-1/comments").json(json!({})).await;
    let body = r.error(422);
    assert!(body["errors"]["text"].is_string());
}

async fn only_the_author_or_an_admin_edits_a_comment(app: TestApp) {
    app.create_test_issue("x").await;
    let c: Value = comment(&app, CAROL_EXPIRING, "carol's").await.json();
    let id = c["id"].as_i64().unwrap();
    // Alice administers the organization.
    let moderated = json!({"text": "moderated"});
    let path = format!("/v2/issues/TEST-1/comments/{id}");
    app.patch(&path).json(moderated).await.status(200);
    let c: Value = comment(&app, ALICE, "alice's").await.json();
    let path = format!("/v2/issues/TEST-1/comments/{}", c["id"]);
    app.delete(&path).token(CAROL_EXPIRING).await.error(403);
}

async fn the_changelog_records_every_kind_of_change(app: TestApp) {
    app.create_test_issue("x").await;
    app.create_test_issue("other").await;
    let edit = json!({"priority": "blocker", "assignee": "bob"});
    app.patch("/v2/issues/TEST-1").json(edit).await;
    comment(&app, ALICE, "note").await;
    app.post("/v2/issues/TEST-1/transitions/start_progress/_execute")
        .await;
    let link = json!({"relationship": "relates", "issue": "TEST-2"});
    app.post("/v2/issues/TEST-1/links").json(link).await;
    let log: Vec<Value> = app.read("/v2/issues/TEST-1/changelog").await;
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
    let change_of = |field: &str| {
        log[1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"]["id"] == field)
            .unwrap()
            .clone()
    };
    let priority = change_of("priority");
    assert_eq!(priority["from"]["key"], "normal");
    assert_eq!(priority["to"]["key"], "blocker");
    let assignee = change_of("assignee");
    assert!(assignee["from"].is_null());
    assert_eq!(assignee["to"]["display"], "Bob Baker");
    assert_eq!(log[3]["fields"][0]["from"]["key"], "open");
    assert_eq!(log[3]["fields"][0]["to"]["key"], "inProgress");
    assert_eq!(log[4]["links"][0]["object"]["key"], "TEST-2");
    assert_eq!(log[0]["updatedBy"]["display"], "Alice Archer");
    assert_eq!(log[0]["issue"]["key"], "TEST-1");
    // The other end of the link has its own entry.
    let other: Vec<Value> = app.read("/v2/issues/TEST-2/changelog").await;
    assert_eq!(other.last().unwrap()["type"], "IssueLinked");
}

async fn the_changelog_pages_and_filters_by_field_and_type(app: TestApp) {
    app.create_test_issue("s0").await;
    for i in 1..=4 {
        let edit = json!({"summary": format!("s{i}")});
        app.patch("/v2/issues/TEST-1").json(edit).await;
    }
    let edit = json!({"priority": "minor"});
    app.patch("/v2/issues/TEST-1").json(edit).await;
    let r = app.get("/v2/issues/TEST-1/changelog?perPage=2").await;
    let link = r.header("link");
    let first: Vec<Value> = r.json();
    assert_eq!(first.len(), 2);
    assert!(
        link.contains(&format!("id={}", first[1]["id"].as_str().unwrap())),
        "{link}"
    );
    let by_field: Vec<Value> = app.read("/v2/issues/TEST-1/changelog?field=priority").await;
    assert_eq!(by_field.len(), 1);
    let by_type: Vec<Value> = app
        .read("/v2/issues/TEST-1/changelog?type=IssueUpdated")
        .await;
    assert_eq!(by_type.len(), 5);
}
