//! An issue's checklist.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    checklist_items_are_added_listed_changed_moved_and_removed_with_the_counters,
    the_whole_checklist_is_replaced_in_the_order_given_and_cleared,
    checklist_items_carry_assignee_and_deadline_with_whether_it_passed,
    bad_checklist_items_are_refused_and_nothing_is_written,
    a_read_only_token_cannot_change_a_checklist_and_another_organization_sees_nothing,
);

const ITEMS: &str = "/v2/issues/TEST-1/checklistItems";

fn item(id: &Value) -> String {
    format!("{ITEMS}/{}", id.as_str().unwrap())
}

fn texts(issue: &Value) -> Vec<String> {
    let items = issue["checklistItems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(issue: &Value) -> Vec<Value> {
    let items = issue["checklistItems"].as_array().unwrap();
    items.iter().map(|i| i["id"].clone()).collect()
}

/// Sends `call` as Alice and reads the issue it answers.
async fn issue(call: Call) -> Value {
    call.await.status(200).json()
}

async fn checklist_items_are_added_listed_changed_moved_and_removed_with_the_counters(
    app: TestApp,
) {
    app.create_test_issue("x").await;
    let one = issue(app.post(ITEMS).json(json!({"text": "one"}))).await;
    assert_eq!(one["key"], "TEST-1", "the answer is the issue");
    assert_eq!(texts(&one), ["one"]);
    assert_eq!(
        (one["checklistTotal"].clone(), one["checklistDone"].clone()),
        (json!(1), json!(0))
    );
    let more = json!([{"text": "two", "checked": true}, {"text": "three"}]);
    let three = issue(app.post(ITEMS).json(more)).await;
    assert_eq!(texts(&three), ["one", "two", "three"]);
    assert_eq!(three["checklistDone"], 1);
    let ids = ids(&three);
    assert_ne!(ids[1], ids[2]);

    let list: Value = app.read_as(ITEMS, BOB_RO).await;
    assert_eq!(
        (list[1]["text"].clone(), list[1]["checked"].clone()),
        (json!("two"), json!(true))
    );
    assert_eq!(list[1]["checklistItemType"], "standard");
    assert_eq!(list[1]["self"], format!("{}{}", app.base, item(&ids[1])));

    let change = json!({"checked": true, "text": "one <b>"});
    let changed = issue(app.patch(&item(&ids[0])).json(change)).await;
    assert_eq!(changed["checklistDone"], 2);
    assert_eq!(changed["checklistItems"][0]["textHtml"], "one &lt;b&gt;");

    // Three before two, then one to the end.
    let move_to = |id: &Value, body: Value| app.post(&format!("{}/_move", item(id))).json(body);
    let moved = issue(move_to(&ids[2], json!({"before": ids[1]}))).await;
    assert_eq!(texts(&moved), ["one <b>", "three", "two"]);
    let moved = issue(move_to(&ids[0], json!({}))).await;
    assert_eq!(texts(&moved), ["three", "two", "one <b>"]);

    let removed = issue(app.delete(&item(&ids[1]))).await;
    assert_eq!(texts(&removed), ["three", "one <b>"]);
    assert_eq!(removed["checklistTotal"], 2);
    app.delete(&item(&ids[1])).await.error(404);
    move_to(&ids[0], json!({"before": ids[1]})).await.error(404);

    let changelog: Value = app
        .read("/v2/issues/TEST-1/changelog?field=checklistItems")
        .await;
    assert_eq!(changelog.as_array().unwrap().len(), 6, "{changelog}");
}

async fn the_whole_checklist_is_replaced_in_the_order_given_and_cleared(app: TestApp) {
    app.create_test_issue("x").await;
    let abc = json!([{"text": "a"}, {"text": "b"}, {"text": "c"}]);
    let ids = ids(&issue(app.post(ITEMS).json(abc)).await);
    let all = json!([{"id": ids[2], "text": "C", "checked": true}, {"id": ids[0], "text": "a"}]);
    let replaced = issue(app.patch(ITEMS).json(all)).await;
    assert_eq!(texts(&replaced), ["C", "a"]);
    assert_eq!(replaced["checklistDone"], 1);
    let gone = json!([{"id": ids[1], "text": "gone"}]);
    app.patch(ITEMS).json(gone).await.error(404);
    let twice = json!([{"id": ids[0], "text": "x"}, {"id": ids[0], "text": "y"}]);
    app.patch(ITEMS).json(twice).await.error(422);
    let cleared = issue(app.delete(ITEMS)).await;
    assert!(cleared.get("checklistItems").is_none(), "{cleared}");
    assert!(cleared.get("checklistTotal").is_none());
    assert_eq!(app.read::<Value>(ITEMS).await, json!([]));
}

async fn checklist_items_carry_assignee_and_deadline_with_whether_it_passed(app: TestApp) {
    app.create_test_issue("x").await;
    // The test clock stands at 2026-01-15 12:00 UTC.
    let items = json!([
        {"text": "late", "assignee": "bob", "url": "https://example.test/1",
         "deadline": {"date": "2026-01-10T00:00:00.000+0000", "deadlineType": "date"}},
        {"text": "soon", "deadline": {"date": "2026-02-01T00:00:00.000+0000"}},
    ]);
    let added = issue(app.post(ITEMS).json(items)).await;
    let late = &added["checklistItems"][0];
    assert_eq!(late["assignee"]["display"], "Bob Baker");
    assert_eq!(late["url"], "https://example.test/1");
    let deadline =
        json!({"date": "2026-01-10T00:00:00.000+0000", "deadlineType": "date", "isExceeded": true});
    assert_eq!(late["deadline"], deadline);
    assert_eq!(added["checklistItems"][1]["deadline"]["isExceeded"], false);
    let clear = json!({"assignee": null, "deadline": null, "url": null});
    let cleared = issue(app.patch(&item(&late["id"])).json(clear)).await;
    for field in ["assignee", "deadline", "url"] {
        assert!(cleared["checklistItems"][0].get(field).is_none(), "{field}");
    }
}

async fn bad_checklist_items_are_refused_and_nothing_is_written(app: TestApp) {
    app.create_test_issue("x").await;
    let past = "2026-01-10T00:00:00.000+0000";
    for (body, field) in [
        (json!({}), "text"),
        (json!({"text": "  "}), "text"),
        (json!({"text": 5}), "text"),
        (json!({"text": "x", "checked": "yes"}), "checked"),
        (json!({"text": "x", "assignee": "nobody"}), "assignee"),
        (json!({"text": "x", "url": 1}), "url"),
        (
            json!({"text": "x", "deadline": {"date": "soon"}}),
            "deadline",
        ),
        (
            json!({"text": "x", "deadline": {"date": past, "deadlineType": "week"}}),
            "deadline",
        ),
        (json!([{"text": "ok"}, {"text": ""}]), "text"),
    ] {
        let e = app.post(ITEMS).json(&body).await.error(422);
        assert!(e["errors"].get(field).is_some(), "{body} -> {e}");
    }
    app.post(ITEMS).json(json!("text")).await.error(400);
    let too_many: Vec<Value> = (0..1001).map(|i| json!({"text": i.to_string()})).collect();
    app.post(ITEMS).json(too_many).await.error(400);
    assert_eq!(app.read::<Value>(ITEMS).await, json!([]));
    let missing = "/v2/issues/TEST-9/checklistItems";
    app.post(missing)
        .json(json!({"text": "x"}))
        .await
        .error(404);
}

async fn a_read_only_token_cannot_change_a_checklist_and_another_organization_sees_nothing(
    app: TestApp,
) {
    app.create_test_issue("x").await;
    app.post(ITEMS)
        .token(BOB_RO)
        .json(json!({"text": "x"}))
        .await
        .error(403);
    app.delete(ITEMS).token(BOB_RO).await.error(403);
    let mallory = |call: Call| call.token(MALLORY).org(OTHER);
    mallory(app.get(ITEMS)).await.error(404);
    mallory(app.post(ITEMS))
        .json(json!({"text": "x"}))
        .await
        .error(404);
}
