//! The device authorization grant (RFC 8628) through HTTP, in its RFC form
//! and in Yandex OAuth's (`grant_type=device_code` with `code=`).

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::oauth::*;
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    the_device_flow_issues_tokens_once_the_user_allows_it_on_the_device_page,
    polling_too_fast_gets_slow_down_and_a_wider_interval,
    an_expired_device_code_gets_expired_token,
    a_denied_device_code_gets_access_denied,
    the_yandex_form_of_the_device_grant_is_accepted,
    the_device_page_refuses_unknown_expired_and_used_codes,
    a_device_code_is_bound_to_its_client,
    device_authorization_refuses_unknown_clients_and_scopes,
    an_admin_registers_the_tracker_cli_under_its_well_known_client_id,
);

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn cli_app(app: &TestApp) -> String {
    let a = register(
        app,
        ALICE,
        json!({"name": "tracker CLI", "redirectUris": ["http://127.0.0.1/unused"],
               "type": "public", "scopes": ["tracker:read", "tracker:write"]}),
    )
    .await;
    a["clientId"].as_str().unwrap().to_owned()
}

/// `POST /device/code` with `form`, as a device asks.
async fn device_authorization(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.request(Method::POST, "/device/code")
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A device authorization for `client_id`, which must be granted: the
/// codes.
pub(crate) async fn device_code(app: &TestApp, client_id: &str, scope: Option<&str>) -> Value {
    let mut form = vec![("client_id", client_id)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let r = device_authorization(app, &form).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> reqwest::Response {
    token_request(
        app,
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    )
    .await
}

/// [`poll`] by a confidential client, which sends its secret.
pub(crate) async fn poll_with_secret(
    app: &TestApp,
    (client_id, secret): (&str, &str),
    device_code: &str,
) -> reqwest::Response {
    token_request(
        app,
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await
}

/// Signs alice in and allows the request showing `user_code`.
async fn allow_on_page(web: &mut Web<'_>, user_code: &str, decision: &str) -> String {
    let r = web
        .get(&format!("/device?user_code={}", enc(user_code)))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("tracker CLI"), "{html}");
    let r = web.decide("/device", &html, decision).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn the_device_flow_issues_tokens_once_the_user_allows_it_on_the_device_page(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = cli_app(&app).await;
    let d = device_code(&app, &client_id, Some("tracker:read")).await;
    let user_code = d["user_code"].as_str().unwrap();
    let device = d["device_code"].as_str().unwrap();
    assert!(device.starts_with("dc_"));
    assert_eq!(user_code.len(), 9);
    assert_eq!(d["verification_uri"], format!("{}/device", app.base));
    assert_eq!(d["verification_url"], d["verification_uri"]);
    assert_eq!(d["interval"], 5);
    assert_eq!(d["expires_in"], 600);

    oauth_error(
        poll(&app, &client_id, device).await,
        400,
        "authorization_pending",
    )
    .await;

    let mut web = Web::new(&app);
    // The page sends a stranger to sign in first and brings them back.
    let r = web.get(&format!("/device?user_code={user_code}")).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/signin?next=%2Fdevice"));
    web.sign_in("alice", ALICE_PASSWORD).await;
    // Typed in lower case, without the dash.
    let typed = user_code.replace('-', "").to_lowercase();
    let done = allow_on_page(&mut web, &typed, "allow").await;
    assert!(done.contains("id=\"done\""), "{done}");

    app.clock.advance(Duration::seconds(5));
    let r = poll(&app, &client_id, device).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "tracker:read");
    assert!(t["refresh_token"].as_str().unwrap().starts_with("y1_"));
    let access = t["access_token"].as_str().unwrap();
    let me: Value = app.get("/v2/myself").token(access).await.json();
    assert_eq!(me["login"], "alice");

    // The device code is spent.
    app.clock.advance(Duration::seconds(5));
    oauth_error(poll(&app, &client_id, device).await, 400, "invalid_grant").await;
    // The refresh token works for a public client with its client_id.
    let r = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn polling_too_fast_gets_slow_down_and_a_wider_interval(app: TestApp) {
    let client_id = cli_app(&app).await;
    let d = device_code(&app, &client_id, None).await;
    let device = d["device_code"].as_str().unwrap();
    oauth_error(
        poll(&app, &client_id, device).await,
        400,
        "authorization_pending",
    )
    .await;
    app.clock.advance(Duration::seconds(2));
    let r = poll(&app, &client_id, device).await;
    oauth_error_saying(r, 400, "slow_down", "10").await;
    // Five seconds is no longer enough: the interval is now ten.
    app.clock.advance(Duration::seconds(6));
    oauth_error(poll(&app, &client_id, device).await, 400, "slow_down").await;
    app.clock.advance(Duration::seconds(16));
    oauth_error(
        poll(&app, &client_id, device).await,
        400,
        "authorization_pending",
    )
    .await;
}

async fn an_expired_device_code_gets_expired_token(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = cli_app(&app).await;
    let d = device_code(&app, &client_id, None).await;
    app.clock.advance(Duration::seconds(600));
    oauth_error(
        poll(&app, &client_id, d["device_code"].as_str().unwrap()).await,
        400,
        "expired_token",
    )
    .await;
    let mut web = Web::alice(&app).await;
    let r = web.device_page(d["user_code"].as_str().unwrap()).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("expired"));
}

async fn a_denied_device_code_gets_access_denied(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = cli_app(&app).await;
    let d = device_code(&app, &client_id, None).await;
    let mut web = Web::alice(&app).await;
    allow_on_page(&mut web, d["user_code"].as_str().unwrap(), "deny").await;
    oauth_error(
        poll(&app, &client_id, d["device_code"].as_str().unwrap()).await,
        400,
        "access_denied",
    )
    .await;
}

async fn the_yandex_form_of_the_device_grant_is_accepted(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    // Yandex's apps are confidential: the secret comes with the poll.
    let (client_id, secret) = confidential_app(&app).await;
    let r = device_authorization(
        &app,
        &[
            ("client_id", client_id.as_str()),
            ("device_id", "laptop"),
            ("device_name", "Laptop"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let d: Value = r.json().await.unwrap();
    let mut web = Web::alice(&app).await;
    let r = web.device_page(d["user_code"].as_str().unwrap()).await;
    let html = r.text().await.unwrap();
    web.decide("/device", &html, "allow").await;
    let code = d["device_code"].as_str().unwrap();
    // Without the secret, a confidential client is refused.
    let r = token_request(
        &app,
        &[
            ("grant_type", "device_code"),
            ("code", code),
            ("client_id", &client_id),
        ],
    )
    .await;
    oauth_error(r, 401, "invalid_client").await;
    let r = token_request(
        &app,
        &[
            ("grant_type", "device_code"),
            ("code", code),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "bearer");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(myself_status(&app, access).await, 200);
}

async fn the_device_page_refuses_unknown_expired_and_used_codes(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = cli_app(&app).await;
    let mut web = Web::alice(&app).await;
    let r = web.get("/device").await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<label for=\"user_code\">"));
    for bad in ["BCDF-GHJK", "not-a-code", "AAAA-AAAA"] {
        let r = web.get(&format!("/device?user_code={bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().await.unwrap().contains("role=\"alert\""));
    }
    let d = device_code(&app, &client_id, None).await;
    let user_code = d["user_code"].as_str().unwrap();
    let r = web.get(&format!("/device?user_code={user_code}")).await;
    let html = r.text().await.unwrap();
    web.decide("/device", &html, "allow").await;
    // The same form again: the code is used.
    let r = web.decide("/device", &html, "allow").await;
    assert_eq!(r.status(), 400);
    // A form without its CSRF token is refused.
    let r = web
        .post(
            "/device",
            &[("user_code", user_code), ("decision", "allow")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn a_device_code_is_bound_to_its_client(app: TestApp) {
    let client_id = cli_app(&app).await;
    let other = public_app(&app).await;
    let d = device_code(&app, &client_id, None).await;
    let r = poll(&app, &other, d["device_code"].as_str().unwrap()).await;
    oauth_error(r, 400, "invalid_grant").await;
    let r = poll(&app, &client_id, "dc_unknown").await;
    oauth_error(r, 400, "invalid_grant").await;
}

async fn device_authorization_refuses_unknown_clients_and_scopes(app: TestApp) {
    let public = public_app(&app).await;
    let r = device_authorization(&app, &[("client_id", "nope")]).await;
    oauth_error(r, 401, "invalid_client").await;
    let form = [("client_id", public.as_str()), ("scope", "tracker:write")];
    let r = device_authorization(&app, &form).await;
    oauth_error(r, 400, "invalid_scope").await;
}

async fn an_admin_registers_the_tracker_cli_under_its_well_known_client_id(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let body = json!({"name": "tracker CLI", "clientId": "tracker-cli", "type": "public",
                      "scopes": ["tracker:read", "tracker:write"]});
    // Choosing a client id is for admins.
    register_reply(&app, CAROL_EXPIRING, &body).await.error(403);
    let a = register(&app, ALICE, body.clone()).await;
    assert_eq!(a["clientId"], "tracker-cli");
    assert_eq!(a["redirectUris"], json!([]));
    register_reply(&app, ALICE, &body).await.error(409);
    // No redirect URI: the browser flows are refused on a page.
    let mut web = Web::alice(&app).await;
    let r = web
        .get("/authorize?response_type=token&client_id=tracker-cli")
        .await;
    assert_eq!(r.status(), 400);
    // The device flow, as the tracker CLI runs it.
    let d = device_code(&app, "tracker-cli", None).await;
    let r = web.device_page(d["user_code"].as_str().unwrap()).await;
    let html = r.text().await.unwrap();
    web.decide("/device", &html, "allow").await;
    let r = poll(&app, "tracker-cli", d["device_code"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(myself_status(&app, access).await, 200);
}
