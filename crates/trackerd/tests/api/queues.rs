//! The first queue calls, and the envelope for validation errors.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_admin_creates_a_queue_and_reads_it_back,
    creating_a_queue_twice_answers_409,
    a_plain_member_may_not_create_queues,
    an_invalid_queue_answers_422_with_field_errors,
    queues_of_other_organizations_are_invisible,
);

async fn create(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/v2/queues/").token(token).json(body).await
}

async fn an_admin_creates_a_queue_and_reads_it_back(app: TestApp) {
    let dev = json!({"key": "DEV", "name": "Development", "lead": "bob"});
    let q: Value = create(&app, ALICE, dev).await.status(201).json();
    assert_eq!(q["key"], "DEV");
    assert_eq!(q["self"], format!("{}/v2/queues/DEV", app.base));
    assert_eq!(q["lead"]["display"], "Bob Baker");
    let got: Value = app.get("/v2/queues/DEV").token(BOB_RO).await.json();
    assert_eq!(got, q);
    let r = app.get("/v2/queues").token(BOB_RO).await;
    assert_eq!(r.header("x-total-count"), "3");
    let list: Vec<Value> = r.json();
    assert_eq!(
        list.iter()
            .map(|q| q["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["TEST", "OPS", "DEV"]
    );
}

async fn creating_a_queue_twice_answers_409(app: TestApp) {
    let body = json!({"key": "TEST", "name": "Again", "lead": "alice"});
    create(&app, ALICE, body).await.error(409);
}

async fn a_plain_member_may_not_create_queues(app: TestApp) {
    // Carol's token may write, but carol does not administer the organization.
    let body = json!({"key": "CAROL", "name": "Carol's", "lead": "carol"});
    create(&app, CAROL_EXPIRING, body).await.error(403);
}

async fn an_invalid_queue_answers_422_with_field_errors(app: TestApp) {
    for (queue, field) in [
        (json!({"key": "1x", "name": "N", "lead": "alice"}), "key"),
        (json!({"key": "OK", "name": "N", "lead": "mallory"}), "lead"),
    ] {
        let body = create(&app, ALICE, queue).await.error(422);
        assert!(body["errors"][field].is_string(), "{body}");
    }
    let body = create(&app, ALICE, json!({"name": "no key"}))
        .await
        .error(422);
    assert_eq!(body["errors"]["key"], "Required field", "{body}");
    assert_eq!(body["errors"]["lead"], "Required field", "{body}");
    create(&app, ALICE, json!(42)).await.error(400);
    // Nothing was half-written: the seed's TEST and OPS only.
    let r = app.get("/v2/queues").await;
    assert_eq!(r.header("x-total-count"), "2");
}

async fn queues_of_other_organizations_are_invisible(app: TestApp) {
    app.get("/v2/queues/SECRET").await.error(404);
    let other: Value = app
        .get("/v2/queues/SECRET")
        .token(MALLORY)
        .org(OTHER)
        .await
        .json();
    let id = other["id"].as_i64().unwrap();
    app.get(&format!("/v2/queues/{id}")).await.error(404);
}
