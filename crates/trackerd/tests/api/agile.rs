//! Agile boards, their columns and sprints, issues' sprints, and saved
//! filters applied to searches.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_board_is_created_listed_read_edited_with_its_version_and_deleted,
    a_boards_columns_map_to_statuses_and_change_at_the_boards_version,
    a_board_needs_a_name_a_queue_and_valid_fields,
    a_boards_issues_are_those_its_filter_or_query_selects,
    sprints_are_created_on_a_board_and_listed_with_the_status_their_dates_give,
    an_issue_carries_its_sprints_through_its_history_and_is_found_by_them,
    a_saved_filter_is_its_owners_and_a_search_or_count_applies_it_by_id,
    only_the_boards_creator_or_an_administrator_changes_it_and_read_only_tokens_only_read,
    another_organization_sees_no_boards_sprints_or_filters,
);

async fn board(app: &TestApp, body: Value) -> Value {
    app.post_json("/v2/boards", body, 201).await
}

async fn filter(app: &TestApp, body: Value) -> Value {
    app.post_json("/v2/filters", body, 201).await
}

async fn sprint(app: &TestApp, board: &Value, name: &str, start: &str, end: &str) -> Value {
    let body = json!({"name": name, "board": {"id": board["id"].to_string()},
                      "startDate": start, "endDate": end});
    app.post_json("/v2/sprints", body, 201).await
}

async fn a_board_is_created_listed_read_edited_with_its_version_and_deleted(app: TestApp) {
    let b = board(
        &app,
        json!({"name": "Testing", "boardType": "scrum", "defaultQueue": {"key": "TEST"},
               "filter": {"assignee": "alice", "priority": ["normal", "critical"]},
               "orderBy": "updated", "orderAsc": false, "useRanking": false,
               "country": {"id": "1"}}),
    )
    .await;
    let id = app.numeric_id(&b, "/v2/boards");
    assert_eq!(b["version"], 1);
    assert_eq!(b["name"], "Testing");
    assert_eq!(b["boardType"], "scrum");
    assert_eq!(b["defaultQueue"]["key"], "TEST");
    assert_eq!(b["filter"]["priority"], json!(["normal", "critical"]));
    assert_eq!(b["orderBy"], "updated");
    assert_eq!(b["orderAsc"], false);
    assert_eq!(b["country"]["id"], "1");
    // A new board has a column for each status of the default workflow.
    let columns = b["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 6);
    assert_eq!(columns[0]["display"], "Open");
    assert_eq!(
        columns[0]["self"],
        format!(
            "{}/v2/boards/{id}/columns/{}",
            app.base,
            columns[0]["id"].as_str().unwrap()
        )
    );

    let read: Value = app.read(&format!("/v3/boards/{id}")).await;
    assert_eq!(read["self"], format!("{}/v3/boards/{id}", app.base));
    assert_eq!(read["filter"], b["filter"]);
    board(&app, json!({"name": "Second", "defaultQueue": "OPS"})).await;
    let r = app.get("/v2/boards?perPage=1&page=2").await.status(200);
    assert_eq!(r.header("x-total-count"), "2");
    let page: Vec<Value> = r.json();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["name"], "Second");

    // A query replaces the filter and its order, as the reference describes.
    let edited: Value = app
        .patch(&format!("/v2/boards/{id}"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "Testing new", "query": "Assignee: alice Priority: normal"}))
        .await
        .status(200)
        .json();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["name"], "Testing new");
    assert_eq!(edited["query"], "Assignee: alice Priority: normal");
    assert!(edited.get("filter").is_none(), "{edited}");
    assert!(edited.get("orderBy").is_none(), "{edited}");
    // A stale version: If-Match is 412, the body's or the query's is 409.
    app.patch(&format!("/v2/boards/{id}"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "late"}))
        .await
        .error(412);
    app.patch(&format!("/v2/boards/{id}"))
        .json(json!({"name": "late", "version": 1}))
        .await
        .error(409);
    app.patch(&format!("/v2/boards/{id}?version=2"))
        .json(json!({"useRanking": true}))
        .await
        .status(200);
    let read: Value = app.read(&format!("/v2/boards/{id}")).await;
    assert_eq!(read["name"], "Testing new");
    assert_eq!(read["useRanking"], true);
    assert_eq!(read["version"], 3);

    app.delete_for_good(&format!("/v2/boards/{id}")).await;
    let listed: Vec<Value> = app.read("/v2/boards").await;
    assert_eq!(listed.len(), 1);
}

async fn a_boards_columns_map_to_statuses_and_change_at_the_boards_version(app: TestApp) {
    let b = board(
        &app,
        json!({"name": "Kanban", "defaultQueue": "TEST",
               "columns": [{"name": "Todo", "statuses": ["open", "needInfo"]}]}),
    )
    .await;
    let id = &b["id"];
    let columns: Vec<Value> = app.read(&format!("/v2/boards/{id}/columns")).await;
    assert_eq!(columns.len(), 1);
    let todo = &columns[0];
    assert_eq!(todo["name"], "Todo");
    assert_eq!(todo["statuses"][1]["key"], "needInfo");
    assert_eq!(todo["statuses"][1]["display"], "Need info");

    let created: Value = app
        .post(&format!("/v2/boards/{id}/columns"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "Approve", "statuses": ["inReview", "inProgress"], "limit": 3}))
        .await
        .status(201)
        .json();
    let col = app.numeric_id(&created, &format!("/v2/boards/{id}/columns"));
    assert_eq!(created["statuses"][0]["key"], "inReview");
    assert_eq!(created["limit"], 3);
    // Columns change the board's version.
    let read: Value = app.read(&format!("/v2/boards/{id}")).await;
    assert_eq!(read["version"], 2);
    assert_eq!(read["columns"][1]["display"], "Approve");
    app.post(&format!("/v2/boards/{id}/columns"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "Late", "statuses": ["closed"]}))
        .await
        .error(412);
    // A status shows in one column at most.
    app.post(&format!("/v2/boards/{id}/columns"))
        .json(json!({"name": "Again", "statuses": ["open"]}))
        .await
        .error_naming(422, "statuses");

    let edited: Value = app
        .patch(&format!("/v3/boards/{id}/columns/{col}"))
        .header("If-Match", "\"2\"")
        .json(json!({"name": "Review"}))
        .await
        .status(200)
        .json();
    assert_eq!(edited["name"], "Review");
    assert_eq!(edited["statuses"][1]["key"], "inProgress");
    let one: Value = app.read(&format!("/v2/boards/{id}/columns/{col}")).await;
    assert_eq!(one["name"], "Review");

    // The board's edit replaces its columns; a column keeps its id.
    let edited: Value = app
        .edit(
            &format!("/v2/boards/{id}"),
            json!({"columns": [{"id": col.to_string(), "name": "Review", "statuses": "inReview"},
                                 {"name": "Done", "statuses": ["resolved", "closed"]}]}),
        )
        .await;
    let cols = edited["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 2);
    assert_eq!(cols[0]["id"], col.to_string());
    assert_ne!(cols[1]["id"], todo["id"].to_string(), "ids are not reused");

    app.delete_for_good(&format!("/v2/boards/{id}/columns/{col}"))
        .await;
    let columns: Vec<Value> = app.read(&format!("/v2/boards/{id}/columns")).await;
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0]["name"], "Done");
}

async fn a_board_needs_a_name_a_queue_and_valid_fields(app: TestApp) {
    let cases = [
        (json!({"defaultQueue": "TEST"}), "name"),
        (json!({"name": "x"}), "defaultQueue"),
        (json!({"name": "x", "defaultQueue": "NOPE"}), "defaultQueue"),
        (
            json!({"name": "x", "defaultQueue": "TEST", "boardType": "agile"}),
            "boardType",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST", "filter": "status: open"}),
            "filter",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST", "query": "Status: (open"}),
            "query",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST", "query": "Status: open",
                   "filter": {"status": "open"}}),
            "query",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST", "useRanking": "yes"}),
            "useRanking",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST", "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "x", "defaultQueue": "TEST",
                   "columns": [{"name": "A", "statuses": ["nosuch"]}]}),
            "columns",
        ),
    ];
    for (body, field) in cases {
        let e = app.post("/v2/boards").json(body.clone()).await.error(422);
        assert!(e["errors"][field].is_string(), "{body}: {e}");
    }
    app.post("/v2/boards").json(json!([])).await.error(400);
    app.get("/v2/boards/abc").await.error(404);
    app.get("/v2/boards/12345").await.error(404);
    app.get("/v2/boards?page=0").await.error(400);
    let b = board(&app, json!({"name": "x", "defaultQueue": "TEST"})).await;
    let id = &b["id"];
    app.post(&format!("/v2/boards/{id}/columns"))
        .json(json!({"statuses": ["open"]}))
        .await
        .error_naming(422, "name");
    app.patch(&format!("/v2/boards/{id}/columns/999"))
        .json(json!({"name": "y"}))
        .await
        .error(404);
    let listed: Vec<Value> = app.read("/v2/boards").await;
    assert_eq!(listed.len(), 1, "nothing half-written");
}

async fn a_boards_issues_are_those_its_filter_or_query_selects(app: TestApp) {
    let a = app
        .create_issue(json!({"queue": "TEST", "summary": "mine", "assignee": "alice"}))
        .await;
    let b = app
        .create_issue(json!({"queue": "TEST", "summary": "hers", "assignee": "bob"}))
        .await;
    let c = app
        .create_issue(json!({"queue": "OPS", "summary": "ops"}))
        .await;
    let key = |i: &Value| i["key"].as_str().unwrap().to_owned();
    let by_filter = board(
        &app,
        json!({"name": "f", "defaultQueue": "TEST", "filter": {"assignee": "alice"}}),
    )
    .await;
    let by_query = board(
        &app,
        json!({"name": "q", "defaultQueue": "TEST", "query": "Assignee: bob"}),
    )
    .await;
    let by_queue = board(&app, json!({"name": "o", "defaultQueue": "OPS"})).await;
    assert_eq!(
        app.found_keys(json!({"filter": {"boards": by_filter["id"]}}))
            .await,
        [key(&a)]
    );
    assert_eq!(
        app.found_keys(json!({"filter": {"boards": by_query["id"].to_string()}}))
            .await,
        [key(&b)]
    );
    // A board with neither holds its default queue's issues.
    assert_eq!(
        app.found_keys(json!({"filter": {"boards": by_queue["id"]}}))
            .await,
        [key(&c)]
    );
    let mut both = app
        .found_keys(json!({"filter": {"boards": [by_filter["id"], by_query["id"]]}}))
        .await;
    both.sort();
    assert_eq!(both, [key(&a), key(&b)]);
    // Combined with the rest of the filter.
    assert!(app
        .found_keys(json!({"filter": {"boards": by_filter["id"], "summary": "hers"}}))
        .await
        .is_empty());
    // Editing the board changes its issues.
    app.patch(&format!("/v2/boards/{}", by_filter["id"]))
        .json(json!({"filter": {"assignee": "bob"}}))
        .await
        .status(200);
    assert_eq!(
        app.found_keys(json!({"filter": {"boards": by_filter["id"]}}))
            .await,
        [key(&b)]
    );
    // The query language's `Boards:` names boards the same way.
    assert_eq!(
        app.found_keys(json!({"query": format!("Boards: {}", by_query["id"])}))
            .await,
        [key(&b)]
    );
    let mut either = app.found_keys(json!({"query": format!("Boards: {}, {} OR Queue: OPS", by_filter["id"], by_query["id"])}),
    )
    .await;
    either.sort();
    assert_eq!(either, [key(&c), key(&b)]);
    app.post("/v2/issues/_search")
        .json(json!({"query": format!("Boards: !{}", by_query["id"])}))
        .await
        .error(400);
    let n: i64 = app
        .post_json(
            "/v2/issues/_count",
            json!({"filter": {"boards": by_query["id"]}}),
            200,
        )
        .await;
    assert_eq!(n, 1);
    app.post("/v2/issues/_search")
        .json(json!({"filter": {"boards": 999999}}))
        .await
        .error(404);
}

async fn sprints_are_created_on_a_board_and_listed_with_the_status_their_dates_give(app: TestApp) {
    // The test clock stands at 2026-01-15.
    let b = board(&app, json!({"name": "Scrum", "defaultQueue": "TEST"})).await;
    let past = sprint(&app, &b, "Sprint 1", "2026-01-01", "2026-01-14").await;
    let now = sprint(&app, &b, "Sprint 2", "2026-01-15", "2026-01-28").await;
    let next = sprint(&app, &b, "Sprint 3", "2026-01-29", "2026-02-11").await;
    let id = app.numeric_id(&now, "/v2/sprints");
    assert_eq!(now["version"], 1);
    assert_eq!(now["board"]["id"], b["id"].to_string());
    assert_eq!(now["board"]["display"], "Scrum");
    assert_eq!(now["createdBy"]["display"], "Alice Archer");
    assert_eq!(now["startDate"], "2026-01-15");
    assert_eq!(now["endDate"], "2026-01-28");
    assert_eq!(now["archived"], false);
    assert_eq!(past["status"], "released");
    assert_eq!(now["status"], "in_progress");
    assert_eq!(next["status"], "draft");

    let read: Value = app.read(&format!("/v3/sprints/{id}")).await;
    assert_eq!(read["self"], format!("{}/v3/sprints/{id}", app.base));
    assert_eq!(read["name"], "Sprint 2");
    let listed: Vec<Value> = app.read(&format!("/v2/boards/{}/sprints", b["id"])).await;
    let names: Vec<&str> = listed.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sprint 1", "Sprint 2", "Sprint 3"]);
    let other = board(&app, json!({"name": "Other", "defaultQueue": "OPS"})).await;
    sprint(&app, &other, "Ops 1", "2026-01-15", "2026-01-20").await;
    let all: Vec<Value> = app.read("/v2/sprints").await;
    assert_eq!(all.len(), 4);
    let theirs: Vec<Value> = app
        .read(&format!("/v2/boards/{}/sprints", other["id"]))
        .await;
    assert_eq!(theirs.len(), 1);

    for (body, field) in [
        (
            json!({"board": {"id": b["id"]}, "startDate": "2026-01-01", "endDate": "2026-01-02"}),
            "name",
        ),
        (
            json!({"name": "x", "startDate": "2026-01-01", "endDate": "2026-01-02"}),
            "board",
        ),
        (
            json!({"name": "x", "board": {"id": "999999"}, "startDate": "2026-01-01", "endDate": "2026-01-02"}),
            "board",
        ),
        (
            json!({"name": "x", "board": {"id": b["id"]}, "startDate": "01.01.2026", "endDate": "2026-01-02"}),
            "startDate",
        ),
        (
            json!({"name": "x", "board": {"id": b["id"]}, "startDate": "2026-01-05", "endDate": "2026-01-02"}),
            "endDate",
        ),
    ] {
        let e = app.post("/v2/sprints").json(body.clone()).await.error(422);
        assert!(e["errors"][field].is_string(), "{body}: {e}");
    }
    app.get("/v2/sprints/abc").await.error(404);
    app.get("/v2/sprints/999999").await.error(404);
    app.get("/v2/boards/999999/sprints").await.error(404);
    // A board whose sprints issues may refer to is not deleted from under them.
    app.delete(&format!("/v2/boards/{}", b["id"]))
        .await
        .error(409);
}

async fn an_issue_carries_its_sprints_through_its_history_and_is_found_by_them(app: TestApp) {
    let b = board(&app, json!({"name": "Scrum", "defaultQueue": "TEST"})).await;
    let one = sprint(&app, &b, "Sprint 1", "2026-01-01", "2026-01-14").await;
    let two = sprint(&app, &b, "Sprint 2", "2026-01-15", "2026-01-28").await;
    let issue = app
        .create_issue(
            json!({"queue": "TEST", "summary": "story", "sprint": [{"id": one["id"].to_string()}]}),
        )
        .await;
    let key = issue["key"].as_str().unwrap().to_owned();
    assert_eq!(issue["sprint"][0]["id"], one["id"].to_string());
    assert_eq!(issue["sprint"][0]["display"], "Sprint 1");
    assert_eq!(
        issue["sprint"][0]["self"],
        format!("{}/v2/sprints/{}", app.base, one["id"])
    );
    app.create_test_issue("other").await;

    // Moved to the next sprint, by name, through the issue's one write path.
    let edited: Value = app
        .edit(
            &format!("/v2/issues/{key}"),
            json!({"sprint": ["Sprint 2"]}),
        )
        .await;
    assert_eq!(edited["version"], issue["version"].as_i64().unwrap() + 1);
    assert_eq!(edited["sprint"][0]["display"], "Sprint 2");
    let log: Vec<Value> = app.read(&format!("/v2/issues/{key}/changelog")).await;
    let changes: Vec<Value> = log
        .iter()
        .flat_map(|e| e["fields"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["field"]["id"] == "sprint")
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "set on create, changed on edit: {changes:?}"
    );
    assert_eq!(changes[1]["from"][0]["display"], "Sprint 1");
    assert_eq!(changes[1]["to"][0]["display"], "Sprint 2");

    assert_eq!(
        app.found_keys(json!({"query": "Sprint: \"Sprint 2\""}))
            .await,
        [key.as_str()]
    );
    assert_eq!(
        app.found_keys(json!({"filter": {"sprint": two["id"].to_string()}}))
            .await,
        [key.as_str()]
    );
    assert!(app
        .found_keys(json!({"query": "Sprint: \"Sprint 1\""}))
        .await
        .is_empty());

    app.patch(&format!("/v2/issues/{key}"))
        .json(json!({"sprint": [{"id": "999999"}]}))
        .await
        .error_naming(422, "sprint");
    // Taken off every sprint.
    let cleared: Value = app
        .edit(&format!("/v2/issues/{key}"), json!({"sprint": null}))
        .await;
    assert!(cleared.get("sprint").is_none(), "{cleared}");
}

async fn a_saved_filter_is_its_owners_and_a_search_or_count_applies_it_by_id(app: TestApp) {
    let a = app
        .create_issue(json!({"queue": "TEST", "summary": "a", "priority": "critical"}))
        .await;
    let b = app
        .create_issue(json!({"queue": "TEST", "summary": "b", "priority": "critical"}))
        .await;
    app.create_issue(json!({"queue": "OPS", "summary": "c", "priority": "critical"}))
        .await;
    let f: Value = filter(
        &app,
        json!({"name": "Critical in TEST", "query": "Queue: TEST Priority: critical",
                     "sorts": [{"expr": "key", "dir": "desc"}]}),
    )
    .await;
    let id = app.numeric_id(&f, "/v2/filters");
    assert_eq!(f["name"], "Critical in TEST");
    assert_eq!(f["owner"]["display"], "Alice Archer");
    assert_eq!(f["sorts"], json!(["-key"]));
    let key = |i: &Value| i["key"].as_str().unwrap().to_owned();
    // The saved order, unless the search states its own.
    assert_eq!(
        app.found_keys(json!({"filterId": id})).await,
        [key(&b), key(&a)]
    );
    assert_eq!(
        app.found_keys(json!({"filterId": id.to_string(), "order": "+key"}))
            .await,
        [key(&a), key(&b)]
    );
    assert_eq!(
        app.found_keys(json!({"filterId": id, "query": "Summary: a"}))
            .await,
        [key(&a)]
    );
    let n: i64 = app
        .post_json("/v2/issues/_count", json!({"filterId": id}), 200)
        .await;
    assert_eq!(n, 2);

    let edited: Value = app
        .patch(&format!("/v3/filters/{id}"))
        .header("If-Match", "\"1\"")
        .json(json!({"filter": {"queue": "OPS"}}))
        .await
        .status(200)
        .json();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["filter"], json!({"queue": "OPS"}));
    assert!(edited.get("query").is_none(), "{edited}");
    app.patch(&format!("/v2/filters/{id}"))
        .header("If-Match", "\"1\"")
        .json(json!({"name": "late"}))
        .await
        .error(412);
    let n: i64 = app
        .post_json("/v2/issues/_count", json!({"filterId": id}), 200)
        .await;
    assert_eq!(n, 1);
    let mine: Vec<Value> = app.read("/v2/filters").await;
    assert_eq!(mine.len(), 1);

    // Another member neither sees nor uses it.
    let theirs: Vec<Value> = app.read_as("/v2/filters", BOB_RO).await;
    assert!(theirs.is_empty());
    app.get(&format!("/v2/filters/{id}"))
        .token(BOB_RO)
        .await
        .error(404);
    app.post("/v2/issues/_search")
        .token(BOB_RO)
        .json(json!({"filterId": id}))
        .await
        .error(404);
    app.patch(&format!("/v2/filters/{id}"))
        .token(CAROL_EXPIRING)
        .json(json!({"name": "mine"}))
        .await
        .error(404);

    for (body, field) in [
        (json!({"query": "Queue: TEST"}), "name"),
        (json!({"name": "x"}), "query"),
        (json!({"name": "x", "query": "Queue: (TEST"}), "query"),
        (
            json!({"name": "x", "query": "Queue: TEST", "sorts": "key"}),
            "sorts",
        ),
    ] {
        let e = app.post("/v2/filters").json(body.clone()).await.error(422);
        assert!(e["errors"][field].is_string(), "{body}: {e}");
    }
    app.post("/v2/issues/_search")
        .json(json!({"filterId": id, "queue": "TEST"}))
        .await
        .error(400);
    app.post("/v2/issues/_search")
        .json(json!({"filterId": "nope"}))
        .await
        .error(404);

    app.delete(&format!("/v2/filters/{id}")).await.status(204);
    app.get(&format!("/v2/filters/{id}")).await.error(404);
    app.post("/v2/issues/_count")
        .json(json!({"filterId": id}))
        .await
        .error(404);
}

async fn only_the_boards_creator_or_an_administrator_changes_it_and_read_only_tokens_only_read(
    app: TestApp,
) {
    // carol is a plain member: she creates a board of her own.
    let hers: Value = app
        .post("/v2/boards")
        .token(CAROL_EXPIRING)
        .json(json!({"name": "Carol's", "defaultQueue": "TEST"}))
        .await
        .status(201)
        .json();
    let alices = board(&app, json!({"name": "Alice's", "defaultQueue": "TEST"})).await;
    let id = &alices["id"];
    for call in board_writes(&app, id) {
        call.token(CAROL_EXPIRING).await.error(403);
    }
    // The administrator changes anyone's board.
    app.patch(&format!("/v2/boards/{}", hers["id"]))
        .json(json!({"name": "Renamed by alice"}))
        .await
        .status(200);
    // bob reads everything; his token writes nothing.
    let listed: Vec<Value> = app.read_as("/v2/boards", BOB_RO).await;
    assert_eq!(listed.len(), 2);
    app.get(&format!("/v2/boards/{id}/columns"))
        .token(BOB_RO)
        .await
        .status(200);
    let creates = [
        app.post("/v2/boards")
            .json(json!({"name": "x", "defaultQueue": "TEST"})),
        app.post("/v2/filters")
            .json(json!({"name": "x", "query": "Queue: TEST"})),
    ];
    for call in creates.into_iter().chain(board_writes(&app, id)) {
        call.token(BOB_RO).await.error(403);
    }
    let read: Value = app.read(&format!("/v2/boards/{id}")).await;
    assert_eq!(read["name"], "Alice's");
    assert_eq!(read["version"], 1);
}

/// Every change of board `id`: its edit and removal, and its columns'.
fn board_changes(app: &TestApp, id: &Value) -> Vec<Call> {
    vec![
        app.patch(&format!("/v2/boards/{id}"))
            .json(json!({"name": "x"})),
        app.delete(&format!("/v2/boards/{id}")),
        app.post(&format!("/v2/boards/{id}/columns"))
            .json(json!({"name": "x", "statuses": ["open"]})),
        app.patch(&format!("/v2/boards/{id}/columns/1"))
            .json(json!({"name": "x"})),
        app.delete(&format!("/v2/boards/{id}/columns/1")),
    ]
}

/// [`board_changes`], and a sprint put on the board.
fn board_writes(app: &TestApp, id: &Value) -> Vec<Call> {
    let mut writes = board_changes(app, id);
    writes.push(
        app.post("/v2/sprints")
            .json(json!({"name": "S", "board": {"id": id},
        "startDate": "2026-01-01", "endDate": "2026-01-02"})),
    );
    writes
}

async fn another_organization_sees_no_boards_sprints_or_filters(app: TestApp) {
    let b = board(&app, json!({"name": "secret", "defaultQueue": "TEST"})).await;
    let s = sprint(&app, &b, "secret sprint", "2026-01-01", "2026-01-14").await;
    let f: Value = filter(&app, json!({"name": "secret", "query": "Queue: TEST"})).await;
    let (id, sid, fid) = (&b["id"], &s["id"], &f["id"]);
    for list in ["/v2/boards", "/v2/sprints", "/v2/filters"] {
        let theirs: Vec<Value> = app.read_in(list, MALLORY, OTHER).await;
        assert!(theirs.is_empty(), "{list}: {theirs:?}");
    }
    // Reads of the board, and everything on its sprint and filter.
    let others = [
        app.get(&format!("/v2/boards/{id}")),
        app.get(&format!("/v2/boards/{id}/columns")),
        app.get(&format!("/v2/boards/{id}/columns/1")),
        app.get(&format!("/v2/boards/{id}/sprints")),
        app.get(&format!("/v2/sprints/{sid}")),
        app.get(&format!("/v2/filters/{fid}")),
        app.patch(&format!("/v2/filters/{fid}"))
            .json(json!({"name": "mine"})),
        app.delete(&format!("/v2/filters/{fid}")),
        app.post("/v2/issues/_search")
            .json(json!({"filterId": fid})),
        app.post("/v2/issues/_search")
            .json(json!({"filter": {"boards": id}})),
    ];
    for call in others.into_iter().chain(board_changes(&app, id)) {
        call.token(MALLORY).org(OTHER).await.error(404);
    }
    // Nor can they put a sprint on Acme's board, or an issue into its sprint.
    app
        .post("/v2/sprints")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"name": "x", "board": {"id": id}, "startDate": "2026-01-01", "endDate": "2026-01-02"}))
        .await
        .error_naming(422, "board");
    app.post("/v2/issues")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"queue": "SECRET", "summary": "x", "sprint": [sid]}))
        .await
        .error_naming(422, "sprint");
    let read: Value = app.read(&format!("/v2/boards/{id}")).await;
    assert_eq!(read["name"], "secret");
}
