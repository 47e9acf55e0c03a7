//! An issue's checklist.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    checklist_items_are_added_listed_changed_moved_and_removed_with_the_counters,
    the_whole_checklist_is_replaced_in_the_order_given_and_cleared,
    checklist_items_carry_assignee_and_deadline_with_whether_it_passed,
    bad_checklist_items_are_refused_and_nothing_is_written,
    a_read_only_token_cannot_change_a_checklist_and_another_organization_sees_nothing,
);

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.as_user(method, path, token, ACME);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn texts(issue: &Value) -> Vec<String> {
    issue["checklistItems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["text"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

const ITEMS: &str = "/v2/issues/TEST-1/checklistItems";

async fn checklist_items_are_added_listed_changed_moved_and_removed_with_the_counters(
    app: TestApp,
) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        ITEMS,
        Some(json!({"text": "one"})),
    )
    .await)
    .await;
    assert_eq!(issue["key"], "TEST-1", "the answer is the issue");
    assert_eq!(texts(&issue), ["one"]);
    assert_eq!(issue["checklistTotal"], 1);
    assert_eq!(issue["checklistDone"], 0);
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        ITEMS,
        Some(json!([{"text": "two", "checked": true}, {"text": "three"}])),
    )
    .await)
    .await;
    assert_eq!(texts(&issue), ["one", "two", "three"]);
    assert_eq!(issue["checklistDone"], 1);
    let ids: Vec<String> = issue["checklistItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[1], ids[2]);

    let list = ok(app.get_as(ITEMS, BOB_RO).await).await;
    assert_eq!(list[1]["text"], "two");
    assert_eq!(list[1]["checked"], true);
    assert_eq!(list[1]["checklistItemType"], "standard");

    let issue = ok(send(
        &app,
        ALICE,
        Method::PATCH,
        &format!("{ITEMS}/{}", ids[0]),
        Some(json!({"checked": true, "text": "one <b>"})),
    )
    .await)
    .await;
    assert_eq!(issue["checklistDone"], 2);
    assert_eq!(issue["checklistItems"][0]["textHtml"], "one &lt;b&gt;");

    // Three before two, then one to the end.
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        &format!("{ITEMS}/{}/_move", ids[2]),
        Some(json!({"before": ids[1]})),
    )
    .await)
    .await;
    assert_eq!(texts(&issue), ["one <b>", "three", "two"]);
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        &format!("{ITEMS}/{}/_move", ids[0]),
        Some(json!({})),
    )
    .await)
    .await;
    assert_eq!(texts(&issue), ["three", "two", "one <b>"]);

    let issue = ok(send(
        &app,
        ALICE,
        Method::DELETE,
        &format!("{ITEMS}/{}", ids[1]),
        None,
    )
    .await)
    .await;
    assert_eq!(texts(&issue), ["three", "one <b>"]);
    assert_eq!(issue["checklistTotal"], 2);
    envelope(
        send(
            &app,
            ALICE,
            Method::DELETE,
            &format!("{ITEMS}/{}", ids[1]),
            None,
        )
        .await,
        404,
    )
    .await;
    envelope(
        send(
            &app,
            ALICE,
            Method::POST,
            &format!("{ITEMS}/{}/_move", ids[0]),
            Some(json!({"before": ids[1]})),
        )
        .await,
        404,
    )
    .await;

    let changelog = ok(app
        .get_as("/v2/issues/TEST-1/changelog?field=checklistItems", ALICE)
        .await)
    .await;
    assert_eq!(changelog.as_array().unwrap().len(), 6, "{changelog}");
}

async fn the_whole_checklist_is_replaced_in_the_order_given_and_cleared(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        ITEMS,
        Some(json!([{"text": "a"}, {"text": "b"}, {"text": "c"}])),
    )
    .await)
    .await;
    let ids: Vec<Value> = issue["checklistItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    let issue = ok(send(
        &app,
        ALICE,
        Method::PATCH,
        ITEMS,
        Some(json!([{"id": ids[2], "text": "C", "checked": true}, {"id": ids[0], "text": "a"}])),
    )
    .await)
    .await;
    assert_eq!(texts(&issue), ["C", "a"]);
    assert_eq!(issue["checklistDone"], 1);
    envelope(
        send(
            &app,
            ALICE,
            Method::PATCH,
            ITEMS,
            Some(json!([{"id": ids[1], "text": "gone"}])),
        )
        .await,
        404,
    )
    .await;
    envelope(
        send(
            &app,
            ALICE,
            Method::PATCH,
            ITEMS,
            Some(json!([{"id": ids[0], "text": "x"}, {"id": ids[0], "text": "y"}])),
        )
        .await,
        422,
    )
    .await;
    let issue = ok(send(&app, ALICE, Method::DELETE, ITEMS, None).await).await;
    assert!(issue.get("checklistItems").is_none(), "{issue}");
    assert!(issue.get("checklistTotal").is_none());
    assert_eq!(ok(app.get_as(ITEMS, ALICE).await).await, json!([]));
}

async fn checklist_items_carry_assignee_and_deadline_with_whether_it_passed(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    // The test clock stands at 2026-01-15 12:00 UTC.
    let issue = ok(send(
        &app,
        ALICE,
        Method::POST,
        ITEMS,
        Some(json!([
            {"text": "late", "assignee": "bob", "deadline": {"date": "2026-01-10T00:00:00.000+0000", "deadlineType": "date"}},
            {"text": "soon", "deadline": {"date": "2026-02-01T00:00:00.000+0000"}},
        ])),
    )
    .await)
    .await;
    let late = &issue["checklistItems"][0];
    assert_eq!(late["assignee"]["display"], "Bob Baker");
    assert_eq!(late["deadline"]["date"], "2026-01-10T00:00:00.000+0000");
    assert_eq!(late["deadline"]["deadlineType"], "date");
    assert_eq!(late["deadline"]["isExceeded"], true);
    assert_eq!(issue["checklistItems"][1]["deadline"]["isExceeded"], false);
    let id = late["id"].as_str().unwrap();
    let issue = ok(send(
        &app,
        ALICE,
        Method::PATCH,
        &format!("{ITEMS}/{id}"),
        Some(json!({"assignee": null, "deadline": null})),
    )
    .await)
    .await;
    assert!(issue["checklistItems"][0].get("assignee").is_none());
    assert!(issue["checklistItems"][0].get("deadline").is_none());
}

async fn bad_checklist_items_are_refused_and_nothing_is_written(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    for (body, field) in [
        (json!({}), "text"),
        (json!({"text": "  "}), "text"),
        (json!({"text": 5}), "text"),
        (json!({"text": "x", "checked": "yes"}), "checked"),
        (json!({"text": "x", "assignee": "nobody"}), "assignee"),
        (
            json!({"text": "x", "deadline": {"date": "soon"}}),
            "deadline",
        ),
        (
            json!({"text": "x", "deadline": {"date": "2026-01-10T00:00:00.000+0000", "deadlineType": "week"}}),
            "deadline",
        ),
        (json!([{"text": "ok"}, {"text": ""}]), "text"),
    ] {
        let e = envelope(
            send(&app, ALICE, Method::POST, ITEMS, Some(body.clone())).await,
            422,
        )
        .await;
        assert!(e["errors"].get(field).is_some(), "{body} -> {e}");
    }
    envelope(
        send(&app, ALICE, Method::POST, ITEMS, Some(json!("text"))).await,
        400,
    )
    .await;
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"text": i.to_string()})).collect();
    envelope(
        send(
            &app,
            ALICE,
            Method::POST,
            ITEMS,
            Some(Value::Array(too_many)),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(ok(app.get_as(ITEMS, ALICE).await).await, json!([]));
    envelope(
        send(
            &app,
            ALICE,
            Method::POST,
            "/v2/issues/TEST-9/checklistItems",
            Some(json!({"text": "x"})),
        )
        .await,
        404,
    )
    .await;
}

async fn a_read_only_token_cannot_change_a_checklist_and_another_organization_sees_nothing(
    app: TestApp,
) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    envelope(
        send(
            &app,
            BOB_RO,
            Method::POST,
            ITEMS,
            Some(json!({"text": "x"})),
        )
        .await,
        403,
    )
    .await;
    envelope(send(&app, BOB_RO, Method::DELETE, ITEMS, None).await, 403).await;
    let r = app
        .as_user(Method::GET, ITEMS, MALLORY, OTHER)
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    let r = app
        .as_user(Method::POST, ITEMS, MALLORY, OTHER)
        .json(&json!({"text": "x"}))
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
}
