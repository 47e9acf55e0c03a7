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
    let body = json!({"name": name, "description": "robot", "scopes": scopes});
    app.post_json("/iam/v1/serviceAccounts", body, 201).await
}

async fn create_key(app: &TestApp, sa_id: &str, public_key: Option<&str>) -> Value {
    let mut body = json!({"serviceAccountId": sa_id, "description": "ci"});
    if let Some(p) = public_key {
        body["publicKey"] = json!(p);
    }
    app.post_json("/iam/v1/keys", body, 201).await
}

/// Read-only service account `name` with a key pair of the test's own:
/// (the account's id, the private key, the key's id).
async fn robot_with_key(app: &TestApp, name: &str) -> (String, String, String) {
    let sa = create_sa(app, name, json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap().to_owned();
    let (private, public) = test_key();
    let key = create_key(app, &sa_id, Some(&public)).await;
    (sa_id, private, key["id"].as_str().unwrap().to_owned())
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

async fn exchange(app: &TestApp, jwt: &str) -> Reply {
    app.post("/iam/v1/tokens")
        .anonymous()
        .json(json!({ "jwt": jwt }))
        .await
}

/// `method path` with IAM token `iam` and no organization yet.
fn with_iam(app: &TestApp, method: Method, path: &str, iam: &str) -> Call {
    app.call(method, path)
        .anonymous()
        .header("Authorization", format!("Bearer {iam}"))
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
    let body: Value = r.status(200).json();
    let iam = body["iamToken"].as_str().unwrap();
    assert!(iam.starts_with("t1."));
    let me: Value = with_iam(&app, Method::GET, "/v2/myself", iam)
        .header("X-Cloud-Org-ID", ACME_CLOUD)
        .await
        .status(200)
        .json();
    assert_eq!(me["login"], sa_id);
    assert_eq!(me["display"], "report-robot");
    // Its permissions: read only, and only its own organization.
    with_iam(&app, Method::POST, "/v2/queues", iam)
        .header("X-Org-ID", ACME)
        .json(json!({"key": "ROBOT", "name": "r", "lead": "alice"}))
        .await
        .error(403);
    let myself = |org: &str| with_iam(&app, Method::GET, "/v2/myself", iam).header("X-Org-ID", org);
    myself(OTHER).await.error(403);
    // IAM tokens from a key live as long as any IAM token.
    app.clock.advance(Duration::hours(12));
    myself(ACME).await.error(401);
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
    let list: Value = app
        .read(&format!("/iam/v1/keys?serviceAccountId={sa_id}"))
        .await;
    assert_eq!(list["keys"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("PRIVATE KEY"));
    exchange(&app, &sign(private, &good(&app, kid, sa_id)))
        .await
        .status(200);
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
        assert_eq!(r.code(), 401, "{what}: {}", r.text());
        let body = r.error(401);
        assert!(
            body["errorMessages"][0]
                .as_str()
                .unwrap()
                .starts_with("Invalid JWT"),
            "{what}: {body}"
        );
    }
    // Both kinds of credential at once is a bad request.
    app.post("/iam/v1/tokens")
        .anonymous()
        .json(json!({"jwt": "x", "yandexPassportOauthToken": ALICE}))
        .await
        .error(400);
    // The good one still works.
    exchange(&app, &sign(&private, &good(&app, kid, sa_id)))
        .await
        .status(200);
}

async fn a_deleted_key_no_longer_signs_in(app: TestApp) {
    let (sa_id, private, kid) = robot_with_key(&app, "temp-bot").await;
    app.delete(&format!("/iam/v1/keys/{kid}")).await.status(204);
    exchange(&app, &sign(&private, &good(&app, &kid, &sa_id)))
        .await
        .error(401);
}

async fn only_organization_admins_manage_service_accounts_and_keys(app: TestApp) {
    let sa = create_sa(&app, "acme-bot", json!(["tracker:read"])).await;
    let sa_id = sa["id"].as_str().unwrap();
    // (caller, organization, path, body, status)
    for (token, org, path, body, status) in [
        (
            CAROL_EXPIRING,
            ACME,
            "/iam/v1/serviceAccounts",
            json!({"name": "carols-bot"}),
            403,
        ),
        (
            ALICE,
            ACME,
            "/iam/v1/serviceAccounts",
            json!({"name": "Bad Name!"}),
            422,
        ),
        // Mallory administers another organization: Acme's account is not hers.
        (
            MALLORY,
            OTHER,
            "/iam/v1/keys",
            json!({"serviceAccountId": sa_id}),
            404,
        ),
        (
            ALICE,
            ACME,
            "/iam/v1/keys",
            json!({"serviceAccountId": sa_id, "publicKey": "not a key"}),
            422,
        ),
    ] {
        let r = app.post(path).token(token).org(org).json(&body).await;
        assert_eq!(
            r.code(),
            status,
            "{token} posting {body} to {path}: {}",
            r.text()
        );
        r.error(status);
    }
    let list: Value = app.read("/iam/v1/serviceAccounts").await;
    assert_eq!(list["serviceAccounts"][0]["id"], sa_id);
}

async fn the_audit_trail_is_for_organization_admins_and_stays_in_the_organization(app: TestApp) {
    let (_, _, kid) = robot_with_key(&app, "audited-bot").await;
    app.delete(&format!("/iam/v1/keys/{kid}")).await.status(204);
    app.post("/oauth/v1/apps")
        .json(json!({"name": "Audited", "redirectUris": ["https://a.test/cb"]}))
        .await
        .status(201);

    let r = app.get("/oauth/v1/audit?perPage=2").await.status(200);
    assert_eq!(r.header("x-total-count"), "4");
    let page: Vec<Value> = r.json();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["action"], "app.created");
    assert_eq!(page[0]["login"], "alice");
    assert_eq!(page[0]["ip"], "127.0.0.1");
    assert_eq!(page[1]["action"], "key.deleted");
    assert_eq!(page[1]["target"], kid.as_str());
    let page: Vec<Value> = app.get("/oauth/v1/audit?page=2&perPage=2").await.json();
    let actions: Vec<&str> = page.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["key.created", "service_account.created"]);
    // Not for members, and nothing of Acme's for another organization.
    app.get("/oauth/v1/audit").token(BOB_RO).await.error(403);
    let other: Vec<Value> = app
        .get("/oauth/v1/audit")
        .token(MALLORY)
        .org(OTHER)
        .await
        .json();
    assert!(other.is_empty(), "{other:?}");
}
