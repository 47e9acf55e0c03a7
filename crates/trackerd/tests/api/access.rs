//! The access layer: tokens, organizations, scopes, envelopes.

use tracker_domain::Clock;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    myself_returns_the_caller_for_an_oauth_token,
    myself_answers_on_v3_with_v3_links,
    myself_kept_with_the_token_still_follows_each_requests_links,
    myself_returns_401_with_www_authenticate_without_authorization,
    myself_returns_401_for_an_unknown_token,
    myself_returns_401_for_a_malformed_authorization_header,
    myself_returns_401_for_an_expired_token,
    myself_returns_401_for_a_revoked_token,
    a_revocation_made_elsewhere_reaches_this_node,
    myself_returns_403_without_an_organization,
    myself_returns_403_for_an_unknown_organization,
    myself_returns_403_for_an_organization_the_account_is_not_in,
    a_cloud_org_id_selects_the_organization,
    the_official_clients_placeholder_org_id_counts_as_absent,
    x_org_id_wins_when_both_headers_name_organizations,
    a_token_answered_in_its_organization_still_gets_403_in_another,
    a_read_only_token_gets_403_on_a_write,
    a_trailing_slash_is_accepted,
    json_bodies_on_get_are_ignored,
    unknown_query_parameters_are_ignored,
    unknown_routes_answer_404_in_the_envelope,
    wrong_methods_answer_405_in_the_envelope,
    self_links_follow_the_configured_public_url,
);

async fn myself_returns_the_caller_for_an_oauth_token(app: TestApp) {
    let me: serde_json::Value = app.read("/v2/myself").await;
    assert_eq!(me["login"], "alice");
    assert_eq!(me["firstName"], "Alice");
    assert_eq!(me["lastName"], "Archer");
    assert_eq!(me["display"], "Alice Archer");
    assert_eq!(me["email"], "alice@acme.test");
    let uid = me["uid"].as_i64().unwrap();
    assert_eq!(me["trackerUid"], uid);
    assert_eq!(me["passportUid"], uid);
    assert_eq!(me["self"], format!("{}/v2/users/{uid}", app.base));
    assert_eq!(me["dismissed"], false);
    assert!(me["cloudUid"].as_str().unwrap().len() == 20);
    // The first use of a token is the account's first login.
    assert!(me["firstLoginDate"].is_null() || me["firstLoginDate"].is_string());
}

async fn myself_answers_on_v3_with_v3_links(app: TestApp) {
    let me: serde_json::Value = app.read("/v3/myself").await;
    assert_eq!(me["login"], "alice");
    assert!(me["self"].as_str().unwrap().contains("/v3/users/"));
}

/// The body is kept with the authentication after the first request: a
/// later one with the same token on another API version, another host or
/// scheme must not get the first one's links.
async fn myself_kept_with_the_token_still_follows_each_requests_links(app: TestApp) {
    let first: serde_json::Value = app.read("/v2/myself").await;
    let again: serde_json::Value = app.read("/v2/myself").await;
    assert_eq!(first, again);
    let v3: serde_json::Value = app.read("/v3/myself").await;
    assert!(v3["self"].as_str().unwrap().contains("/v3/users/"), "{v3}");
    let elsewhere: serde_json::Value = app
        .get("/v2/myself")
        .header("Host", "tracker.example")
        .header("X-Forwarded-Proto", "https")
        .await
        .status(200)
        .json();
    let link = elsewhere["self"].as_str().unwrap();
    assert!(
        link.starts_with("https://tracker.example/v2/users/"),
        "{link}"
    );
    assert_eq!(elsewhere["login"], "alice");
    let back: serde_json::Value = app.read("/v2/myself").await;
    assert_eq!(back["self"], first["self"]);
}

async fn myself_returns_401_with_www_authenticate_without_authorization(app: TestApp) {
    let r = app.get("/v2/myself").anonymous().org(ACME).await;
    assert!(r.headers().contains_key("www-authenticate"));
    r.error(401);
}

async fn myself_returns_401_for_an_unknown_token(app: TestApp) {
    let r = app.get("/v2/myself").token("y0_no_such_token").await;
    assert!(r.headers().contains_key("www-authenticate"));
    r.error(401);
}

async fn myself_returns_401_for_a_malformed_authorization_header(app: TestApp) {
    for value in [
        "Basic YWxpY2U6cGFzcw==",
        "OAuth",
        ALICE,
        "OAuth not provided",
    ] {
        let r = app.get("/v2/myself").anonymous().org(ACME);
        r.header("Authorization", value).await.error(401);
    }
}

async fn myself_returns_401_for_an_expired_token(app: TestApp) {
    let myself = || app.get("/v2/myself").token(CAROL_EXPIRING);
    myself().await.status(200);
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .into(),
    );
    myself().await.error_saying(401, "expired");
}

async fn myself_returns_401_for_a_revoked_token(app: TestApp) {
    app.get("/v2/myself").await.status(200);
    app.revoke_seeded_token(ALICE).await;
    app.state.auth.invalidate_all();
    app.get("/v2/myself").await.error_saying(401, "revoked");
}

async fn a_revocation_made_elsewhere_reaches_this_node(app: TestApp) {
    // Warm the node's cache, then revoke through a second connection to the
    // same database, as an admin command or another node would.
    app.get("/v2/myself").await.status(200);
    let other_node = trackerd::db::open(&trackerd::config::Dsn(app.dsn.clone()))
        .await
        .unwrap();
    revoke_in(other_node.as_ref(), ALICE, app.clock.now()).await;
    app.eventually_unauthorized(&format!("OAuth {ALICE}")).await;
}

async fn myself_returns_403_without_an_organization(app: TestApp) {
    let r = app.get("/v2/myself").anonymous().token(ALICE).await;
    r.error(403);
}

async fn myself_returns_403_for_an_unknown_organization(app: TestApp) {
    app.get("/v2/myself").org("9999999").await.error(403);
}

/// A token's cache entry keeps the organization it was first answered in:
/// naming another one must be checked afresh, never answered from it.
async fn a_token_answered_in_its_organization_still_gets_403_in_another(app: TestApp) {
    app.get("/v2/myself").await.status(200);
    app.get("/v2/myself").org(OTHER).await.error(403);
    app.get("/v2/myself").org("9999999").await.error(403);
    app.get("/v2/myself").await.status(200);
}

async fn myself_returns_403_for_an_organization_the_account_is_not_in(app: TestApp) {
    app.get("/v2/myself").org(OTHER).await.error(403);
    app.get("/v2/myself").token(MALLORY).await.error(403);
}

/// `GET /v2/myself` as alice with only `headers` to name her organization.
async fn myself_in(app: &TestApp, headers: &[(&str, &str)]) -> Reply {
    let mut r = app.get("/v2/myself").anonymous().token(ALICE);
    for (name, value) in headers {
        r = r.header(name, value);
    }
    r.await
}

async fn a_cloud_org_id_selects_the_organization(app: TestApp) {
    myself_in(&app, &[("X-Cloud-Org-ID", ACME_CLOUD)])
        .await
        .status(200);
    myself_in(&app, &[("X-Cloud-Org-ID", "bpf2other")])
        .await
        .error(403);
}

async fn the_official_clients_placeholder_org_id_counts_as_absent(app: TestApp) {
    let placeholder = ("X-Org-Id", "not provided");
    myself_in(&app, &[placeholder, ("X-Cloud-Org-Id", ACME_CLOUD)])
        .await
        .status(200);
    myself_in(&app, &[placeholder]).await.error(403);
}

async fn x_org_id_wins_when_both_headers_name_organizations(app: TestApp) {
    let r = app.get("/v2/myself").header("X-Cloud-Org-ID", "bpf2other");
    r.await.status(200);
}

async fn a_read_only_token_gets_403_on_a_write(app: TestApp) {
    app.get("/v2/myself").token(BOB_RO).await.status(200);
    let queue = serde_json::json!({"key": "BOBQ", "name": "Bob's", "lead": "bob"});
    let r = app.post("/v2/queues/").token(BOB_RO).json(queue).await;
    r.error_saying(403, "tracker:write");
}

async fn a_trailing_slash_is_accepted(app: TestApp) {
    app.get("/v2/myself/").await.status(200);
    app.get("/v2/users/").await.status(200);
}

async fn json_bodies_on_get_are_ignored(app: TestApp) {
    for body in ["null", "{}", "{\"perPage\": 1}"] {
        let r = app
            .get("/v2/myself")
            .header("Content-Type", "application/json")
            .body(body)
            .await;
        assert_eq!(r.code(), 200, "body {body}");
    }
}

async fn unknown_query_parameters_are_ignored(app: TestApp) {
    let path = "/v2/myself?expand=all&_pyClientLocalMapRead=x&whatever=1";
    app.get(path).await.status(200);
}

async fn unknown_routes_answer_404_in_the_envelope(app: TestApp) {
    app.get("/v2/no/such/thing").await.error(404);
    app.get("/").anonymous().await.error(404);
}

async fn wrong_methods_answer_405_in_the_envelope(app: TestApp) {
    app.delete("/v2/myself").await.error(405);
}

async fn self_links_follow_the_configured_public_url(app: TestApp) {
    drop(app);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://tracker.example.com/".into())
    })
    .await
    .unwrap();
    let me: serde_json::Value = app.get("/v2/myself").await.json();
    assert!(
        me["self"]
            .as_str()
            .unwrap()
            .starts_with("https://tracker.example.com/v2/users/"),
        "{me}"
    );
}
