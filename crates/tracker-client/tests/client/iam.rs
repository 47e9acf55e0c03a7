use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use tracker_client::iam::JwtClaims;
use tracker_client::tracker_api::{CreateIamTokenRequest, CreateIamTokenResponse};
use tracker_client::{Auth, Client, ServiceAccountKey};
use tracker_domain::{Clock, ManualClock};

use trackerd_testkit::*;

use crate::app_as;

#[tokio::test]
async fn automatic_iam_tokens_act_as_the_oauth_tokens_account() {
    let app = spawn_sqlite_app().await;
    let client = app.client(Auth::IamFromOAuth(ALICE.into()));
    assert_eq!(client.myself().await.unwrap().login, "alice");
    let iam = client.iam_token().await.unwrap();
    assert!(
        iam.token.starts_with("t1."),
        "an IAM token, not the OAuth one"
    );
    assert_eq!(iam.expires_at, start_time() + chrono::Duration::hours(12));
}

#[tokio::test]
async fn a_bad_oauth_token_fails_the_exchange_with_401() {
    let app = spawn_sqlite_app().await;
    let err = app
        .client(Auth::IamFromOAuth("y0_nobody".into()))
        .myself()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err:?}");
}

#[tokio::test]
async fn an_iam_token_is_replaced_ahead_of_its_expiry_and_after_it() {
    let app = spawn_sqlite_app_with(|c| c.iam_token_lifetime_secs = 600).await;
    let client = app.client(Auth::IamFromOAuth(ALICE.into()));
    let first = client.iam_token().await.unwrap();
    assert_eq!(
        first.expires_at,
        start_time() + chrono::Duration::seconds(600)
    );

    // Well before expiry the token is kept.
    app.clock.advance(chrono::Duration::seconds(200));
    assert_eq!(client.myself().await.unwrap().login, "alice");
    assert_eq!(client.iam_token().await.unwrap(), first);

    // Within the refresh window (half of a 10-minute token) it is replaced
    // while it still works.
    app.clock.advance(chrono::Duration::seconds(110));
    let second = client.iam_token().await.unwrap();
    assert_ne!(second.token, first.token);
    assert_eq!(client.myself().await.unwrap().login, "alice");

    // Long after expiry, the next call exchanges again before sending.
    app.clock.advance(chrono::Duration::seconds(3600));
    assert_eq!(client.myself().await.unwrap().login, "alice");
    let third = client.iam_token().await.unwrap();
    assert_ne!(third.token, second.token);
    assert!(third.expires_at > app.clock.now());
}

#[tokio::test]
async fn an_iam_token_the_server_refuses_is_exchanged_again_once() {
    let app = spawn_sqlite_app_with(|c| c.iam_token_lifetime_secs = 600).await;
    // The client's clock lags the server's: it believes its token is fresh.
    let client = Client::builder()
        .base_url(&app.base)
        .org_id(ACME)
        .auth(Auth::IamFromOAuth(ALICE.into()))
        .clock(Arc::new(SharedClock(ManualClock::new(start_time()))))
        .build()
        .unwrap();
    let first = client.iam_token().await.unwrap();
    assert_eq!(client.myself().await.unwrap().login, "alice");

    app.clock.advance(chrono::Duration::seconds(700));
    assert_eq!(client.myself().await.unwrap().login, "alice");
    assert_ne!(client.iam_token().await.unwrap().token, first.token);
}

#[tokio::test]
async fn a_static_iam_token_is_sent_as_bearer() {
    let (app, client) = app_as(ALICE).await;
    let exchanged = client.iam_token().await.unwrap();
    let client = app.client(Auth::Iam(exchanged.token.clone()));
    assert_eq!(client.myself().await.unwrap().login, "alice");
    // The same token sent as an OAuth token is refused: the scheme matters.
    let wrong = app.client(Auth::OAuth(exchanged.token));
    assert_eq!(wrong.myself().await.unwrap_err().status(), Some(401));
}

/// A stand-in IAM service that counts exchanges and answers slowly, so
/// concurrent callers overlap.
fn counting_iam(count: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/iam/v1/tokens",
        post(move |Json(body): Json<CreateIamTokenRequest>| {
            let count = count.clone();
            async move {
                assert!(body.yandex_passport_oauth_token.is_some());
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Json(CreateIamTokenResponse {
                    iam_token: format!("t1.mock{n}"),
                    expires_at: (chrono::Utc::now() + chrono::Duration::hours(12))
                        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                })
            }
        }),
    )
}

#[tokio::test]
async fn concurrent_callers_share_one_exchange() {
    let count = Arc::new(AtomicUsize::new(0));
    let (iam, _server) = serve_mock(counting_iam(count.clone())).await;
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .iam_url(&iam)
        .auth(Auth::IamFromOAuth("y0_test".into()))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.iam_token().await.unwrap().token })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "t1.mock0");
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_service_account_key_gets_iam_tokens_with_a_jwt_the_iam_url_can_verify() {
    let key_json = include_str!("../data/test-service-account-key.json");
    let public_pem = serde_json::from_str::<serde_json::Value>(key_json).unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let audience = Arc::new(std::sync::Mutex::new(String::new()));
    let aud = audience.clone();
    let router = Router::new().route(
        "/iam/v1/tokens",
        post(move |Json(body): Json<CreateIamTokenRequest>| {
            let aud = aud.lock().unwrap().clone();
            let public_pem = public_pem.clone();
            async move {
                let jwt = body.jwt.expect("a jwt");
                let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
                v.set_audience(&[aud]);
                v.set_issuer(&["ajetestsa00000000001"]);
                let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
                let claims = jsonwebtoken::decode::<JwtClaims>(&jwt, &key, &v)
                    .unwrap()
                    .claims;
                assert!(claims.exp - claims.iat <= 3600);
                let kid = jsonwebtoken::decode_header(&jwt).unwrap().kid.unwrap();
                Json(CreateIamTokenResponse {
                    iam_token: format!("t1.sa.{kid}"),
                    expires_at: "2099-01-01T00:00:00.123456789Z".into(),
                })
            }
        }),
    );
    let (iam, _server) = serve_mock(router).await;
    *audience.lock().unwrap() = format!("{iam}/iam/v1/tokens");
    let key = ServiceAccountKey::from_json(key_json).unwrap();
    let client = Client::builder()
        .iam_url(&iam)
        .cloud_org_id(ACME_CLOUD)
        .auth(Auth::ServiceAccount(key))
        .build()
        .unwrap();
    assert_eq!(
        client.iam_tokens_url().as_str(),
        format!("{iam}/iam/v1/tokens")
    );
    let token = client.iam_token().await.unwrap();
    assert_eq!(token.token, "t1.sa.ajetestkey0000000001");
}

/// A service account with a key made by trackerd, as an organization admin
/// makes them (`POST /iam/v1/serviceAccounts`, `POST /iam/v1/keys`):
/// answers the authorized key file.
async fn service_account_key(app: &TestApp, scopes: serde_json::Value) -> String {
    let sa: serde_json::Value = app
        .post_json(
            "/iam/v1/serviceAccounts",
            serde_json::json!({"name": "report-robot", "scopes": scopes}),
            201,
        )
        .await;
    app.post("/iam/v1/keys")
        .json(serde_json::json!({"serviceAccountId": sa["id"]}))
        .await
        .status(201)
        .text()
        .to_owned()
}

#[tokio::test]
async fn a_trackerd_service_account_key_gets_and_refreshes_iam_tokens() {
    let app = spawn_sqlite_app_with(|c| c.iam_token_lifetime_secs = 600).await;
    let file = service_account_key(&app, serde_json::json!(["tracker:read"])).await;
    let key = ServiceAccountKey::from_json(&file).unwrap();
    let sa_id = key.service_account_id.clone();
    // Only the base URL: the JWT's audience is trackerd's own token URL.
    let client = app
        .builder(Auth::ServiceAccount(key))
        .org_id(ACME)
        .build()
        .unwrap();
    let me = client.myself().await.unwrap();
    assert_eq!(me.login, sa_id, "acts as the service account");
    let first = client.iam_token().await.unwrap();
    assert!(first.token.starts_with("t1."));
    assert_eq!(
        first.expires_at,
        start_time() + chrono::Duration::seconds(600)
    );

    // Inside the refresh window a new JWT is signed and exchanged.
    app.clock.advance(chrono::Duration::seconds(310));
    assert_eq!(client.myself().await.unwrap().login, sa_id);
    let second = client.iam_token().await.unwrap();
    assert_ne!(second.token, first.token);

    // Long after expiry: exchanged again before the call, which succeeds.
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(client.myself().await.unwrap().login, sa_id);
    assert_ne!(client.iam_token().await.unwrap().token, second.token);

    // The account's own scopes hold: it reads but may not write.
    assert_eq!(client.queues().get("TEST").await.unwrap().key, "TEST");
    let err = client
        .issues()
        .create(&tracker_client::NewIssue {
            queue: "TEST".into(),
            summary: "from a read-only robot".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
}

#[tokio::test]
async fn a_key_trackerd_deleted_fails_the_exchange_with_401() {
    let app = spawn_sqlite_app().await;
    let file = service_account_key(&app, serde_json::json!(["tracker:read"])).await;
    let key = ServiceAccountKey::from_json(&file).unwrap();
    app.delete(&format!("/iam/v1/keys/{}", key.id))
        .await
        .status(204);
    let client = app.client(Auth::ServiceAccount(key));
    let err = client.myself().await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err:?}");
}
