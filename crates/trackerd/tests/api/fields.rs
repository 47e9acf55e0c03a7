//! Fields an organization creates: global fields, field categories and a
//! queue's local fields, and issues holding, finding and ordering by their
//! values.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_global_field_is_created_listed_read_and_renamed_at_its_version,
    a_global_field_needs_a_name_a_known_type_and_category_and_a_free_id,
    an_option_list_field_checks_its_options_against_its_type,
    only_organization_administrators_create_and_change_fields_and_categories,
    a_read_only_token_reads_fields_but_cannot_create_or_change_them,
    another_organization_sees_none_of_the_fields_or_categories,
    field_categories_are_created_listed_and_given_to_fields,
    a_local_field_is_created_listed_read_and_edited_in_its_queue,
    a_local_field_needs_a_queue_administrator_and_a_valid_definition,
    an_issue_holds_custom_values_checked_against_their_field_types,
    a_list_field_takes_add_and_remove_and_a_read_only_field_takes_nothing,
    issues_are_found_by_custom_fields_through_filter_and_query,
    issues_are_ordered_by_a_custom_field,
);

fn string_field(id: &str) -> Value {
    json!({
        "name": {"en": format!("{id} en"), "ru": format!("{id} ru")},
        "id": id,
        "category": "000000000000000000000001",
        "type": "ru.yandex.startrek.core.fields.StringFieldType",
    })
}

fn typed(id: &str, kind: &str) -> Value {
    let mut f = string_field(id);
    f["type"] = json!(format!("ru.yandex.startrek.core.fields.{kind}FieldType"));
    f
}

fn options(id: &str, values: Value) -> Value {
    let mut f = string_field(id);
    f["optionsProvider"] = json!({"type": "FixedListOptionsProvider", "values": values});
    f
}

async fn create_field(app: &TestApp, body: Value) -> Value {
    app.post("/v2/fields").json(body).await.status(201).json()
}

async fn create_local(app: &TestApp, queue: &str, body: Value) -> Value {
    app.post(&format!("/v2/queues/{queue}/localFields"))
        .json(body)
        .await
        .status(201)
        .json()
}

async fn a_global_field_is_created_listed_read_and_renamed_at_its_version(app: TestApp) {
    let f = create_field(&app, string_field("sprintGoal")).await;
    assert_eq!(f["id"], "sprintGoal");
    assert_eq!(f["key"], "sprintGoal");
    assert_eq!(f["name"], "sprintGoal en");
    assert_eq!(f["version"], 1);
    assert_eq!(f["type"], "standard");
    assert_eq!(f["schema"], json!({"type": "string", "required": false}));
    assert_eq!(f["self"], format!("{}/v2/fields/sprintGoal", app.base));
    assert_eq!(f["category"]["id"], "000000000000000000000001");
    assert_eq!(f["category"]["display"], "System");

    let all: Vec<Value> = app.read("/v2/fields").await;
    assert!(
        all.iter().any(|x| x["id"] == "summary"),
        "system fields stay"
    );
    assert!(all.iter().any(|x| x["id"] == "sprintGoal"));
    let v3: Value = app.read("/v3/fields/sprintGoal").await;
    assert_eq!(v3["self"], format!("{}/v3/fields/sprintGoal", app.base));

    let renamed: Value = app
        .edit(
            "/v2/fields/sprintGoal?version=1",
            json!({"name": {"en": "Goal", "ru": "Цель"}, "description": "why"}),
        )
        .await;
    assert_eq!(renamed["name"], "Goal");
    assert_eq!(renamed["description"], "why");
    assert_eq!(renamed["version"], 2);
    // A stale version loses.
    app.patch("/v2/fields/sprintGoal?version=1")
        .json(json!({"name": {"en": "Late"}}))
        .await
        .error_saying(409, "version");
    let read: Value = app.read("/v2/fields/sprintGoal").await;
    assert_eq!(read["name"], "Goal");
    // System fields are not changed.
    app.patch("/v2/fields/summary")
        .json(json!({"name": {"en": "x"}}))
        .await
        .error(403);
    app.get("/v2/fields/nothingLikeIt").await.error(404);
}

async fn a_global_field_needs_a_name_a_known_type_and_category_and_a_free_id(app: TestApp) {
    let mut no_name = string_field("a1");
    no_name.as_object_mut().unwrap().remove("name");
    let mut bad_type = string_field("a2");
    bad_type["type"] = json!("ru.yandex.startrek.core.fields.MagicFieldType");
    let mut bad_category = string_field("a3");
    bad_category["category"] = json!("ffffffffffffffffffffffff");
    let mut cases = vec![
        (no_name, "name"),
        (bad_type, "type"),
        (bad_category, "category"),
    ];
    for id in ["priority", "1abc", "has space", ""] {
        cases.push((string_field(id), "id"));
    }
    for (body, field) in cases {
        let r = app.post("/v2/fields").json(&body).await;
        assert_eq!(r.code(), 422, "{body}: {}", r.text());
        r.error_naming(422, field);
    }
    app.post("/v2/fields")
        .body("not json")
        .header("content-type", "application/json")
        .await
        .error(400);

    create_field(&app, string_field("taken")).await;
    app.post("/v2/fields")
        .json(string_field("TAKEN"))
        .await
        .error(409);
    // An update may not change the type.
    app.patch("/v2/fields/taken")
        .json(json!({"type": "ru.yandex.startrek.core.fields.DateFieldType"}))
        .await
        .error_naming(422, "type");
    app.patch("/v2/fields/taken")
        .json(json!({"readonly": "yes"}))
        .await
        .error(422);
}

async fn an_option_list_field_checks_its_options_against_its_type(app: TestApp) {
    let f = create_field(&app, options("color", json!(["Red", "Green"]))).await;
    assert_eq!(f["options"], true);
    assert_eq!(f["optionsProvider"]["type"], "FixedListOptionsProvider");
    assert_eq!(f["optionsProvider"]["values"], json!(["Red", "Green"]));

    let mut ints = typed("size", "Integer");
    ints["optionsProvider"] = json!({"type": "FixedListOptionsProvider", "values": [1, 2, "3"]});
    let f = create_field(&app, ints).await;
    assert_eq!(f["optionsProvider"]["values"], json!([1, 2, 3]));
    assert_eq!(f["schema"]["type"], "integer");

    let mut bad = typed("dates", "Date");
    bad["optionsProvider"] = json!({"type": "FixedListOptionsProvider", "values": ["x"]});
    app.post("/v2/fields")
        .json(bad)
        .await
        .error_naming(422, "optionsProvider");

    let mut users = typed("reviewer", "User");
    users["optionsProvider"] =
        json!({"type": "FixedUserListOptionsProvider", "values": ["alice", "mallory"]});
    app.post("/v2/fields").json(users.clone()).await.error(422);
    users["optionsProvider"]["values"] = json!(["alice", "bob"]);
    let f = create_field(&app, users).await;
    assert_eq!(f["schema"]["type"], "user");

    // The options change with the field's version.
    let f = app
        .patch("/v2/fields/color?version=1")
        .json(json!({"optionsProvider": {"type": "FixedListOptionsProvider", "values": ["Red", "Blue"]}}))
        .await
        .status(200)
        .json::<Value>();
    assert_eq!(f["optionsProvider"]["values"], json!(["Red", "Blue"]));
}

/// The organization's field writes: a new field, an edit of field `id`,
/// and a new category.
fn field_writes(app: &TestApp, id: &str) -> impl Iterator<Item = Call> {
    [
        app.post("/v2/fields").json(string_field("others")),
        app.patch(&format!("/v2/fields/{id}"))
            .json(json!({"name": {"en": "x"}})),
        app.post("/v2/fields/categories")
            .json(json!({"name": {"en": "c"}, "order": 1})),
    ]
    .into_iter()
}

async fn only_organization_administrators_create_and_change_fields_and_categories(app: TestApp) {
    create_field(&app, string_field("adminOnly")).await;
    let carols = field_writes(&app, "adminOnly").map(|c| c.token(CAROL_EXPIRING));
    each_refused(carols, 403).await;
    let f: Value = app.read("/v2/fields/adminOnly").await;
    assert_eq!(f["version"], 1);
}

async fn a_read_only_token_reads_fields_but_cannot_create_or_change_them(app: TestApp) {
    create_field(&app, string_field("ro")).await;
    create_local(&app, "TEST", string_field("loc")).await;
    app.get("/v2/fields/ro").token(BOB_RO).await.status(200);
    app.get("/v2/fields/categories")
        .token(BOB_RO)
        .await
        .status(200);
    app.get("/v2/queues/TEST/localFields/loc")
        .token(BOB_RO)
        .await
        .status(200);
    let locals = [
        app.post("/v2/queues/TEST/localFields")
            .json(string_field("bobs")),
        app.patch("/v2/queues/TEST/localFields/loc")
            .json(json!({"name": {"en": "x"}})),
    ];
    let bobs = field_writes(&app, "ro")
        .chain(locals)
        .map(|c| c.token(BOB_RO));
    each_refused(bobs, 403).await;
}

async fn another_organization_sees_none_of_the_fields_or_categories(app: TestApp) {
    create_field(&app, string_field("acmeOnly")).await;
    let c: Value = app
        .post_json(
            "/v2/fields/categories",
            json!({"name": {"en": "Acme's"}, "order": 5}),
            201,
        )
        .await;
    let local = create_local(&app, "TEST", string_field("acmeLocal")).await;
    let m = |call: Call| call.token(MALLORY).org(OTHER);
    m(app.get("/v2/fields/acmeOnly")).await.error(404);
    let all: Vec<Value> = m(app.get("/v2/fields")).await.status(200).json();
    assert!(all.iter().all(|f| f["id"] != "acmeOnly"));
    let cats: Vec<Value> = m(app.get("/v2/fields/categories")).await.status(200).json();
    assert!(cats.iter().all(|x| x["id"] != c["id"]));
    m(app.get(&format!(
        "/v2/fields/categories/{}",
        c["id"].as_str().unwrap()
    )))
    .await
    .error(404);
    m(app.patch("/v2/fields/acmeOnly"))
        .json(json!({"name": {"en": "mine"}}))
        .await
        .error(404);
    m(app.get("/v2/queues/TEST/localFields")).await.error(404);
    let id = local["id"].as_str().unwrap();
    m(app.get(&format!("/v2/fields/{id}"))).await.error(404);
    m(app.get(&format!("/v2/localFields/{id}")))
        .await
        .error(404);
    // Mallory's own field of the same id is hers alone.
    m(app.post("/v2/fields"))
        .json(string_field("acmeOnly"))
        .await
        .status(201);
    let f: Value = app.read("/v2/fields/acmeOnly").await;
    assert_eq!(f["name"], "acmeOnly en");
}

async fn field_categories_are_created_listed_and_given_to_fields(app: TestApp) {
    let c: Value = app
        .post_json(
            "/v2/fields/categories",
            json!({"name": {"en": "Money", "ru": "Деньги"}, "description": "costs", "order": 400}),
            201,
        )
        .await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24, "{c}");
    assert_eq!(c["name"], "Money");
    assert_eq!(c["version"], 1);
    assert_eq!(c["self"], format!("{}/v2/fields/categories/{id}", app.base));
    let all: Vec<Value> = app.read("/v2/fields/categories").await;
    assert!(all.iter().any(|x| x["id"] == "000000000000000000000001"));
    assert!(all.iter().any(|x| x["id"] == id.as_str()));
    let one: Value = app.read(&format!("/v2/fields/categories/{id}")).await;
    assert_eq!(one["name"], "Money");

    let mut f = typed("budget", "Float");
    f["category"] = json!(id);
    let f = create_field(&app, f).await;
    assert_eq!(f["category"]["id"], id.as_str());
    assert_eq!(f["category"]["display"], "Money");

    app.post("/v2/fields/categories")
        .json(json!({"name": {"en": "No order"}}))
        .await
        .error_naming(422, "order");
    app.post("/v2/fields/categories")
        .json(json!({"name": 5, "order": 1}))
        .await
        .error(422);
    app.get("/v2/fields/categories/ffffffffffffffffffffffff")
        .await
        .error(404);
}

async fn a_local_field_is_created_listed_read_and_edited_in_its_queue(app: TestApp) {
    let f = create_local(&app, "TEST", options("stage", json!(["alpha", "beta"]))).await;
    let id = f["id"].as_str().unwrap().to_owned();
    let (prefix, key) = id.split_once("--").unwrap();
    assert_eq!(key, "stage");
    assert_eq!(prefix.len(), 24);
    assert!(prefix.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(f["key"], "stage");
    assert_eq!(f["type"], "local");
    assert_eq!(f["queue"]["key"], "TEST");
    assert_eq!(
        f["self"],
        format!("{}/v2/queues/TEST/localFields/stage", app.base)
    );
    // A second local field of the queue shares the prefix.
    let g = create_local(&app, "TEST", typed("points", "Integer")).await;
    assert_eq!(g["id"], format!("{prefix}--points"));

    let list: Vec<Value> = app.read("/v2/queues/TEST/localFields").await;
    assert_eq!(list.len(), 2);
    let queue_fields: Vec<Value> = app.read("/v2/queues/TEST/fields").await;
    assert!(queue_fields.iter().any(|x| x["id"] == id.as_str()));
    assert!(queue_fields.iter().any(|x| x["id"] == "summary"));
    let ops: Vec<Value> = app.read("/v2/queues/OPS/fields").await;
    assert!(ops.iter().all(|x| x["id"] != id.as_str()));
    let ops_local: Vec<Value> = app.read("/v2/queues/OPS/localFields").await;
    assert!(ops_local.is_empty());

    let one: Value = app.read("/v2/queues/TEST/localFields/stage").await;
    assert_eq!(one["id"], id.as_str());
    let by_id: Value = app.read(&format!("/v2/localFields/{id}")).await;
    assert_eq!(by_id["key"], "stage");
    let global: Value = app.read(&format!("/v2/fields/{id}")).await;
    assert_eq!(global["key"], "stage");

    let edited: Value = app
        .edit(
            "/v2/queues/TEST/localFields/stage?version=1",
            json!({"name": {"en": "Stage"}, "order": 102, "readonly": false, "hidden": true}),
        )
        .await;
    assert_eq!(edited["name"], "Stage");
    assert_eq!(edited["order"], 102);
    assert_eq!(edited["version"], 2);
    app.patch("/v2/queues/TEST/localFields/stage?version=1")
        .json(json!({"name": {"en": "Late"}}))
        .await
        .error(409);
    app.get("/v2/queues/TEST/localFields/nope").await.error(404);
    app.get("/v2/queues/NOPE/localFields").await.error(404);
    // The same key in another queue is another field.
    let o = create_local(&app, "OPS", string_field("stage")).await;
    assert_ne!(o["id"], id.as_str());
    app.post("/v2/queues/TEST/localFields")
        .json(string_field("Stage"))
        .await
        .error(409);
}

async fn a_local_field_needs_a_queue_administrator_and_a_valid_definition(app: TestApp) {
    app.post("/v2/queues/TEST/localFields")
        .token(CAROL_EXPIRING)
        .json(string_field("carols"))
        .await
        .error(403);
    create_local(&app, "TEST", string_field("mine")).await;
    app.patch("/v2/queues/TEST/localFields/mine")
        .token(CAROL_EXPIRING)
        .json(json!({"name": {"en": "x"}}))
        .await
        .error(403);
    let mut bad = string_field("x1");
    bad["type"] = json!("string");
    app.post("/v2/queues/TEST/localFields")
        .json(bad)
        .await
        .error_naming(422, "type");
    app.post("/v2/queues/TEST/localFields")
        .json(json!({"id": "x2"}))
        .await
        .error_naming(422, "name");
    app.patch("/v2/queues/TEST/localFields/mine")
        .json(json!({"colour": "red"}))
        .await
        .error(422);
}

async fn an_issue_holds_custom_values_checked_against_their_field_types(app: TestApp) {
    create_field(&app, options("color", json!(["Red", "Green"]))).await;
    create_field(&app, typed("size", "Integer")).await;
    create_field(&app, typed("budget", "Float")).await;
    create_field(&app, typed("launch", "Date")).await;
    create_field(&app, typed("launchedAt", "DateTime")).await;
    create_field(&app, typed("docs", "Uri")).await;
    create_field(&app, typed("reviewer", "User")).await;
    let local = create_local(&app, "TEST", string_field("stage")).await;
    let local_id = local["id"].as_str().unwrap().to_owned();

    let issue = app
        .create_issue(json!({
            "queue": "TEST", "summary": "custom",
            "color": "red", "size": "3", "budget": 2.5, "launch": "2026-03-01",
            "launchedAt": "2026-03-01T10:00:00Z", "docs": "https://docs.test/x",
            "reviewer": "bob", "stage": "alpha",
        }))
        .await;
    assert_eq!(issue["color"], "Red", "the option's own spelling");
    assert_eq!(issue["size"], 3);
    assert_eq!(issue["budget"], 2.5);
    assert_eq!(issue["launch"], "2026-03-01");
    assert_eq!(issue["launchedAt"], "2026-03-01T10:00:00.000+0000");
    assert_eq!(issue["docs"], "https://docs.test/x");
    assert_eq!(issue["reviewer"]["display"], "Bob Baker");
    assert!(issue["reviewer"]["self"]
        .as_str()
        .unwrap()
        .contains("/v2/users/"));
    assert_eq!(issue[local_id.as_str()], "alpha", "{issue}");
    assert!(issue.get("stage").is_none());

    // Each wrong value is named.
    for (field, value) in [
        ("color", json!("Blue")),
        ("size", json!("three")),
        ("size", json!(2.5)),
        ("budget", json!("lots")),
        ("launch", json!("March")),
        ("launchedAt", json!(5)),
        ("docs", json!("not a uri")),
        ("reviewer", json!("mallory")),
        ("stage", json!(7)),
        ("noSuchField", json!("x")),
    ] {
        let e = app
            .patch("/v2/issues/TEST-1")
            .json(json!({ field: value }))
            .await
            .error(422);
        assert!(e["errors"][field].is_string(), "{field}: {e}");
    }
    // The local field by its full id too, and null clears a value.
    let updated: Value = app
        .edit(
            "/v2/issues/TEST-1",
            json!({ local_id.as_str(): "beta", "color": null }),
        )
        .await;
    assert_eq!(updated[local_id.as_str()], "beta");
    assert!(updated.get("color").is_none(), "{updated}");
    // An issue of another queue has no such local field.
    app.post("/v2/issues")
        .json(json!({"queue": "OPS", "summary": "x", "stage": "alpha"}))
        .await
        .error_naming(422, "stage");
    // The change is in the history under the field's id.
    let log: Vec<Value> = app.read("/v2/issues/TEST-1/changelog").await;
    assert!(
        log.iter().any(|c| c.to_string().contains(&local_id)),
        "{log:?}"
    );
}

async fn a_list_field_takes_add_and_remove_and_a_read_only_field_takes_nothing(app: TestApp) {
    let mut labels = options("labels", json!(["a", "b", "c"]));
    labels["container"] = json!(true);
    let f = create_field(&app, labels).await;
    assert_eq!(
        f["schema"],
        json!({"type": "array", "items": "string", "required": false})
    );
    let mut frozen = string_field("frozen");
    frozen["readonly"] = json!(true);
    create_field(&app, frozen).await;

    let issue = app
        .create_issue(json!({"queue": "TEST", "summary": "list", "labels": ["a", "b"]}))
        .await;
    assert_eq!(issue["labels"], json!(["a", "b"]));
    let issue: Value = app
        .edit(
            "/v2/issues/TEST-1",
            json!({"labels": {"add": ["c"], "remove": ["a"]}}),
        )
        .await;
    assert_eq!(issue["labels"], json!(["b", "c"]));
    app.patch("/v2/issues/TEST-1")
        .json(json!({"labels": {"add": ["z"]}}))
        .await
        .error_naming(422, "labels");
    app.patch("/v2/issues/TEST-1")
        .json(json!({"frozen": "x"}))
        .await
        .error_naming(422, "frozen");
}

async fn issues_are_found_by_custom_fields_through_filter_and_query(app: TestApp) {
    create_field(&app, options("color", json!(["Red", "Green"]))).await;
    create_field(&app, typed("size", "Integer")).await;
    let stage = create_local(&app, "TEST", string_field("stage")).await;
    let stage_id = stage["id"].as_str().unwrap().to_owned();
    app.create_issue(
        json!({"queue": "TEST", "summary": "one", "color": "Red", "size": 1, "stage": "alpha"}),
    )
    .await;
    app.create_issue(
        json!({"queue": "TEST", "summary": "two", "color": "Green", "size": 5, "stage": "beta"}),
    )
    .await;
    app.create_test_issue("three").await;
    app.create_issue(json!({"queue": "OPS", "summary": "other", "color": "Red"}))
        .await;

    let mut keys = app.found_keys(json!({"filter": {"color": "Red"}})).await;
    keys.sort();
    assert_eq!(keys, ["OPS-1", "TEST-1"]);
    assert_eq!(
        app.found_keys(json!({"filter": {"queue": "TEST", "color": "Green"}}))
            .await,
        ["TEST-2"]
    );
    assert_eq!(
        app.found_keys(json!({"filter": {stage_id.as_str(): "beta"}}))
            .await,
        ["TEST-2"]
    );
    assert_eq!(
        app.found_keys(json!({"query": "Queue: TEST color: Red"}))
            .await,
        ["TEST-1"]
    );
    assert_eq!(
        app.found_keys(json!({"query": "size: >2"})).await,
        ["TEST-2"]
    );
    assert_eq!(
        app.found_keys(json!({"query": "TEST.stage: alpha"})).await,
        ["TEST-1"]
    );
    assert_eq!(
        app.found_keys(json!({"query": "Queue: TEST color: empty()"}))
            .await,
        ["TEST-3"]
    );
    let count: i64 = app
        .post_json("/v2/issues/_count", json!({"query": "color: Red"}), 200)
        .await;
    assert_eq!(count, 2);
    // Mallory's query on the same name finds nothing of Acme's.
    let theirs: Vec<Value> = app
        .post("/v2/issues/_search")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"query": "color: Red"}))
        .await
        .status(200)
        .json();
    assert!(theirs.is_empty());
}

async fn issues_are_ordered_by_a_custom_field(app: TestApp) {
    create_field(&app, typed("size", "Integer")).await;
    for (summary, size) in [
        ("m", json!(5)),
        ("s", json!(1)),
        ("l", json!(9)),
        ("none", Value::Null),
    ] {
        app.create_issue(json!({"queue": "TEST", "summary": summary, "size": size}))
            .await;
    }
    assert_eq!(
        app.found_keys(json!({"filter": {"queue": "TEST"}, "order": "+size"}))
            .await,
        ["TEST-2", "TEST-1", "TEST-3", "TEST-4"]
    );
    assert_eq!(
        // Empty values come last ascending and first descending, as for
        // the system fields.
        app.found_keys(json!({"filter": {"queue": "TEST"}, "order": "-size"}))
            .await,
        ["TEST-4", "TEST-3", "TEST-1", "TEST-2"]
    );
    assert_eq!(
        app.found_keys(json!({"query": "Queue: TEST \"Sort by\": size ASC"}))
            .await,
        ["TEST-2", "TEST-1", "TEST-3", "TEST-4"]
    );
}
