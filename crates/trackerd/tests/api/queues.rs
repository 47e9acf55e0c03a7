//! The first queue calls, and the envelope for validation errors.

use reqwest::Method;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_admin_creates_a_queue_and_reads_it_back,
    creating_a_queue_twice_answers_409,
    a_plain_member_may_not_create_queues,
    an_invalid_queue_answers_422_with_field_errors,
    queues_of_other_organizations_are_invisible,
);

async fn create(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    app.as_user(Method::POST, "/v2/queues/", token, ACME)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn an_admin_creates_a_queue_and_reads_it_back(app: TestApp) {
    let r = create(
        &app,
        ALICE,
        serde_json::json!({"key": "DEV", "name": "Development", "lead": "bob"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let q: serde_json::Value = r.json().await.unwrap();
    assert_eq!(q["key"], "DEV");
    assert_eq!(q["self"], format!("{}/v2/queues/DEV", app.base));
    assert_eq!(q["lead"]["display"], "Bob Baker");
    let got: serde_json::Value = app
        .get_as("/v2/queues/DEV", BOB_RO)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, q);
    let r = app.get_as("/v2/queues", BOB_RO).await;
    assert_eq!(r.headers()["x-total-count"], "3");
    let list: Vec<serde_json::Value> = r.json().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|q| q["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["TEST", "OPS", "DEV"]
    );
}

async fn creating_a_queue_twice_answers_409(app: TestApp) {
    let body = serde_json::json!({"key": "TEST", "name": "Again", "lead": "alice"});
    envelope(create(&app, ALICE, body).await, 409).await;
}

async fn a_plain_member_may_not_create_queues(app: TestApp) {
    // Carol's token may write, but carol does not administer the organization.
    let body = serde_json::json!({"key": "CAROL", "name": "Carol's", "lead": "carol"});
    envelope(create(&app, CAROL_EXPIRING, body).await, 403).await;
}

async fn an_invalid_queue_answers_422_with_field_errors(app: TestApp) {
    let body = envelope(
        create(
            &app,
            ALICE,
            serde_json::json!({"key": "1x", "name": "N", "lead": "alice"}),
        )
        .await,
        422,
    )
    .await;
    assert!(body["errors"]["key"].is_string(), "{body}");
    let body = envelope(
        create(
            &app,
            ALICE,
            serde_json::json!({"key": "OK", "name": "N", "lead": "mallory"}),
        )
        .await,
        422,
    )
    .await;
    assert!(body["errors"]["lead"].is_string(), "{body}");
    let body = envelope(
        create(&app, ALICE, serde_json::json!({"name": "no key"})).await,
        422,
    )
    .await;
    assert_eq!(body["errors"]["key"], "Required field", "{body}");
    assert_eq!(body["errors"]["lead"], "Required field", "{body}");
    envelope(create(&app, ALICE, serde_json::json!(42)).await, 400).await;
    // Nothing was half-written: the seed's TEST and OPS only.
    let r = app.get_as("/v2/queues", ALICE).await;
    assert_eq!(r.headers()["x-total-count"], "2");
}

async fn queues_of_other_organizations_are_invisible(app: TestApp) {
    envelope(app.get_as("/v2/queues/SECRET", ALICE).await, 404).await;
    let other: serde_json::Value = app
        .as_user(Method::GET, "/v2/queues/SECRET", MALLORY, OTHER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = other["id"].as_i64().unwrap();
    envelope(app.get_as(&format!("/v2/queues/{id}"), ALICE).await, 404).await;
}
