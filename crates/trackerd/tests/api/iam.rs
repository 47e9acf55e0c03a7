//! `POST /iam/v1/tokens` and IAM tokens in use.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_iam_token_acts_as_its_account,
    iam_tokens_expire_after_twelve_hours,
    an_iam_token_never_outlives_its_oauth_token,
    an_iam_token_dies_with_its_revoked_parent,
    an_iam_token_keeps_the_read_only_scope_of_its_parent,
    tokens_are_only_accepted_under_their_own_scheme,
    the_exchange_answers_400_for_bad_json,
    the_exchange_answers_400_without_an_oauth_token,
    the_exchange_answers_401_for_a_bad_oauth_token,
    the_iam_lifetime_is_configurable,
);

async fn exchange(app: &TestApp, body: &str) -> reqwest::Response {
    app.request(Method::POST, "/iam/v1/tokens")
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

fn bearer(app: &TestApp, iam: &str, cloud_org: &str) -> reqwest::RequestBuilder {
    app.request(Method::GET, "/v2/myself")
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Cloud-Org-ID", cloud_org)
}

/// The status `GET /v2/myself` answers with IAM token `iam` in `cloud_org`.
async fn myself_status(app: &TestApp, iam: &str, cloud_org: &str) -> u16 {
    bearer(app, iam, cloud_org)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn an_iam_token_acts_as_its_account(app: TestApp) {
    let r = exchange(
        &app,
        &format!(r#"{{"yandexPassportOauthToken":"{ALICE}"}}"#),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let iam = body["iamToken"].as_str().unwrap();
    assert!(iam.starts_with("t1."), "{iam}");
    let expires: DateTime<Utc> = body["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, start_time() + Duration::hours(12));
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));

    let r = bearer(&app, iam, ACME_CLOUD).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["login"], "alice");
    // It is still alice's account: no access to an organization she is not in.
    envelope(bearer(&app, iam, "bpf2other").send().await.unwrap(), 403).await;
}

async fn iam_tokens_expire_after_twelve_hours(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    app.clock
        .advance(Duration::hours(12) - Duration::seconds(1));
    assert_eq!(myself_status(&app, &iam, ACME_CLOUD).await, 200);
    app.clock.advance(Duration::seconds(1));
    envelope(bearer(&app, &iam, ACME_CLOUD).send().await.unwrap(), 401).await;
}

async fn an_iam_token_never_outlives_its_oauth_token(app: TestApp) {
    // Carol's OAuth token expires on 2026-06-01.
    app.clock.set("2026-05-31T18:00:00Z".parse().unwrap());
    let r = exchange(
        &app,
        &format!(r#"{{"yandexPassportOauthToken":"{CAROL_EXPIRING}"}}"#),
    )
    .await;
    let body: serde_json::Value = r.json().await.unwrap();
    let expires: DateTime<Utc> = body["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        expires,
        "2026-06-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
}

async fn an_iam_token_dies_with_its_revoked_parent(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    assert_eq!(myself_status(&app, &iam, ACME_CLOUD).await, 200);
    app.revoke_seeded_token(ALICE).await;
    app.eventually_status(|| bearer(&app, &iam, ACME_CLOUD), 401)
        .await;
    // And no new IAM token comes from a revoked parent.
    envelope(
        exchange(
            &app,
            &format!(r#"{{"yandexPassportOauthToken":"{ALICE}"}}"#),
        )
        .await,
        401,
    )
    .await;
}

async fn an_iam_token_keeps_the_read_only_scope_of_its_parent(app: TestApp) {
    let iam = app.iam_token(BOB_RO).await;
    assert_eq!(myself_status(&app, &iam, ACME_CLOUD).await, 200);
    app.post("/v2/queues")
        .anonymous()
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Cloud-Org-ID", ACME_CLOUD)
        .json(serde_json::json!({"key": "BOBQ", "name": "Bob's", "lead": "bob"}))
        .await
        .error(403);
}

async fn tokens_are_only_accepted_under_their_own_scheme(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {iam}"))
        .header("X-Org-ID", ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 401).await;
    envelope(bearer(&app, ALICE, ACME_CLOUD).send().await.unwrap(), 401).await;
}

async fn the_exchange_answers_400_for_bad_json(app: TestApp) {
    for body in [
        "{",
        "not json",
        "",
        "[1,2]",
        r#"{"yandexPassportOauthToken": 5}"#,
    ] {
        envelope(exchange(&app, body).await, 400).await;
    }
}

async fn the_exchange_answers_400_without_an_oauth_token(app: TestApp) {
    envelope(exchange(&app, "{}").await, 400).await;
    envelope(exchange(&app, "null").await, 400).await;
    envelope(
        exchange(&app, r#"{"yandexPassportOauthToken": ""}"#).await,
        400,
    )
    .await;
}

async fn the_exchange_answers_401_for_a_bad_oauth_token(app: TestApp) {
    let r = exchange(&app, r#"{"yandexPassportOauthToken":"y0_nope"}"#).await;
    envelope(r, 401).await;
}

async fn the_iam_lifetime_is_configurable(app: TestApp) {
    drop(app);
    let app = spawn_app_with(Backend::Sqlite, |c| c.iam_token_lifetime_secs = 60)
        .await
        .unwrap();
    let iam = app.iam_token(ALICE).await;
    app.clock.advance(Duration::seconds(61));
    envelope(bearer(&app, &iam, ACME_CLOUD).send().await.unwrap(), 401).await;
}
