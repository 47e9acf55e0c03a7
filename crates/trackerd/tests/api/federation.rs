//! Federated accounts through HTTP: trackerd signs people in through an
//! OpenID Connect provider. The good paths run against `oidc-provider-mock`
//! (PyPI), started as a process on a free port; the bad tokens it cannot
//! make (a wrong nonce, another audience, an unknown key) come from a small
//! provider written here, signing with test keys.

use std::collections::HashMap;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration as StdDuration;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::oauth::{enc, location, params_of, token_request, Web, REDIRECT};
use trackerd_testkit::oidc::{add_provider, no_redirects, MockOidc};
use trackerd_testkit::*;

/// Each test on both backends, on a configuration where an unknown key may
/// be fetched again after a second (the default is a minute).
macro_rules! federation_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::spawn(trackerd_testkit::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::spawn(trackerd_testkit::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

federation_tests!(
    a_first_federated_sign_in_creates_the_account_and_the_second_finds_it,
    a_forged_state_is_refused_at_the_federation_callback,
    a_replayed_callback_or_code_is_refused,
    an_id_token_with_a_wrong_nonce_is_refused,
    an_id_token_for_another_audience_is_refused,
    an_id_token_signed_by_an_unknown_key_is_refused_and_a_rotated_key_is_fetched,
    a_federated_accounts_device_flow_oauth_and_iam_tokens_reach_myself_until_the_provider_is_disabled,
    an_account_removed_at_the_provider_loses_its_tokens_at_the_next_refresh,
    only_a_verified_email_links_an_existing_member,
    a_provider_of_one_organization_signs_no_one_into_another,
    a_seed_file_registers_a_provider_whose_secret_comes_from_the_environment,
    the_federation_pages_answer_bad_input_with_error_pages,
    expired_sign_ins_are_forgotten_by_the_sweep,
);

async fn spawn(backend: Backend) -> Option<TestApp> {
    let app = AppBuilder::new(backend)
        .config(|c| c.federation.jwks_refetch_min_secs = 1)
        .spawn()
        .await?;
    // The providers sign with the real time; the server's manual clock
    // follows it.
    app.clock.set(chrono::Utc::now());
    Some(app)
}

/// From the sign-in page's button to trackerd's answer at the callback.
async fn sign_in_through(web: &mut Web<'_>, mock: &MockOidc, id: &str, sub: &str) -> Response {
    let page = web.get("/signin?next=/my").await;
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("id=\"federation-{id}\"")), "{html}");
    let r = web
        .get(&format!("/federation/{id}/start?next={}", enc("/my")))
        .await;
    assert_eq!(r.status(), 303);
    let back = mock.authorize(&location(&r), sub).await;
    web.get(&back).await
}

/// Acme's members as `/v2/users` lists them.
async fn member_logins(app: &TestApp) -> Vec<String> {
    let r = app
        .as_user(Method::GET, "/v2/users?perPage=100", ALICE, ACME)
        .send()
        .await
        .unwrap();
    let users: Vec<Value> = r.json().await.unwrap();
    users
        .iter()
        .map(|u| u["login"].as_str().unwrap().to_owned())
        .collect()
}

/// A mock provider, registered in Acme as `acme-sso` (accounts created on
/// first sign-in), that knows user `sub` by login `login`; `None` where the
/// test skips (see [`MockOidc::start`]).
async fn acme_sso_with(app: &TestApp, sub: &str, login: &str) -> Option<MockOidc> {
    let mock = MockOidc::start().await?;
    add_provider(app, ACME, "acme-sso", &mock.base, "create").await;
    mock.user(sub, json!({ "preferred_username": login })).await;
    Some(mock)
}

/// A fresh browser signs in through `provider` as `sub`, which must
/// succeed: its account page.
async fn account_page_of(app: &TestApp, mock: &MockOidc, provider: &str, sub: &str) -> String {
    let mut web = Web::new(app);
    let r = sign_in_through(&mut web, mock, provider, sub).await;
    assert_eq!(r.status(), 303, "{sub} through {provider}");
    web.get("/my").await.text().await.unwrap()
}

/// Starts `web`'s sign-in through `acme-sso`, and signs `sub` in at the
/// provider: the callback the provider sends the browser back to.
async fn at_the_provider(web: &mut Web<'_>, mock: &MockOidc, sub: &str) -> String {
    let r = web.get("/federation/acme-sso/start").await;
    mock.authorize(&location(&r), sub).await
}

/// A fresh browser sent back from signing `sub` (`login`) in at a new
/// `acme-sso`: the provider, the browser and the callback; `None` without
/// a provider to run.
async fn at_the_callback<'a>(
    app: &'a TestApp,
    sub: &str,
    login: &str,
) -> Option<(MockOidc, Web<'a>, String)> {
    let mock = acme_sso_with(app, sub, login).await?;
    let mut web = Web::new(app);
    let back = at_the_provider(&mut web, &mock, sub).await;
    Some((mock, web, back))
}

async fn a_first_federated_sign_in_creates_the_account_and_the_second_finds_it(app: TestApp) {
    let Some(mock) = MockOidc::start().await else {
        return;
    };
    add_provider(&app, ACME, "acme-sso", &mock.base, "create").await;
    mock.user(
        "fed-1",
        json!({"preferred_username": "fiona", "given_name": "Fiona", "family_name": "Field",
               "email": "fiona@acme.test", "email_verified": true}),
    )
    .await;
    let mut web = Web::new(&app);
    let r = sign_in_through(&mut web, &mock, "acme-sso", "fed-1").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), "/my");
    let my = web.get("/my").await.text().await.unwrap();
    assert!(my.contains("fiona"), "{my}");
    let fiona = app
        .state
        .store
        .user_by_login("fiona")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (fiona.first_name.as_str(), fiona.email.as_str()),
        ("Fiona", "fiona@acme.test")
    );
    assert!(
        fiona.password_hash.is_none(),
        "a federated account has no password"
    );
    assert!(member_logins(&app).await.contains(&"fiona".to_owned()));

    // The second sign-in, in another browser, finds the same account by
    // issuer and subject, even though the provider renamed the user.
    mock.user(
        "fed-1",
        json!({"preferred_username": "fiona-renamed", "email": "fiona@acme.test"}),
    )
    .await;
    let mut again = Web::new(&app);
    let r = sign_in_through(&mut again, &mock, "acme-sso", "fed-1").await;
    assert_eq!(r.status(), 303);
    let my = again.get("/my").await.text().await.unwrap();
    assert!(my.contains("fiona"), "{my}");
    assert!(app
        .state
        .store
        .user_by_login("fiona-renamed")
        .await
        .unwrap()
        .is_none());
    let logins = member_logins(&app).await;
    assert_eq!(logins.iter().filter(|l| l.starts_with("fiona")).count(), 1);
    // A federated account cannot sign in with a password: it has none.
    let r = web.try_sign_in("fiona", "", "/my").await;
    assert_eq!(r.status(), 401);
}

async fn a_forged_state_is_refused_at_the_federation_callback(app: TestApp) {
    // The provider lives as long as `_mock`.
    let Some((_mock, mut web, back)) = at_the_callback(&app, "fed-2", "gina").await else {
        return;
    };
    let p = params_of(&back, false);
    // A state the server never issued, with a real code.
    let forged = format!(
        "/federation/callback?code={}&state=made-up-state",
        enc(&p["code"])
    );
    let r = web.get(&forged).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Sign-in refused"));
    // The real state in another browser (an attacker's link): refused too.
    let mut other = Web::new(&app);
    let r = other.get(&back).await;
    assert_eq!(r.status(), 403);
    assert!(!other.cookies.contains_key("trackerd_session"));
    // Neither spent it: the browser that started the sign-in finishes it.
    let r = web.get(&back).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert!(web.cookies.contains_key("trackerd_session"));
    // No state at all.
    let r = web.get("/federation/callback?code=x").await;
    assert_eq!(r.status(), 403);
}

async fn a_replayed_callback_or_code_is_refused(app: TestApp) {
    // The provider lives as long as `_mock`.
    let Some((_mock, mut web, back)) = at_the_callback(&app, "fed-3", "hana").await else {
        return;
    };
    let binding = web.cookies["trackerd_federation"].clone();
    assert_eq!(web.get(&back).await.status(), 303);
    // The same callback again, even with the browser's binding cookie: its
    // state is spent.
    web.cookies.insert("trackerd_federation".into(), binding);
    let r = web.get(&back).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("already used"));
    // The old code under a fresh state: the provider refuses it.
    let code = params_of(&back, false)["code"].clone();
    let r = web.get("/federation/acme-sso/start").await;
    let fresh = params_of(&location(&r), false)["state"].clone();
    let r = web
        .get(&format!(
            "/federation/callback?code={}&state={}",
            enc(&code),
            enc(&fresh)
        ))
        .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("refused the sign-in code"));
}

// A provider written here: it signs whatever the test asks for.

struct Key {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    jwk: Value,
}

/// Three RSA keys, made once for the whole run (2048-bit keys take a while).
fn keys() -> &'static [Key; 3] {
    static KEYS: OnceLock<[Key; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let make = |kid: &str| {
            let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            let der = private.to_pkcs1_der().unwrap();
            Key {
                kid: kid.into(),
                encoding: jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
                jwk: json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                    "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
                }),
            }
        };
        [make("key-a"), make("key-b"), make("key-c")]
    })
}

#[derive(Default)]
struct Idp {
    base: String,
    /// Indexes into [`keys`]: the published ones, and the one that signs.
    published: Vec<usize>,
    signer: usize,
    /// Replaces the client id as the token's audience.
    audience: Option<String>,
    /// Replaces the nonce the authorization request sent.
    nonce: Option<String>,
    nonces: HashMap<String, String>,
    jwks_fetches: usize,
}

type Shared = Arc<Mutex<Idp>>;

async fn start_idp() -> Shared {
    let idp: Shared = Arc::new(Mutex::new(Idp {
        published: vec![0],
        ..Idp::default()
    }));
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(s): State<Shared>| async move {
                let base = s.lock().unwrap().base.clone();
                Json(json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": format!("{base}/token"),
                    "jwks_uri": format!("{base}/jwks"),
                }))
            }),
        )
        .route(
            "/jwks",
            get(|State(s): State<Shared>| async move {
                let mut s = s.lock().unwrap();
                s.jwks_fetches += 1;
                let keys: Vec<Value> = s.published.iter().map(|&i| keys()[i].jwk.clone()).collect();
                Json(json!({ "keys": keys }))
            }),
        )
        .route(
            "/authorize",
            get(
                |State(s): State<Shared>, Query(q): Query<HashMap<String, String>>| async move {
                    let code = format!("code-{}", pg::rand_suffix(12));
                    s.lock()
                        .unwrap()
                        .nonces
                        .insert(code.clone(), q["nonce"].clone());
                    Redirect::to(&format!(
                        "{}?code={code}&state={}",
                        q["redirect_uri"],
                        enc(&q["state"])
                    ))
                },
            ),
        )
        .route(
            "/token",
            post(
                |State(s): State<Shared>, Form(f): Form<HashMap<String, String>>| async move {
                    let s = s.lock().unwrap();
                    let Some(sent_nonce) = s.nonces.get(&f["code"]) else {
                        return (
                            axum::http::StatusCode::BAD_REQUEST,
                            Json(json!({"error": "invalid_grant"})),
                        )
                            .into_response();
                    };
                    let now = chrono::Utc::now().timestamp();
                    let claims = json!({
                        "iss": s.base, "sub": "idp-user-1",
                        "aud": s.audience.clone().unwrap_or_else(|| "trackerd-test".into()),
                        "iat": now, "exp": now + 300,
                        "nonce": s.nonce.clone().unwrap_or_else(|| sent_nonce.clone()),
                        "preferred_username": "ivan",
                    });
                    let key = &keys()[s.signer];
                    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                    header.kid = Some(key.kid.clone());
                    let id_token = jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap();
                    Json(
                        json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}),
                    )
                    .into_response()
                },
            ),
        )
        .with_state(idp.clone());
    let (base, _task) = serve_mock(router).await;
    idp.lock().unwrap().base = base;
    idp
}

/// A whole sign-in against the provider written here; trackerd's answer.
async fn sign_in_at_idp(web: &mut Web<'_>) -> Response {
    let r = web.get("/federation/test-idp/start").await;
    assert_eq!(r.status(), 303);
    let r = no_redirects().get(location(&r)).send().await.unwrap();
    web.get(&location(&r)).await
}

async fn with_idp(app: &TestApp) -> Shared {
    let idp = start_idp().await;
    let base = idp.lock().unwrap().base.clone();
    add_provider(app, ACME, "test-idp", &base, "create").await;
    idp
}

async fn refused_saying(r: Response, words: &str) {
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains(words), "{html}");
}

async fn an_id_token_with_a_wrong_nonce_is_refused(app: TestApp) {
    let idp = with_idp(&app).await;
    idp.lock().unwrap().nonce = Some("another-sign-ins-nonce".into());
    let mut web = Web::new(&app);
    refused_saying(sign_in_at_idp(&mut web).await, "nonce").await;
    assert!(!web.cookies.contains_key("trackerd_session"));
    // The same provider with the right nonce signs in: only the nonce was wrong.
    idp.lock().unwrap().nonce = None;
    assert_eq!(sign_in_at_idp(&mut web).await.status(), 303);
}

async fn an_id_token_for_another_audience_is_refused(app: TestApp) {
    let idp = with_idp(&app).await;
    idp.lock().unwrap().audience = Some("some-other-client".into());
    let mut web = Web::new(&app);
    refused_saying(sign_in_at_idp(&mut web).await, "another client").await;
    assert!(app
        .state
        .store
        .user_by_login("ivan")
        .await
        .unwrap()
        .is_none());
}

async fn an_id_token_signed_by_an_unknown_key_is_refused_and_a_rotated_key_is_fetched(
    app: TestApp,
) {
    let idp = with_idp(&app).await;
    let mut web = Web::new(&app);
    assert_eq!(sign_in_at_idp(&mut web).await.status(), 303);
    // Key c is never published: refused, and a burst of such tokens fetches
    // the keys again at most once.
    idp.lock().unwrap().signer = 2;
    let before = idp.lock().unwrap().jwks_fetches;
    for _ in 0..4 {
        refused_saying(
            sign_in_at_idp(&mut Web::new(&app)).await,
            "key the provider does not publish",
        )
        .await;
    }
    assert!(idp.lock().unwrap().jwks_fetches - before <= 1);
    // The provider rotates to key b: trackerd fetches the new set (after the
    // rate limit's second) and accepts it.
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    {
        let mut s = idp.lock().unwrap();
        s.published = vec![1];
        s.signer = 1;
    }
    assert_eq!(sign_in_at_idp(&mut Web::new(&app)).await.status(), 303);
}

/// Signs in through the mock as a new federated account `login`.
async fn federated_browser<'a>(
    app: &'a TestApp,
    mock: &MockOidc,
    sub: &str,
    login: &str,
) -> Web<'a> {
    mock.user(sub, json!({"preferred_username": login})).await;
    let mut web = Web::new(app);
    let r = sign_in_through(&mut web, mock, "acme-sso", sub).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    web
}

async fn a_federated_accounts_device_flow_oauth_and_iam_tokens_reach_myself_until_the_provider_is_disabled(
    app: TestApp,
) {
    let Some(mock) = acme_sso_with(&app, "fed-4", "jules").await else {
        return;
    };
    let client_id = app.register_public_app("A CLI").await;
    let dc = crate::oauth_device::device_code(&app, &client_id, Some("tracker:read")).await;
    let complete = format!(
        "{}&federation=acme-sso",
        dc["verification_uri_complete"].as_str().unwrap()
    );
    // The verification page goes straight to the provider, and back.
    let mut web = Web::new(&app);
    let r = web.get(&complete).await;
    assert_eq!(r.status(), 303);
    let start = location(&r);
    assert!(
        start.starts_with("/federation/acme-sso/start?next="),
        "{start}"
    );
    let r = web.get(&start).await;
    let back = mock.authorize(&location(&r), "fed-4").await;
    let r = web.get(&back).await;
    assert_eq!(r.status(), 303);
    let device_page = location(&r);
    assert!(
        device_page.starts_with("/device?user_code="),
        "{device_page}"
    );
    let html = web.get(&device_page).await.text().await.unwrap();
    let r = web.decide("/device", &html, "allow").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = token_request(
        &app,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", dc["device_code"].as_str().unwrap()),
            ("client_id", client_id.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let oauth = tokens["access_token"].as_str().unwrap().to_owned();
    let me: Value = app.get_as("/v2/myself", &oauth).await.json().await.unwrap();
    assert_eq!(me["login"], "jules");
    let iam = app.iam_token(&oauth).await;
    let bearer = || {
        app.request(Method::GET, "/v2/myself")
            .header("Authorization", format!("Bearer {iam}"))
            .header("X-Org-ID", ACME)
    };
    assert_eq!(bearer().send().await.unwrap().status(), 200);

    // The administrator disables the provider (`trackerd federation disable`).
    let disable = ["federation", "disable", "--id", "acme-sso"];
    crate::oauth_cli::trackerd(&app.dsn, &disable, None);
    app.eventually_status(|| app.as_user(Method::GET, "/v2/myself", &oauth, ACME), 401)
        .await;
    app.eventually_status(bearer, 401).await;
    let r = web.get("/my").await;
    assert_eq!(r.status(), 303, "the session ended");
    let r = web.get("/federation/acme-sso/start").await;
    assert_eq!(r.status(), 404);
    assert!(!web
        .get("/signin")
        .await
        .text()
        .await
        .unwrap()
        .contains("federation-acme-sso"));
}

async fn an_account_removed_at_the_provider_loses_its_tokens_at_the_next_refresh(app: TestApp) {
    let Some(mock) = MockOidc::start().await else {
        return;
    };
    add_provider(&app, ACME, "acme-sso", &mock.base, "create").await;
    let mut web = federated_browser(&app, &mock, "fed-5", "kira").await;
    let (client_id, secret) = crate::oauth::confidential_app(&app).await;
    let p = crate::oauth::obtain_code(&mut web, &client_id, "").await;
    let r = app
        .request(Method::POST, "/token")
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", p["code"].as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let refresh = |rt: String| {
        let app = &app;
        let (client_id, secret) = (client_id.clone(), secret.clone());
        async move {
            app.request(Method::POST, "/token")
                .basic_auth(&client_id, Some(&secret))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // While the provider still knows the account, refreshing works.
    let r = refresh(t["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as("/v2/myself", &access).await.status(), 200);
    // The account is removed at the provider (its tokens revoked there).
    let r = mock
        .http
        .post(format!("{}/users/fed-5/revoke-tokens", mock.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = refresh(t["refresh_token"].as_str().unwrap().to_owned()).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    app.eventually_status(
        || app.as_user(Method::GET, "/v2/myself", &access, ACME),
        401,
    )
    .await;
    assert_eq!(web.get("/my").await.status(), 303, "the session ended");
}

async fn only_a_verified_email_links_an_existing_member(app: TestApp) {
    let Some(mock) = MockOidc::start().await else {
        return;
    };
    add_provider(&app, ACME, "acme-sso", &mock.base, "email").await;
    let bob = app.state.store.user_by_login("bob").await.unwrap().unwrap();
    // Bob's email, unverified: a new account, not bob's.
    mock.user(
        "fed-6",
        json!({"preferred_username": "not-bob", "email": "bob@acme.test", "email_verified": false}),
    )
    .await;
    let html = account_page_of(&app, &mock, "acme-sso", "fed-6").await;
    assert!(html.contains("(not-bob)"), "{html}");
    assert!(app
        .state
        .store
        .federated_identities_of(bob.uid)
        .await
        .unwrap()
        .is_empty());
    // Two members now share the address: a verified email that matches
    // both links neither (it would be a guess).
    mock.user(
        "fed-7",
        json!({"preferred_username": "robert", "email": "BOB@acme.test", "email_verified": true}),
    )
    .await;
    let html = account_page_of(&app, &mock, "acme-sso", "fed-7").await;
    assert!(html.contains("(robert)"), "{html}");
    // A verified email exactly one member has (erin's, given here): linked.
    let store = app.state.store.clone();
    mock.user(
        "fed-8",
        json!({"preferred_username": "bobby", "email": "Bob.Baker@acme.test", "email_verified": true}),
    )
    .await;
    let erin = store.user_by_login("erin").await.unwrap().unwrap();
    store
        .upsert_user(&tracker_store::NewUser {
            login: "erin".into(),
            cloud_uid: erin.cloud_uid.clone(),
            first_name: erin.first_name.clone(),
            last_name: String::new(),
            email: "bob.baker@acme.test".into(),
            password_hash: None,
            created_at: erin.created_at,
        })
        .await
        .unwrap();
    let html = account_page_of(&app, &mock, "acme-sso", "fed-8").await;
    assert!(html.contains("(erin)"), "{html}");
    let ids = store.federated_identities_of(erin.uid).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].subject, "fed-8");
    assert!(store.user_by_login("bobby").await.unwrap().is_none());
}

async fn a_provider_of_one_organization_signs_no_one_into_another(app: TestApp) {
    let Some(mock) = MockOidc::start().await else {
        return;
    };
    // Other's provider, linking by login, claims alice (an Acme member).
    add_provider(&app, OTHER, "other-sso", &mock.base, "login").await;
    mock.user("fed-8", json!({"preferred_username": "alice"}))
        .await;
    let mut web = Web::new(&app);
    let r = sign_in_through(&mut web, &mock, "other-sso", "fed-8").await;
    refused_saying(r, "taken").await;
    assert!(!web.cookies.contains_key("trackerd_session"));
    // A new account made by Other's provider belongs to Other only.
    mock.user("fed-9", json!({"preferred_username": "olga"}))
        .await;
    account_page_of(&app, &mock, "other-sso", "fed-9").await;
    let olga = app
        .state
        .store
        .user_by_login("olga")
        .await
        .unwrap()
        .unwrap();
    let orgs = app.state.store.memberships_of(olga.uid).await.unwrap();
    assert_eq!(orgs.len(), 1);
    let other = app
        .state
        .store
        .organization_by_org_id(OTHER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(orgs[0].org, other.id);
    assert!(!member_logins(&app).await.contains(&"olga".to_owned()));
}

async fn a_seed_file_registers_a_provider_whose_secret_comes_from_the_environment(app: TestApp) {
    let idp = start_idp().await;
    let issuer = idp.lock().unwrap().base.clone();
    let var = format!(
        "TRACKERD_TEST_FED_SECRET_{}",
        pg::rand_suffix(8).to_uppercase()
    );
    let yaml = format!(
        "organizations:\n  - id: \"{ACME}\"\n    name: Acme\n    federations:\n      \
         - id: seeded-sso\n        name: Seeded SSO\n        issuer: {issuer}\n        \
         client_id: trackerd-test\n        client_secret_env: {var}\n"
    );
    let seed: trackerd::seed::SeedFile = serde_yaml_ng::from_str(&yaml).unwrap();
    // Without the variable the seed is refused before anything is written.
    assert!(seed.validate().is_err());
    std::env::set_var(&var, "a-client-secret-for-tests");
    seed.validate().unwrap();
    seed.apply(app.state.store.as_ref(), &app.clock)
        .await
        .unwrap();
    let p = app
        .state
        .store
        .federation_provider("seeded-sso")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.client_secret, "a-client-secret-for-tests");
    assert_eq!(p.scopes, "openid profile email");
    let html = Web::new(&app).get("/signin").await.text().await.unwrap();
    assert!(html.contains("Sign in with Seeded SSO"), "{html}");
    // Applied again (seeds are), it stays one provider.
    seed.apply(app.state.store.as_ref(), &app.clock)
        .await
        .unwrap();
    let all = app
        .state
        .store
        .list_federation_providers(None)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn the_federation_pages_answer_bad_input_with_error_pages(app: TestApp) {
    let idp = with_idp(&app).await;
    drop(idp);
    let huge = "s".repeat(20_000);
    let mut web = Web::new(&app);
    // A sign-in under way, so the binding cookie is there too.
    web.get("/federation/test-idp/start").await;
    for path in [
        "/federation/callback".to_owned(),
        "/federation/callback?state=&code=".to_owned(),
        "/federation/callback?state=a&state=b&code=c".to_owned(),
        format!("/federation/callback?state={huge}&code=x"),
        "/federation/callback?state=%27%20OR%201%3D1--&code=x".to_owned(),
        "/federation/callback?error=access_denied".to_owned(),
        "/federation/no-such-provider/start".to_owned(),
        "/federation/%00/start".to_owned(),
        format!("/federation/{huge}/start"),
        "/federation/test-idp/start?next=https://evil.example/".to_owned(),
    ] {
        let r = web.get(&path).await;
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        if path.ends_with("evil.example/") {
            assert_eq!(status, 303, "{path}");
            continue;
        }
        assert!((400..500).contains(&status), "{path}: {status} {html}");
    }
    // The open redirect is impossible: the `next` kept is trackerd's own.
    let r = web
        .get(&format!(
            "/federation/test-idp/start?next={}",
            enc("//evil.example/")
        ))
        .await;
    let r = no_redirects().get(location(&r)).send().await.unwrap();
    let r = web.get(&location(&r)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/my");
}

async fn expired_sign_ins_are_forgotten_by_the_sweep(app: TestApp) {
    // Without the server's own sweeper: its first round runs as the server
    // starts and, late on a busy machine, could take the expired sign-in
    // before the sweeps counted here.
    let app = app
        .restarted_with(|c| c.attachments.sweep_interval_secs = 0)
        .await;
    app.clock.set(chrono::Utc::now());
    let _idp = with_idp(&app).await;
    let mut web = Web::new(&app);
    let r = web.get("/federation/test-idp/start").await;
    assert_eq!(r.status(), 303);
    let swept = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            trackerd::sweep::sweep(&state)
                .await
                .unwrap()
                .federation_logins
        }
    };
    // Still within its lifetime: kept, so its callback can come.
    assert_eq!(swept(&app).await, 0);
    let lifetime = app.state.config.federation.login_lifetime_secs;
    app.clock.advance(chrono::Duration::seconds(
        i64::try_from(lifetime).unwrap() + 1,
    ));
    assert_eq!(swept(&app).await, 1);
    assert_eq!(swept(&app).await, 0);
}
