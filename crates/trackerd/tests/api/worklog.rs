//! Records of time spent: on an issue, and searched across the organization.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    worklog_records_are_added_listed_edited_and_deleted_and_spent_follows,
    durations_are_answered_in_business_weeks_and_days,
    a_worklog_record_needs_a_start_and_a_valid_duration,
    only_the_author_or_an_admin_changes_a_worklog_record,
    a_read_only_token_cannot_add_time_and_another_organization_sees_nothing,
    worklog_search_finds_records_by_author_and_creation_time_get_and_post,
    worklog_search_leaves_out_issues_the_caller_cannot_read,
);

const WORKLOG: &str = "/v2/issues/TEST-1/worklog";

fn hour() -> Value {
    json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"})
}

/// Adds a record to `key` as `token`, expecting 201.
async fn add(app: &TestApp, token: &str, key: &str, body: Value) -> Value {
    let path = format!("/v2/issues/{key}/worklog");
    app.post(&path)
        .token(token)
        .json(body)
        .await
        .status(201)
        .json()
}

async fn spent(app: &TestApp) -> Value {
    let issue: Value = app.read("/v2/issues/TEST-1").await;
    issue["spent"].clone()
}

async fn worklog_records_are_added_listed_edited_and_deleted_and_spent_follows(app: TestApp) {
    app.create_test_issue("x").await;
    let body = json!({"start": "2021-09-21T15:30:00.000+0500", "duration": "PT1H30M", "comment": "design"});
    let w = add(&app, ALICE, "TEST-1", body).await;
    let id = w["id"].as_i64().unwrap();
    assert_eq!(w["self"], format!("{}{WORKLOG}/{id}", app.base));
    assert_eq!(w["issue"]["key"], "TEST-1");
    assert_eq!(w["comment"], "design");
    assert_eq!(w["duration"], "PT1H30M");
    assert_eq!(w["start"], "2021-09-21T10:30:00.000+0000");
    assert_eq!(w["createdBy"]["id"], w["updatedBy"]["id"]);
    assert_eq!(w["version"], 1);
    assert_eq!(spent(&app).await, "PT1H30M");

    let seven = json!({"start": "2021-09-22T09:00:00.000+0000", "duration": "PT7H"});
    let second = add(&app, ALICE, "TEST-1", seven).await;
    assert!(second.get("comment").is_none());
    assert_eq!(spent(&app).await, "P1DT30M", "8 h are a business day");
    let list: Value = app.read(WORKLOG).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id);

    let path = format!("{WORKLOG}/{id}");
    let change = json!({"duration": "PT2H", "comment": "design, again"});
    let edited: Value = app.edit(&path, change).await;
    assert_eq!(edited["duration"], "PT2H");
    assert_eq!(edited["comment"], "design, again");
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["start"], w["start"],
        "an edit keeps what it does not name"
    );
    assert_eq!(spent(&app).await, "P1DT1H");
    // The official client sends the version it read; a stale one is refused.
    let stale = app.patch(&path).header("If-Match", "\"1\"");
    stale.json(json!({"duration": "PT9H"})).await.error(412);

    let second = format!("{WORKLOG}/{}", second["id"]);
    app.delete(&second).await.status(204);
    assert_eq!(spent(&app).await, "PT2H");
    app.get(&second).await.error(405);
    app.delete(&second).await.error(404);

    let changelog: Value = app.read("/v2/issues/TEST-1/changelog").await;
    let kinds: Vec<&str> = changelog
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|t| t.contains("Worklog"))
        .collect();
    assert_eq!(
        kinds,
        [
            "IssueWorklogAdded",
            "IssueWorklogAdded",
            "IssueWorklogChanged",
            "IssueWorklogRemoved"
        ]
    );
}

async fn durations_are_answered_in_business_weeks_and_days(app: TestApp) {
    app.create_test_issue("x").await;
    for (sent, answered) in [
        ("P5DT20M", "P1WT20M"),
        ("P6W", "P6W"),
        ("PT300M", "PT5H"),
        ("P0Y0M30DT2H10M25S", "P6WT2H10M25S"),
    ] {
        let body = json!({"start": "2021-09-21T15:30:00.000+0000", "duration": sent});
        assert_eq!(
            add(&app, ALICE, "TEST-1", body).await["duration"],
            answered,
            "{sent}"
        );
    }
}

async fn a_worklog_record_needs_a_start_and_a_valid_duration(app: TestApp) {
    app.create_test_issue("x").await;
    let start = "2021-09-21T15:30:00.000+0000";
    for (body, field) in [
        (json!({"duration": "PT1H"}), "start"),
        (json!({"start": "yesterday", "duration": "PT1H"}), "start"),
        (json!({"start": start}), "duration"),
        (json!({"start": start, "duration": "1h"}), "duration"),
        (json!({"start": start, "duration": "P1000Y"}), "duration"),
        (json!({"start": start, "duration": 60}), "duration"),
        (
            json!({"start": start, "duration": "PT1H", "comment": 5}),
            "comment",
        ),
    ] {
        let e = app.post(WORKLOG).json(&body).await.error(422);
        assert!(e["errors"].get(field).is_some(), "{body} -> {e}");
    }
    assert_eq!(spent(&app).await, Value::Null, "nothing was written");
    app.post("/v2/issues/TEST-404/worklog")
        .json(hour())
        .await
        .error(404);
}

async fn only_the_author_or_an_admin_changes_a_worklog_record(app: TestApp) {
    app.create_test_issue("x").await;
    let alices = format!(
        "{WORKLOG}/{}",
        add(&app, ALICE, "TEST-1", hour()).await["id"]
    );
    let carol = |call: Call| call.token(CAROL_EXPIRING);
    carol(app.patch(&alices))
        .json(json!({"duration": "PT9H"}))
        .await
        .error(403);
    carol(app.delete(&alices)).await.error(403);
    // Carol's own record is hers to change; Alice administers the organization.
    let carols = add(&app, CAROL_EXPIRING, "TEST-1", hour()).await;
    let carols = format!("{WORKLOG}/{}", carols["id"]);
    for token in [CAROL_EXPIRING, ALICE] {
        let change = json!({"comment": token});
        app.patch(&carols)
            .token(token)
            .json(change)
            .await
            .status(200);
    }
    assert_eq!(spent(&app).await, "PT2H");
}

async fn a_read_only_token_cannot_add_time_and_another_organization_sees_nothing(app: TestApp) {
    app.create_test_issue("x").await;
    app.post(WORKLOG)
        .token(BOB_RO)
        .json(hour())
        .await
        .error(403);
    let path = format!(
        "{WORKLOG}/{}",
        add(&app, ALICE, "TEST-1", hour()).await["id"]
    );
    let change = json!({"duration": "PT2H"});
    app.patch(&path).token(BOB_RO).json(change).await.error(403);
    // Bob may read what Alice logged.
    let list: Value = app.read_as(WORKLOG, BOB_RO).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    let mallory = |call: Call| call.token(MALLORY).org(OTHER);
    mallory(app.get(WORKLOG)).await.error(404);
    let found = mallory(app.post("/v2/worklog/_search"))
        .json(json!({}))
        .await;
    assert_eq!(found.status(200).json::<Value>(), json!([]));
}

async fn worklog_search_finds_records_by_author_and_creation_time_get_and_post(app: TestApp) {
    app.create_test_issue("x").await;
    let early = add(&app, ALICE, "TEST-1", hour()).await["id"].clone();
    app.clock.advance(chrono::Duration::hours(2));
    let late = add(&app, CAROL_EXPIRING, "TEST-1", hour()).await["id"].clone();

    let ids = |found: Value| -> Vec<Value> {
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].clone())
            .collect()
    };
    let search = |body: Value| {
        let call = app.post("/v2/worklog/_search").token(BOB_RO).json(body);
        async move { ids(call.await.status(200).json()) }
    };
    assert_eq!(search(json!({})).await, [early.clone(), late.clone()]);
    assert_eq!(search(json!({"createdBy": "carol"})).await, [late]);
    assert_eq!(
        search(json!({"createdBy": "nobody"})).await,
        Vec::<Value>::new()
    );
    let between = json!({"createdAt": {
        "from": "2026-01-15T11:00:00.000+0000",
        "to": "2026-01-15T13:00:00"
    }});
    assert_eq!(search(between).await, std::slice::from_ref(&early));

    let query = "createdBy=alice&createdAt=from:2026-01-15T11:00:00.000%2B0000\
                 &createdAt=to:2026-01-16T00:00:00.000%2B0000";
    let found = app.get(&format!("/v2/worklog?{query}")).token(BOB_RO).await;
    assert_eq!(ids(found.status(200).json()), [early]);
    app.get("/v2/worklog?createdAt=yesterday")
        .token(BOB_RO)
        .await
        .error(400);
    let bad = json!({"createdAt": {"from": "not a time"}});
    app.post("/v2/worklog/_search")
        .token(BOB_RO)
        .json(bad)
        .await
        .error(422);
}

async fn worklog_search_leaves_out_issues_the_caller_cannot_read(app: TestApp) {
    app.create_test_issue("closed").await;
    app.create_issue(json!({"queue": "OPS", "summary": "open"}))
        .await;
    // From now on only Alice reads TEST (Bob leads OPS).
    let only_alice = json!({"groups": [], "roles": [], "users": ["alice"]});
    let rules = json!({"create": only_alice, "write": only_alice, "read": only_alice});
    app.patch("/v2/queues/TEST/permissions")
        .json(rules)
        .await
        .status(200);
    for key in ["TEST-1", "OPS-1"] {
        add(&app, ALICE, key, hour()).await;
    }
    let keys = |found: Value| -> Vec<String> {
        let found = found.as_array().unwrap().iter();
        found
            .map(|w| w["issue"]["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app.post("/v2/worklog/_search").json(json!({})).await;
    assert_eq!(keys(all.status(200).json()), ["TEST-1", "OPS-1"]);
    let bobs = app
        .post("/v2/worklog/_search")
        .token(BOB_RO)
        .json(json!({}))
        .await;
    assert_eq!(keys(bobs.status(200).json()), ["OPS-1"]);
}
