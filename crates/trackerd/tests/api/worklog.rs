//! Records of time spent: on an issue, and searched across the organization.

use reqwest::Method;
use serde_json::{json, Value};

use crate::issues::create_issue;
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

async fn add(app: &TestApp, token: &str, key: &str, body: Value) -> reqwest::Response {
    app.as_user(
        Method::POST,
        &format!("/v2/issues/{key}/worklog"),
        token,
        ACME,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

async fn spent(app: &TestApp, key: &str) -> Value {
    let issue: Value = app
        .get_as(&format!("/v2/issues/{key}"), ALICE)
        .await
        .json()
        .await
        .unwrap();
    issue["spent"].clone()
}

async fn worklog_records_are_added_listed_edited_and_deleted_and_spent_follows(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let r = add(
        &app,
        ALICE,
        "TEST-1",
        json!({"start": "2021-09-21T15:30:00.000+0500", "duration": "PT1H30M", "comment": "design"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let w: Value = r.json().await.unwrap();
    let id = w["id"].as_i64().unwrap();
    assert_eq!(
        w["self"],
        format!("{}/v2/issues/TEST-1/worklog/{id}", app.base)
    );
    assert_eq!(w["issue"]["key"], "TEST-1");
    assert_eq!(w["comment"], "design");
    assert_eq!(w["duration"], "PT1H30M");
    assert_eq!(w["start"], "2021-09-21T10:30:00.000+0000");
    assert_eq!(w["createdBy"]["id"], w["updatedBy"]["id"]);
    assert_eq!(w["version"], 1);
    assert_eq!(spent(&app, "TEST-1").await, "PT1H30M");

    let second = add(
        &app,
        ALICE,
        "TEST-1",
        json!({"start": "2021-09-22T09:00:00.000+0000", "duration": "PT7H"}),
    )
    .await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert!(second.get("comment").is_none());
    assert_eq!(
        spent(&app, "TEST-1").await,
        "P1DT30M",
        "8 h are a business day"
    );

    let list: Value = app
        .get_as("/v2/issues/TEST-1/worklog", ALICE)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id);

    let r = app
        .as_user(
            Method::PATCH,
            &format!("/v2/issues/TEST-1/worklog/{id}"),
            ALICE,
            ACME,
        )
        .json(&json!({"duration": "PT2H", "comment": "design, again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["duration"], "PT2H");
    assert_eq!(edited["comment"], "design, again");
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["start"], w["start"],
        "an edit keeps what it does not name"
    );
    // The official client sends the version it read; a stale one is refused.
    let r = app
        .as_user(
            Method::PATCH,
            &format!("/v2/issues/TEST-1/worklog/{id}"),
            ALICE,
            ACME,
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"duration": "PT9H"}))
        .send()
        .await
        .unwrap();
    envelope(r, 412).await;
    assert_eq!(spent(&app, "TEST-1").await, "P1DT1H");

    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v2/issues/TEST-1/worklog/{}", second["id"]),
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(spent(&app, "TEST-1").await, "PT2H");
    let r = app
        .get_as(
            &format!("/v2/issues/TEST-1/worklog/{}", second["id"]),
            ALICE,
        )
        .await;
    assert_eq!(r.status(), 405, "a record is read through the list");
    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v2/issues/TEST-1/worklog/{}", second["id"]),
            ALICE,
            ACME,
        )
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;

    let changelog: Value = app
        .get_as("/v2/issues/TEST-1/changelog", ALICE)
        .await
        .json()
        .await
        .unwrap();
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
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    for (sent, answered) in [
        ("P5DT20M", "P1WT20M"),
        ("P6W", "P6W"),
        ("PT300M", "PT5H"),
        ("P0Y0M30DT2H10M25S", "P6WT2H10M25S"),
    ] {
        let r = add(
            &app,
            ALICE,
            "TEST-1",
            json!({"start": "2021-09-21T15:30:00.000+0000", "duration": sent}),
        )
        .await;
        assert_eq!(r.status(), 201, "{sent}");
        let w: Value = r.json().await.unwrap();
        assert_eq!(w["duration"], answered, "{sent}");
    }
}

async fn a_worklog_record_needs_a_start_and_a_valid_duration(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    for (body, field) in [
        (json!({"duration": "PT1H"}), "start"),
        (json!({"start": "yesterday", "duration": "PT1H"}), "start"),
        (json!({"start": "2021-09-21T15:30:00.000+0000"}), "duration"),
        (
            json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "1h"}),
            "duration",
        ),
        (
            json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "P1000Y"}),
            "duration",
        ),
        (
            json!({"start": "2021-09-21T15:30:00.000+0000", "duration": 60}),
            "duration",
        ),
        (
            json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H", "comment": 5}),
            "comment",
        ),
    ] {
        let r = add(&app, ALICE, "TEST-1", body.clone()).await;
        let e = envelope(r, 422).await;
        assert!(e["errors"].get(field).is_some(), "{body} -> {e}");
    }
    assert_eq!(
        spent(&app, "TEST-1").await,
        Value::Null,
        "nothing was written"
    );
    let r = add(
        &app,
        ALICE,
        "TEST-404",
        json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"}),
    )
    .await;
    envelope(r, 404).await;
}

async fn only_the_author_or_an_admin_changes_a_worklog_record(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let body = json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"});
    let w: Value = add(&app, ALICE, "TEST-1", body.clone())
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v2/issues/TEST-1/worklog/{}", w["id"]);
    let r = app
        .as_user(Method::PATCH, &path, CAROL_EXPIRING, ACME)
        .json(&json!({"duration": "PT9H"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(Method::DELETE, &path, CAROL_EXPIRING, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    // Carol's own record is hers to change; Alice administers the organization.
    let mine: Value = add(&app, CAROL_EXPIRING, "TEST-1", body)
        .await
        .json()
        .await
        .unwrap();
    let mine_path = format!("/v2/issues/TEST-1/worklog/{}", mine["id"]);
    for token in [CAROL_EXPIRING, ALICE] {
        let r = app
            .as_user(Method::PATCH, &mine_path, token, ACME)
            .json(&json!({"comment": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(spent(&app, "TEST-1").await, "PT2H");
}

async fn a_read_only_token_cannot_add_time_and_another_organization_sees_nothing(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let body = json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"});
    envelope(add(&app, BOB_RO, "TEST-1", body.clone()).await, 403).await;
    let w: Value = add(&app, ALICE, "TEST-1", body).await.json().await.unwrap();
    let r = app
        .as_user(
            Method::PATCH,
            &format!("/v2/issues/TEST-1/worklog/{}", w["id"]),
            BOB_RO,
            ACME,
        )
        .json(&json!({"duration": "PT2H"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    // Bob may read what Alice logged.
    let list: Value = app
        .get_as("/v2/issues/TEST-1/worklog", BOB_RO)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let r = app
        .as_user(Method::GET, "/v2/issues/TEST-1/worklog", MALLORY, OTHER)
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    let r = app
        .as_user(Method::POST, "/v2/worklog/_search", MALLORY, OTHER)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
}

async fn worklog_search_finds_records_by_author_and_creation_time_get_and_post(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "x"})).await;
    let body = json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"});
    let early: Value = add(&app, ALICE, "TEST-1", body.clone())
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(2));
    let late: Value = add(&app, CAROL_EXPIRING, "TEST-1", body)
        .await
        .json()
        .await
        .unwrap();

    let search = |body: Value| {
        let app = &app;
        async move {
            let r = app
                .as_user(Method::POST, "/v2/worklog/_search", BOB_RO, ACME)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let found: Value = r.json().await.unwrap();
            found
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(json!({})).await,
        [early["id"].clone(), late["id"].clone()]
    );
    assert_eq!(
        search(json!({"createdBy": "carol"})).await,
        [late["id"].clone()]
    );
    assert_eq!(
        search(json!({"createdBy": "nobody"})).await,
        Vec::<Value>::new()
    );
    let between = json!({"createdAt": {
        "from": "2026-01-15T11:00:00.000+0000",
        "to": "2026-01-15T13:00:00"
    }});
    assert_eq!(search(between).await, [early["id"].clone()]);

    let r = app
        .get_as(
            "/v2/worklog?createdBy=alice&createdAt=from:2026-01-15T11:00:00.000%2B0000&createdAt=to:2026-01-16T00:00:00.000%2B0000",
            BOB_RO,
        )
        .await;
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], early["id"]);
    let r = app.get_as("/v2/worklog?createdAt=yesterday", BOB_RO).await;
    envelope(r, 400).await;
    let r = app
        .as_user(Method::POST, "/v2/worklog/_search", BOB_RO, ACME)
        .json(&json!({"createdAt": {"from": "not a time"}}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
}

async fn worklog_search_leaves_out_issues_the_caller_cannot_read(app: TestApp) {
    create_issue(&app, json!({"queue": "TEST", "summary": "closed"})).await;
    create_issue(&app, json!({"queue": "OPS", "summary": "open"})).await;
    // From now on only Alice reads TEST (Bob leads OPS).
    let r = app
        .as_user(Method::PATCH, "/v2/queues/TEST/permissions", ALICE, ACME)
        .json(&json!({
            "create": {"groups": [], "roles": [], "users": ["alice"]},
            "write": {"groups": [], "roles": [], "users": ["alice"]},
            "read": {"groups": [], "roles": [], "users": ["alice"]},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body = json!({"start": "2021-09-21T15:30:00.000+0000", "duration": "PT1H"});
    for key in ["TEST-1", "OPS-1"] {
        assert_eq!(add(&app, ALICE, key, body.clone()).await.status(), 201);
    }
    let mine: Value = app
        .as_user(Method::POST, "/v2/worklog/_search", ALICE, ACME)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let bobs: Value = app
        .as_user(Method::POST, "/v2/worklog/_search", BOB_RO, ACME)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<&str> = bobs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["issue"]["key"].as_str())
        .collect();
    assert_eq!(keys, ["OPS-1"]);
}
