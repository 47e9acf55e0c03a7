//! What real clients were found to rely on: fields they send on every write,
//! and what they read from the answers.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    markup_type_is_accepted_wherever_clients_send_it,
    statuses_carry_their_type_in_issues_lists_and_transitions,
    fields_carry_their_category_and_type,
    issue_durations_are_kept_in_business_normal_form,
    an_administrator_registers_an_app_with_the_client_id_and_secret_a_client_ships_with,
);

async fn markup_type_is_accepted_wherever_clients_send_it(app: TestApp) {
    let body = json!({"queue": "TEST", "summary": "x", "description": "**b**", "markupType": "md"});
    app.post("/v2/issues").json(body).await.status(201);
    let change = json!({"description": "_i_", "markupType": "md"});
    app.patch("/v2/issues/TEST-1")
        .json(change)
        .await
        .status(200);
    let comment = json!({"text": "**c**", "markupType": "md"});
    app.post("/v2/issues/TEST-1/comments")
        .json(comment)
        .await
        .status(201);
    let transition = json!({"comment": "on it", "markupType": "md"});
    let start = "/v2/issues/TEST-1/transitions/start_progress/_execute";
    app.post(start).json(transition).await.status(200);
    let bad = json!({"summary": "y", "markupType": 5});
    let e = app.patch("/v2/issues/TEST-1").json(bad).await.error(422);
    assert!(e["errors"].get("markupType").is_some(), "{e}");
}

async fn statuses_carry_their_type_in_issues_lists_and_transitions(app: TestApp) {
    let issue = app.create_test_issue("x").await;
    assert_eq!(issue["status"]["type"], "new");
    let statuses: Value = app.read("/v2/statuses").await;
    let types: Vec<(&str, &str)> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("open", "new"),
            ("needInfo", "paused"),
            ("inProgress", "inProgress"),
            ("inReview", "inProgress"),
            ("resolved", "done"),
            ("closed", "done"),
        ]
    );
    let closed: Value = app.read("/v2/statuses/closed").await;
    assert_eq!(closed["type"], "done");
    let transitions: Value = app.read("/v2/issues/TEST-1/transitions").await;
    let close = transitions
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "close");
    assert_eq!(close.unwrap()["to"]["type"], "done");
}

async fn fields_carry_their_category_and_type(app: TestApp) {
    let summary: Value = app.read("/v2/fields/summary").await;
    assert_eq!(summary["type"], "standard");
    assert_eq!(summary["category"]["display"], "System");
    assert_eq!(summary["schema"]["type"], "string");
    let all: Value = app.read("/v2/fields").await;
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["category"]["id"].is_string()));
}

async fn issue_durations_are_kept_in_business_normal_form(app: TestApp) {
    let body = json!({"queue": "TEST", "summary": "x", "originalEstimation": "P5D"});
    let issue = app.create_issue(body).await;
    assert_eq!(issue["originalEstimation"], "P1W");
    let change = json!({"estimation": "PT12H"});
    let issue: Value = app.edit("/v2/issues/TEST-1", change).await;
    assert_eq!(issue["estimation"], "P1DT4H");
    let e = app
        .patch("/v2/issues/TEST-1")
        .json(json!({"estimation": "12h"}))
        .await
        .error(422);
    assert!(e["errors"].get("estimation").is_some(), "{e}");
}

async fn an_administrator_registers_an_app_with_the_client_id_and_secret_a_client_ships_with(
    app: TestApp,
) {
    let secret = "shipped-secret-0123456789";
    let body = json!({
        "name": "Shipped CLI",
        "redirectUris": ["https://cli.test/cb"],
        "clientId": "shipped-cli",
        "clientSecret": secret,
    });
    let created: Value = app.post_json("/oauth/v1/apps", &body, 201).await;
    assert_eq!(created["clientId"], "shipped-cli");
    assert!(
        created.get("clientSecret").is_none_or(|s| s == secret),
        "{created}"
    );
    // The secret authenticates the client, as the real one would.
    let introspect = |password: &str| {
        app.client
            .post(format!("{}/introspect", app.base))
            .basic_auth("shipped-cli", Some(password))
            .form(&[("token", "y0_not_a_token")])
            .send()
    };
    let r = introspect(secret).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], false);
    assert_eq!(
        introspect("shipped-secret-wrong-0000")
            .await
            .unwrap()
            .status(),
        401
    );

    let mut other = body.clone();
    other["clientId"] = json!("carols-cli");
    let carol = app
        .post("/oauth/v1/apps")
        .token(CAROL_EXPIRING)
        .json(&other)
        .await;
    carol.error(403);
    for (field, value) in [
        ("clientSecret", json!("short")),
        ("clientSecret", json!("has spaces in it, sixteen+")),
    ] {
        let mut bad = other.clone();
        bad[field] = value;
        let e = app.post("/oauth/v1/apps").json(bad).await.error(422);
        assert!(e["errors"].get("clientSecret").is_some(), "{e}");
    }
    let mut public = other.clone();
    public["type"] = json!("public");
    app.post("/oauth/v1/apps").json(public).await.error(422);
}
