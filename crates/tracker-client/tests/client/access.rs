use futures_util::TryStreamExt;
use tracker_client::tracker_api::CreateQueueRequest;
use tracker_client::{Auth, Client, Error, ListOptions, Method};

use trackerd_testkit::*;

use crate::app_as;

#[tokio::test]
async fn myself_with_an_oauth_token_is_the_tokens_account() {
    let (app, client) = app_as(ALICE).await;
    let me = client.myself().await.unwrap();
    assert_eq!(me.login, "alice");
    assert_eq!(me.email, "alice@acme.test");
    assert!(me.self_url.starts_with(&app.base), "{}", me.self_url);
}

#[tokio::test]
async fn a_cloud_organization_id_selects_the_same_organization() {
    let app = spawn_sqlite_app().await;
    let client = Client::builder()
        .base_url(&app.base)
        .cloud_org_id(ACME_CLOUD)
        .auth(Auth::OAuth(BOB_RO.into()))
        .build()
        .unwrap();
    assert_eq!(client.myself().await.unwrap().login, "bob");
}

#[tokio::test]
async fn giving_both_organization_ids_is_a_configuration_error() {
    let err = Client::builder()
        .org_id(ACME)
        .cloud_org_id(ACME_CLOUD)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_bad_token_is_a_401_api_error_with_the_envelopes_message() {
    let (_app, client) = app_as("y0_nobody").await;
    let err = client.myself().await.unwrap_err();
    match err {
        Error::Api {
            status: 401,
            error_messages,
            ..
        } => assert!(!error_messages.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn another_organizations_token_is_forbidden_not_unauthorized() {
    let (_app, client) = app_as(MALLORY).await;
    let err = client.myself().await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
}

#[tokio::test]
async fn users_are_found_by_login_and_by_uid_and_strangers_are_404() {
    let (_app, client) = app_as(ALICE).await;
    let bob = client.users().get("bob").await.unwrap();
    assert_eq!(bob.first_name, "Bob");
    let again = client.users().get(&bob.uid.to_string()).await.unwrap();
    assert_eq!(again, bob);
    let err = client.users().get("mallory").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn queues_are_created_read_and_listed() {
    let (_app, client) = app_as(ALICE).await;
    let created = client
        .queues()
        .create(&CreateQueueRequest {
            key: "NEWQ".into(),
            name: "New queue".into(),
            lead: "bob".into(),
            description: Some("made by tracker-client".into()),
        })
        .await
        .unwrap();
    assert_eq!(created.key, "NEWQ");
    assert_eq!(created.lead.display, "Bob Baker");
    assert_eq!(client.queues().get("NEWQ").await.unwrap(), created);
    let keys: Vec<String> = client
        .queues()
        .list(&ListOptions { per_page: Some(1) })
        .map_ok(|q| q.key)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.contains(&"NEWQ".to_owned()));
}

/// Creating queue `key` led by `lead` as `token` on a fresh app, which
/// must fail: the error.
async fn queue_refused(token: &str, key: &str, lead: &str) -> Error {
    let (_app, client) = app_as(token).await;
    client
        .queues()
        .create(&crate::new_queue(key, "x", lead))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn validation_errors_carry_the_field_errors() {
    let err = queue_refused(ALICE, "not a key 42", "alice").await;
    match err {
        Error::Api {
            status: 422,
            errors,
            ..
        } => assert!(errors.contains_key("key"), "{errors:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_read_only_token_cannot_create_a_queue() {
    let err = queue_refused(BOB_RO, "RO", "bob").await;
    assert_eq!(err.status(), Some(403));
}

/// `GET path` through the client's escape hatch, which must succeed: the
/// body.
async fn get_json(client: &Client, path: &str) -> serde_json::Value {
    client.request(Method::GET, path).send_json().await.unwrap()
}

#[tokio::test]
async fn the_raw_escape_hatch_reaches_any_path_with_the_clients_credentials() {
    let (_app, client) = app_as(ALICE).await;
    let me = get_json(&client, "/v3/myself").await;
    assert_eq!(me["login"], "alice");
    assert!(me["self"].as_str().unwrap().contains("/v3/users/"));
    let err = client
        .request(Method::GET, "/v2/nothing-here")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn absolute_urls_to_another_host_are_sent_to_the_configured_one() {
    let (_app, client) = app_as(ALICE).await;
    // The token must never travel to a host the caller did not configure.
    let me = get_json(&client, "https://elsewhere.invalid/v2/myself").await;
    assert_eq!(me["login"], "alice");
}
