//! Service accounts, authorized keys and the JWT exchange at
//! `POST /iam/v1/tokens`, and the audit trail API.

use chrono::Duration;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use tracker_domain::Clock;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_service_account_exchanges_a_jwt_signed_with_its_own_key_for_an_iam_token,
    a_server_made_key_is_returned_once_as_an_authorized_key_file,
    the_jwt_exchange_refuses_bad_signatures_audiences_keys_and_lifetimes,
    a_deleted_key_no_longer_signs_in,
    only_organization_admins_manage_service_accounts_and_keys,
    the_audit_trail_is_for_organization_admins_and_stays_in_the_organization,
);

/// A key pair made by the test: (private PKCS#8 PEM, public SPKI PEM).
fn test_key() -> (String, String) {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let public = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (
        private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public,
    )
}

async fn create_sa(app: &TestApp, name: &str, scopes: Value) -> Value {
    let r = app
        .as_user(Method::POST, "/iam/v1/serviceAccounts", ALICE, ACME)
        .json(&json!({"name": name, "description": "robot", "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn create_key(app: &TestApp, sa_id: &str, public_key: Option<&str>) -> Value {
    let mut body = json!({"serviceAccountId": sa_id, "description": "ci"});
    if let Some(p) = public_key {
        body["publicKey"] = json!(p);
    }
    let r = app
        .as_user(Method::POST, "/iam/v1/keys", ALICE, ACME)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

struct Jwt<'a> {
    kid: &'a str,
    iss: &'a str,
    aud: String,
    iat: i64,
    exp: i64,
    alg: Algorithm,
}

fn sign(private_pem: &str, j: &Jwt) -> String {
    let mut header = Header::new(j.alg);
    header.kid = Some(j.kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &json!({"iss": j.iss, "aud": j.aud, "iat": j.iat, "exp": j.exp}),
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn exchange(app: &TestApp, jwt: &str) -> reqwest::Response {
    app.request(Method::POST, "/iam/v1/tokens")
        .json(&json!({ "jwt": jwt }))
        .send()
        .await
        .unwrap()
}

fn good<'a>(app: &TestApp, kid: &'a str, iss: &'a str) -> Jwt<'a> {
    let now = app.clock.now().timestamp();
    Jwt {
        kid,
        iss,
        aud: format!("{}/iam/v1/tokens", app.base),
        iat: now,
        exp: now + 3600,
        alg: Algorithm::PS256,
    }
}

async fn a_service_account_exchanges_a_jwt_signed_with_its_own_key_for_an_iam_token(app: TestApp) {
    let sa = create_sa(&app, "report-robot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    assert!(sa_id.starts_with("aje") && sa_id.len() == 20, "{sa}");
    let (private, public) = test_key();
    let key = create_key(&app, sa_id, Some(&public)).await;
    assert!(
        key.get("private_key").is_none(),
        "the test keeps its own: {key}"
    );
    let kid = key["id"].as_str().unwrap();

    let r = exchange(&app, &sign(&private, &good(&app, kid, sa_id))).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    let iam = body["iamToken"].as_str().unwrap();
    assert!(iam.starts_with("t1."));
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Cloud-Org-ID", ACME_CLOUD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["login"], sa_id);
    assert_eq!(me["display"], "report-robot");
    // Its permissions: read only, and only its own organization.
    let r = app
        .request(Method::POST, "/v2/queues")
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Org-ID", ACME)
        .json(&json!({"key": "ROBOT", "name": "r", "lead": "alice"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Org-ID", OTHER)
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    // IAM tokens from a key live as long as any IAM token.
    app.clock.advance(Duration::hours(12));
    let r = app
        .request(Method::GET, "/v2/myself")
        .header("Authorization", format!("Bearer {iam}"))
        .header("X-Org-ID", ACME)
        .send()
        .await
        .unwrap();
    envelope(r, 401).await;
}

async fn a_server_made_key_is_returned_once_as_an_authorized_key_file(app: TestApp) {
    let sa = create_sa(&app, "deploy-bot", json!(["tracker:read", "tracker:write"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    let file = create_key(&app, sa_id, None).await;
    assert_eq!(file["service_account_id"], sa_id);
    assert_eq!(file["key_algorithm"], "RSA_2048");
    let private = file["private_key"].as_str().unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let kid = file["id"].as_str().unwrap();
    // The listing never shows the private key again.
    let r = app
        .get_as(&format!("/iam/v1/keys?serviceAccountId={sa_id}"), ALICE)
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["keys"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("PRIVATE KEY"));
    let r = exchange(&app, &sign(private, &good(&app, kid, sa_id))).await;
    assert_eq!(r.status(), 200);
}

async fn the_jwt_exchange_refuses_bad_signatures_audiences_keys_and_lifetimes(app: TestApp) {
    let sa = create_sa(&app, "strict-bot", json!(["tracker:read"])).await;
    let other = create_sa(&app, "other-bot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    let (private, public) = test_key();
    let key = create_key(&app, sa_id, Some(&public)).await;
    let kid = key["id"].as_str().unwrap();
    let (stranger, _) = test_key();
    let now = app.clock.now().timestamp();

    let cases: Vec<(&str, String)> = vec![
        ("bad signature", sign(&stranger, &good(&app, kid, sa_id))),
        (
            "the Yandex Cloud audience",
            sign(
                &private,
                &Jwt {
                    aud: "https://iam.api.cloud.yandex.net/iam/v1/tokens".into(),
                    ..good(&app, kid, sa_id)
                },
            ),
        ),
        (
            "another service account as issuer",
            sign(&private, &good(&app, kid, other["id"].as_str().unwrap())),
        ),
        (
            "unknown key",
            sign(&private, &good(&app, "ajeunknownkey0000000", sa_id)),
        ),
        (
            "expired",
            sign(
                &private,
                &Jwt {
                    iat: now - 3600,
                    exp: now,
                    ..good(&app, kid, sa_id)
                },
            ),
        ),
        (
            "longer than an hour",
            sign(
                &private,
                &Jwt {
                    exp: now + 3601,
                    ..good(&app, kid, sa_id)
                },
            ),
        ),
        (
            "RS256 instead of PS256",
            sign(
                &private,
                &Jwt {
                    alg: Algorithm::RS256,
                    ..good(&app, kid, sa_id)
                },
            ),
        ),
        ("not a JWT", "not.a.jwt".into()),
    ];
    for (what, jwt) in cases {
        let r = exchange(&app, &jwt).await;
        let body = envelope(r, 401).await;
        assert!(
            body["errorMessages"][0]
                .as_str()
                .unwrap()
                .starts_with("Invalid JWT"),
            "{what}: {body}"
        );
    }
    // Both kinds of credential at once is a bad request.
    let r = app
        .request(Method::POST, "/iam/v1/tokens")
        .json(&json!({"jwt": "x", "yandexPassportOauthToken": ALICE}))
        .send()
        .await
        .unwrap();
    envelope(r, 400).await;
    // The good one still works.
    let r = exchange(&app, &sign(&private, &good(&app, kid, sa_id))).await;
    assert_eq!(r.status(), 200);
}

async fn a_deleted_key_no_longer_signs_in(app: TestApp) {
    let sa = create_sa(&app, "temp-bot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    let (private, public) = test_key();
    let kid = create_key(&app, sa_id, Some(&public)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .as_user(Method::DELETE, &format!("/iam/v1/keys/{kid}"), ALICE, ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = exchange(&app, &sign(&private, &good(&app, &kid, sa_id))).await;
    envelope(r, 401).await;
}

async fn only_organization_admins_manage_service_accounts_and_keys(app: TestApp) {
    let r = app
        .as_user(
            Method::POST,
            "/iam/v1/serviceAccounts",
            CAROL_EXPIRING,
            ACME,
        )
        .json(&json!({"name": "carols-bot"}))
        .send()
        .await
        .unwrap();
    envelope(r, 403).await;
    let r = app
        .as_user(Method::POST, "/iam/v1/serviceAccounts", ALICE, ACME)
        .json(&json!({"name": "Bad Name!"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
    let sa = create_sa(&app, "acme-bot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    // Mallory administers another organization: Acme's account is not hers.
    let r = app
        .as_user(Method::POST, "/iam/v1/keys", MALLORY, OTHER)
        .json(&json!({"serviceAccountId": sa_id}))
        .send()
        .await
        .unwrap();
    envelope(r, 404).await;
    let r = app.get_as("/iam/v1/serviceAccounts", ALICE).await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["serviceAccounts"][0]["id"], sa_id);
    let r = app
        .as_user(Method::POST, "/iam/v1/keys", ALICE, ACME)
        .json(&json!({"serviceAccountId": sa_id, "publicKey": "not a key"}))
        .send()
        .await
        .unwrap();
    envelope(r, 422).await;
}

async fn the_audit_trail_is_for_organization_admins_and_stays_in_the_organization(app: TestApp) {
    let sa = create_sa(&app, "audited-bot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    let (_, public) = test_key();
    let kid = create_key(&app, sa_id, Some(&public)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .as_user(Method::DELETE, &format!("/iam/v1/keys/{kid}"), ALICE, ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .as_user(Method::POST, "/oauth/v1/apps", ALICE, ACME)
        .json(&json!({"name": "Audited", "redirectUris": ["https://a.test/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let r = app.get_as("/oauth/v1/audit?perPage=2", ALICE).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "4");
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["action"], "app.created");
    assert_eq!(page[0]["login"], "alice");
    assert_eq!(page[0]["ip"], "127.0.0.1");
    assert_eq!(page[1]["action"], "key.deleted");
    assert_eq!(page[1]["target"], kid.as_str());
    let r = app.get_as("/oauth/v1/audit?page=2&perPage=2", ALICE).await;
    let page: Vec<Value> = r.json().await.unwrap();
    let actions: Vec<&str> = page.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["key.created", "service_account.created"]);
    // Not for members, and nothing of Acme's for another organization.
    app.get("/oauth/v1/audit").token(BOB_RO).await.error(403);
    let r = app
        .as_user(Method::GET, "/oauth/v1/audit", MALLORY, OTHER)
        .send()
        .await
        .unwrap();
    let other: Vec<Value> = r.json().await.unwrap();
    assert!(other.is_empty(), "{other:?}");
}
