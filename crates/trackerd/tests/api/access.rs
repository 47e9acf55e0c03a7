//! The access layer: tokens, organizations, scopes, envelopes.

use reqwest::Method;
use tracker_domain::Clock;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    myself_returns_the_caller_for_an_oauth_token,
    myself_answers_on_v3_with_v3_links,
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
    a_read_only_token_gets_403_on_a_write,
    a_trailing_slash_is_accepted,
    json_bodies_on_get_are_ignored,
    unknown_query_parameters_are_ignored,
    unknown_routes_answer_404_in_the_envelope,
    wrong_methods_answer_405_in_the_envelope,
    self_links_follow_the_configured_public_url,
);

async fn myself_returns_the_caller_for_an_oauth_token(app: TestApp) {
    let r = app.get_as("/v2/myself", ALICE).await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
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
    let r = app.get_as("/v3/myself", ALICE).await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["login"], "alice");
    assert!(me["self"].as_str().unwrap().contains("/v3/users/"));
}

async fn myself_returns_401_with_www_authenticate_without_authorization(app: TestApp) {
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("X-Org-ID", ACME)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("www-authenticate"));
    envelope(r, 401).await;
}

async fn myself_returns_401_for_an_unknown_token(app: TestApp) {
    let r = app.get_as("/v2/myself", "y0_no_such_token").await;
    assert!(r.headers().contains_key("www-authenticate"));
    envelope(r, 401).await;
}

async fn myself_returns_401_for_a_malformed_authorization_header(app: TestApp) {
    for value in [
        "Basic YWxpY2U6cGFzcw==",
        "OAuth",
        ALICE,
        "OAuth not provided",
    ] {
        let r = app
            .request(Method::GET, "/v2/myself")
            .header("Authorization", value)
            .header("X-Org-ID", ACME)
            .send()
            .await
            .unwrap();
        envelope(r, 401).await;
    }
}

async fn myself_returns_401_for_an_expired_token(app: TestApp) {
    assert_eq!(app.get_as("/v2/myself", CAROL_EXPIRING).await.status(), 200);
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .into(),
    );
    let body = envelope(app.get_as("/v2/myself", CAROL_EXPIRING).await, 401).await;
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

async fn myself_returns_401_for_a_revoked_token(app: TestApp) {
    assert_eq!(app.get_as("/v2/myself", ALICE).await.status(), 200);
    let token = app
        .state
        .store
        .token_by_hash(&tracker_domain::TokenHash::of(ALICE))
        .await
        .unwrap()
        .unwrap();
    assert!(app
        .state
        .store
        .revoke_token(token.id, app.clock.now())
        .await
        .unwrap());
    app.state.auth.invalidate_all();
    let body = envelope(app.get_as("/v2/myself", ALICE).await, 401).await;
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
}

async fn a_revocation_made_elsewhere_reaches_this_node(app: TestApp) {
    // Warm the node's cache, then revoke through a second connection to the
    // same database, as an admin command or another node would.
    assert_eq!(app.get_as("/v2/myself", ALICE).await.status(), 200);
    let other_node = trackerd::db::open(&trackerd::config::Dsn(app.dsn.clone()))
        .await
        .unwrap();
    let token = other_node
        .token_by_hash(&tracker_domain::TokenHash::of(ALICE))
        .await
        .unwrap()
        .unwrap();
    other_node
        .revoke_token(token.id, app.clock.now())
        .await
        .unwrap();
    app.eventually_status(|| app.as_user(Method::GET, "/v2/myself", ALICE, ACME), 401)
        .await;
}

async fn myself_returns_403_without_an_organization(app: TestApp) {
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {ALICE}"))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn myself_returns_403_for_an_unknown_organization(app: TestApp) {
    let r = app
        .as_user(Method::GET, "/v2/myself", ALICE, "9999999")
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn myself_returns_403_for_an_organization_the_account_is_not_in(app: TestApp) {
    let r = app
        .as_user(Method::GET, "/v2/myself", ALICE, OTHER)
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(Method::GET, "/v2/myself", MALLORY, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn a_cloud_org_id_selects_the_organization(app: TestApp) {
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Cloud-Org-ID", ACME_CLOUD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Cloud-Org-ID", "bpf2other")
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn the_official_clients_placeholder_org_id_counts_as_absent(app: TestApp) {
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Org-Id", "not provided")
        .header("X-Cloud-Org-Id", ACME_CLOUD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Org-Id", "not provided")
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
}

async fn x_org_id_wins_when_both_headers_name_organizations(app: TestApp) {
    let r = app
        .as_user(Method::GET, "/v2/myself", ALICE, ACME)
        .header("X-Cloud-Org-ID", "bpf2other")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn a_read_only_token_gets_403_on_a_write(app: TestApp) {
    assert_eq!(app.get_as("/v2/myself", BOB_RO).await.status(), 200);
    let r = app
        .as_user(Method::POST, "/v2/queues/", BOB_RO, ACME)
        .json(&serde_json::json!({"key": "BOBQ", "name": "Bob's", "lead": "bob"}))
        .send()
        .await
        .unwrap();
    let body = envelope(r, 403).await;
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("tracker:write"),
        "{body}"
    );
}

async fn a_trailing_slash_is_accepted(app: TestApp) {
    assert_eq!(app.get_as("/v2/myself/", ALICE).await.status(), 200);
    assert_eq!(app.get_as("/v2/users/", ALICE).await.status(), 200);
}

async fn json_bodies_on_get_are_ignored(app: TestApp) {
    for body in ["null", "{}", "{\"perPage\": 1}"] {
        let r = app
            .as_user(Method::GET, "/v2/myself", ALICE, ACME)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "body {body}");
    }
}

async fn unknown_query_parameters_are_ignored(app: TestApp) {
    let r = app
        .get_as(
            "/v2/myself?expand=all&_pyClientLocalMapRead=x&whatever=1",
            ALICE,
        )
        .await;
    assert_eq!(r.status(), 200);
}

async fn unknown_routes_answer_404_in_the_envelope(app: TestApp) {
    envelope(app.get_as("/v2/no/such/thing", ALICE).await, 404).await;
    envelope(app.request(Method::GET, "/").send().await.unwrap(), 404).await;
}

async fn wrong_methods_answer_405_in_the_envelope(app: TestApp) {
    let r = app
        .as_user(Method::DELETE, "/v2/myself", ALICE, ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 405).await;
}

async fn self_links_follow_the_configured_public_url(app: TestApp) {
    drop(app);
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.public_url = Some("https://tracker.example.com/".into())
    })
    .await
    .unwrap();
    let me: serde_json::Value = app.get_as("/v2/myself", ALICE).await.json().await.unwrap();
    assert!(
        me["self"]
            .as_str()
            .unwrap()
            .starts_with("https://tracker.example.com/v2/users/"),
        "{me}"
    );
}
