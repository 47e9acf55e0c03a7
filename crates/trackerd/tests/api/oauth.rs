//! The authorization server through HTTP: applications, the authorization
//! code flow with PKCE, the implicit grant, refresh rotation, revocation,
//! introspection, sign-in and consent pages.

use std::collections::HashMap;

use chrono::Duration;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use tracker_domain::TokenHash;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    registering_an_app_shows_its_secret_once_and_stores_only_its_hash,
    app_registration_refuses_bad_redirect_uris_scopes_and_types,
    members_manage_their_own_apps_and_admins_all_of_their_organization,
    metadata_names_every_endpoint_of_this_server,
    the_code_flow_with_pkce_gives_a_token_that_reads_myself,
    a_public_client_must_use_pkce_with_s256,
    authorize_never_redirects_to_an_unregistered_uri_or_for_an_unknown_client,
    authorize_errors_go_back_to_the_client_with_its_state,
    a_reused_code_is_refused_and_revokes_the_tokens_it_gave,
    a_pkce_mismatch_or_missing_verifier_is_invalid_grant,
    a_code_is_bound_to_its_client_redirect_uri_and_lifetime,
    the_implicit_grant_returns_the_token_in_the_fragment,
    denying_consent_sends_access_denied_with_the_state,
    remembered_consent_skips_the_page_until_more_is_asked,
    refresh_tokens_rotate_and_a_replay_revokes_the_whole_family,
    confidential_clients_must_authenticate_at_the_token_endpoint,
    revocation_acts_only_on_the_calling_clients_tokens,
    introspection_answers_only_about_the_calling_clients_tokens,
    sign_in_locks_an_account_after_repeated_failures,
    parallel_wrong_passwords_check_no_more_than_the_limit,
    a_sign_in_never_redirects_off_the_server,
    sign_in_locks_a_source_address_after_repeated_failures,
    forms_without_the_csrf_token_are_refused,
    a_planted_sign_in_token_the_server_never_issued_is_refused,
    parallel_attempts_from_one_address_check_no_more_than_its_limit,
    a_successful_sign_in_does_not_count_against_its_address,
    a_sign_in_form_from_one_node_is_accepted_by_another,
    withdrawing_consent_revokes_the_apps_tokens,
    the_account_page_lists_and_revokes_tokens,
    the_registration_page_creates_an_app_and_shows_its_secret_once,
    an_admin_can_require_a_password_change_on_first_sign_in,
    unsupported_grant_types_and_repeated_parameters_are_rfc_errors,
    deleting_an_app_revokes_every_token_issued_to_it,
    other_yandex_scopes_are_registered_granted_and_give_no_tracker_rights,
);

pub const ALICE_PASSWORD: &str = "correct horse battery";
pub const BOB_PASSWORD: &str = "bob's long passphrase";
pub const REDIRECT: &str = "http://client.test/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A browser without JavaScript: keeps cookies, follows no redirects.
pub struct Web<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl<'a> Web<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn keep_cookies(&mut self, r: &Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            assert!(attrs.contains("HttpOnly"), "{v}");
            assert!(attrs.contains("SameSite=Lax"), "{v}");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.app.base, path)
        };
        let r = self
            .client
            .get(url)
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        r
    }

    /// [`Web::post`] of a form of owned values.
    pub async fn post_form(&mut self, path: &str, form: &[(&str, String)]) -> Response {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(path, &form).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let r = self
            .client
            .post(format!("{}{}", self.app.base, path))
            .header("Cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        r
    }

    /// A browser signed in as alice, whose password the test has set to
    /// [`ALICE_PASSWORD`].
    pub async fn alice(app: &'a TestApp) -> Web<'a> {
        let mut web = Web::new(app);
        web.sign_in("alice", ALICE_PASSWORD).await;
        web
    }

    /// The device page for `user_code`, as its link (unencoded) names it.
    pub async fn device_page(&mut self, user_code: &str) -> Response {
        self.get(&format!("/device?user_code={user_code}")).await
    }

    /// Signs in through the page and checks it worked.
    pub async fn sign_in(&mut self, login: &str, password: &str) {
        let r = self.try_sign_in(login, password, "/my").await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        assert_eq!(location(&r), "/my");
        assert!(self.cookies.contains_key("trackerd_session"));
    }

    pub async fn try_sign_in(&mut self, login: &str, password: &str, next: &str) -> Response {
        let page = self.get(&format!("/signin?next={}", enc(next))).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let csrf = hidden(&html, "csrf");
        self.post(
            "/signin",
            &[
                ("login", login),
                ("password", password),
                ("csrf", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// Submits the form of `html` that holds a button `decision`, with its
    /// hidden fields.
    pub async fn decide(&mut self, action: &str, html: &str, decision: &str) -> Response {
        let fields = hidden_fields(html);
        let mut form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.push(("decision", decision));
        self.post(action, &form).await
    }
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The parameters of a redirect's query (or fragment).
pub fn params_of(location: &str, fragment: bool) -> HashMap<String, String> {
    let u = url::Url::parse(location).unwrap();
    let raw = if fragment {
        u.fragment().unwrap_or("").to_owned()
    } else {
        u.query().unwrap_or("").to_owned()
    };
    url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// `POST /oauth/v1/apps` with `body` as `token` in Acme: the reply.
pub(crate) async fn register_reply(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.post("/oauth/v1/apps").token(token).json(body).await
}

/// Registers an application through the API as `token`'s account, which
/// must be granted: the application.
pub async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    register_reply(app, token, &body).await.status(201).json()
}

pub async fn confidential_app(app: &TestApp) -> (String, String) {
    let a = register(
        app,
        ALICE,
        json!({"name": "Report builder", "redirectUris": [REDIRECT], "type": "confidential",
               "scopes": ["tracker:read", "tracker:write"]}),
    )
    .await;
    (
        a["clientId"].as_str().unwrap().to_owned(),
        a["clientSecret"].as_str().unwrap().to_owned(),
    )
}

pub async fn public_app(app: &TestApp) -> String {
    let a = register(
        app,
        ALICE,
        json!({"name": "Desktop client", "redirectUris": [REDIRECT, "http://127.0.0.1:5000/cb"],
               "type": "public", "scopes": ["tracker:read"]}),
    )
    .await;
    assert!(a.get("clientSecret").is_none());
    a["clientId"].as_str().unwrap().to_owned()
}

pub async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> Response {
    app.request(Method::POST, "/token")
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Redeems authorization code `code` at `POST /token` as confidential
/// client `(client_id, secret)`, naming `redirect_uri`: the answer.
pub async fn redeem(
    app: &TestApp,
    code: &str,
    redirect_uri: &str,
    (client_id, secret): (&str, &str),
) -> Response {
    token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await
}

/// Refreshes with `refresh_token` at `POST /token` as confidential client
/// `(client_id, secret)`: the answer.
pub async fn refresh_grant(
    app: &TestApp,
    refresh_token: &str,
    (client_id, secret): (&str, &str),
) -> Response {
    token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await
}

/// [`oauth_error`] whose description mentions `words`.
pub async fn oauth_error_saying(r: Response, status: u16, error: &str, words: &str) -> Value {
    let body = oauth_error(r, status, error).await;
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(words), "{body}");
    body
}

/// Reads an RFC 6749 §5.2 error answer.
pub async fn oauth_error(r: Response, status: u16, error: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
    body
}

/// Signs `login` in and walks the consent page to a redirect with a code.
pub async fn obtain_code(
    web: &mut Web<'_>,
    client_id: &str,
    extra: &str,
) -> HashMap<String, String> {
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=xyz{extra}",
            enc(REDIRECT)
        ))
        .await;
    let r = if r.status() == 200 {
        let html = r.text().await.unwrap();
        web.decide("/authorize", &html, "allow").await
    } else {
        r
    };
    assert!(r.status() == 302 || r.status() == 303, "{}", r.status());
    let loc = location(&r);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    params_of(&loc, false)
}

pub(crate) async fn myself_status(app: &TestApp, token: &str) -> u16 {
    app.get_as("/v2/myself", token).await.status().as_u16()
}

async fn registering_an_app_shows_its_secret_once_and_stores_only_its_hash(app: TestApp) {
    // Registering is a write: a read-only token may not.
    let bobs = json!({"name": "Bob's reader", "redirectUris": [REDIRECT]});
    register_reply(&app, BOB_RO, &bobs).await.error(403);
    let a = register(
        &app,
        CAROL_EXPIRING,
        json!({"name": "Carol's reader", "redirectUris": [REDIRECT]}),
    )
    .await;
    assert_eq!(a["type"], "confidential");
    let secret = a["clientSecret"].as_str().unwrap();
    assert!(secret.starts_with("cs_") && secret.len() > 40, "{secret}");
    let client_id = a["clientId"].as_str().unwrap();
    let stored = app
        .state
        .store
        .app_by_client_id(client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret_hash, Some(TokenHash::of(secret)));
    let again: Value = app
        .read_as(&format!("/oauth/v1/apps/{client_id}"), CAROL_EXPIRING)
        .await;
    assert!(again.get("clientSecret").is_none(), "{again}");
    assert_eq!(again["scopes"], json!(["tracker:read", "tracker:write"]));
}

async fn app_registration_refuses_bad_redirect_uris_scopes_and_types(app: TestApp) {
    for body in [
        json!({"name": "x", "redirectUris": []}),
        json!({"name": "x", "redirectUris": ["/relative"]}),
        json!({"name": "x", "redirectUris": ["https://a.test/cb#frag"]}),
        json!({"name": "x", "redirectUris": ["javascript:alert(1)"]}),
        json!({"name": "x", "redirectUris": [REDIRECT], "scopes": ["tracker:admin"]}),
        json!({"name": "x", "redirectUris": [REDIRECT], "scopes": []}),
        json!({"name": "x", "redirectUris": [REDIRECT], "type": "hybrid"}),
        json!({"name": " ", "redirectUris": [REDIRECT]}),
    ] {
        let r = register_reply(&app, ALICE, &body).await;
        assert_eq!(r.code(), 422, "{body}: {}", r.text());
        r.error(422);
    }
    app.post("/oauth/v1/apps").body("{").await.error(400);
    app.post("/oauth/v1/apps")
        .anonymous()
        .json(json!({"name": "x", "redirectUris": [REDIRECT]}))
        .await
        .error(401);
}

async fn members_manage_their_own_apps_and_admins_all_of_their_organization(app: TestApp) {
    let carol = register(
        &app,
        CAROL_EXPIRING,
        json!({"name": "Carol's", "redirectUris": [REDIRECT]}),
    )
    .await;
    let carol_id = carol["clientId"].as_str().unwrap();
    let (alice_id, _) = confidential_app(&app).await;
    let list = |token: &'static str, org: &'static str| {
        let app = &app;
        async move {
            let v: Vec<Value> = app.read_in("/oauth/v1/apps", token, org).await;
            v.into_iter()
                .map(|a| a["clientId"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(CAROL_EXPIRING, ACME).await, vec![carol_id.to_owned()]);
    assert_eq!(list(ALICE, ACME).await.len(), 2);
    assert!(list(MALLORY, OTHER).await.is_empty());
    // Carol cannot touch Alice's app; Mallory (other org) sees nothing.
    each_refused(
        [
            app.delete(&format!("/oauth/v1/apps/{alice_id}"))
                .token(CAROL_EXPIRING),
            app.get(&format!("/oauth/v1/apps/{carol_id}"))
                .token(MALLORY)
                .org(OTHER),
        ],
        404,
    )
    .await;
    // The admin renames Carol's app and rotates its secret.
    let v: Value = app
        .edit(
            &format!("/oauth/v1/apps/{carol_id}"),
            &json!({"name": "Renamed", "rotateSecret": true}),
        )
        .await;
    assert_eq!(v["name"], "Renamed");
    let new_secret = v["clientSecret"].as_str().unwrap();
    assert_ne!(new_secret, carol["clientSecret"].as_str().unwrap());
    app.delete(&format!("/oauth/v1/apps/{carol_id}"))
        .token(CAROL_EXPIRING)
        .await
        .status(204);
    assert_eq!(list(ALICE, ACME).await, vec![alice_id]);
}

async fn metadata_names_every_endpoint_of_this_server(app: TestApp) {
    let m: Value = app
        .get("/.well-known/oauth-authorization-server")
        .anonymous()
        .await
        .status(200)
        .json();
    assert_eq!(m["issuer"], app.base);
    assert_eq!(
        m["authorization_endpoint"],
        format!("{}/authorize", app.base)
    );
    assert_eq!(m["token_endpoint"], format!("{}/token", app.base));
    assert_eq!(
        m["device_authorization_endpoint"],
        format!("{}/device/code", app.base)
    );
    assert_eq!(
        m["revocation_endpoint"],
        format!("{}/revoke_token", app.base)
    );
    assert_eq!(
        m["introspection_endpoint"],
        format!("{}/introspect", app.base)
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
}

async fn the_code_flow_with_pkce_gives_a_token_that_reads_myself(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = public_app(&app).await;
    let mut web = Web::new(&app);
    // Not signed in: the sign-in page first, then back to /authorize.
    let start = format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=s%201\
         &code_challenge={CHALLENGE}&code_challenge_method=S256&scope=tracker%3Aread",
        enc(REDIRECT)
    );
    let r = web.get(&start).await;
    assert_eq!(r.status(), 303);
    let signin = location(&r);
    assert!(signin.starts_with("/signin?next="), "{signin}");
    let r = web.try_sign_in("alice", ALICE_PASSWORD, &start).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), start);
    let r = web.get(&start).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Desktop client"), "{html}");
    assert!(html.contains("tracker:read"));
    assert!(
        !html.contains("tracker:write"),
        "asks only for what was requested"
    );
    let r = web.decide("/authorize", &html, "allow").await;
    assert_eq!(r.status(), 303);
    let p = params_of(&location(&r), false);
    assert_eq!(p["state"], "s 1");
    let code = &p["code"];
    assert!(code.starts_with("ac_"));

    let r = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["scope"], "tracker:read");
    assert_eq!(t["expires_in"], 365 * 24 * 3600);
    assert!(t["refresh_token"].as_str().unwrap().starts_with("y1_"));
    let access = t["access_token"].as_str().unwrap();
    assert!(access.starts_with("y0_"));
    let r = app.get_as("/v2/myself", access).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["login"], "alice");
    // The token has the scope the user allowed: no writes.
    app.post("/v2/queues")
        .token(access)
        .json(json!({"key": "NEW", "name": "n", "lead": "alice"}))
        .await
        .error(403);
    // And it can be exchanged for an IAM token like any OAuth token.
    let iam = app.iam_token(access).await;
    assert!(iam.starts_with("t1."));
}

async fn a_public_client_must_use_pkce_with_s256(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = public_app(&app).await;
    let mut web = Web::alice(&app).await;
    for (extra, what) in [
        ("", "PKCE"),
        (
            &*format!("&code_challenge={VERIFIER}&code_challenge_method=plain"),
            "S256",
        ),
        (&*format!("&code_challenge={CHALLENGE}"), "S256"),
        (
            "&code_challenge=short&code_challenge_method=S256",
            "base64url",
        ),
    ] {
        let r = web
            .get(&format!(
                "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=k{extra}",
                enc(REDIRECT)
            ))
            .await;
        assert_eq!(r.status(), 302);
        let p = params_of(&location(&r), false);
        assert_eq!(p["error"], "invalid_request");
        assert!(p["error_description"].contains(what), "{p:?}");
        assert_eq!(p["state"], "k");
        assert!(!p.contains_key("code"));
    }
}

async fn authorize_never_redirects_to_an_unregistered_uri_or_for_an_unknown_client(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, _) = confidential_app(&app).await;
    let public = public_app(&app).await;
    let mut web = Web::alice(&app).await;
    for url in [
        format!(
            "/authorize?response_type=code&client_id={client_id}&redirect_uri={}",
            enc("http://evil.test/callback")
        ),
        // A prefix or a variation of a registered URI is not a match.
        format!(
            "/authorize?response_type=code&client_id={client_id}&redirect_uri={}",
            enc("http://client.test/callback/../x")
        ),
        format!(
            "/authorize?response_type=bogus&client_id=nope&redirect_uri={}",
            enc(REDIRECT)
        ),
        "/authorize?response_type=code".to_owned(),
        // Two registered URIs and none named: which one is ambiguous.
        format!("/authorize?response_type=code&client_id={public}&code_challenge={CHALLENGE}&code_challenge_method=S256"),
    ] {
        let r = web.get(&url).await;
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
    }
}

async fn authorize_errors_go_back_to_the_client_with_its_state(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let public = public_app(&app).await;
    let (client_id, _) = confidential_app(&app).await;
    let mut web = Web::alice(&app).await;
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let cases = [
        (
            public.as_str(),
            "code",
            "&scope=tracker%3Awrite",
            "invalid_scope",
            false,
        ),
        (
            public.as_str(),
            "code",
            "&scope=admin",
            "invalid_scope",
            false,
        ),
        (
            client_id.as_str(),
            "id_token",
            "",
            "unsupported_response_type",
            false,
        ),
        (
            client_id.as_str(),
            "token",
            "&scope=nope",
            "invalid_scope",
            true,
        ),
    ];
    for (id, rt, extra, error, fragment) in cases {
        let r = web
            .get(&format!(
                "/authorize?response_type={rt}&client_id={id}&redirect_uri={}&state=st{extra}{pkce}",
                enc(REDIRECT)
            ))
            .await;
        assert_eq!(r.status(), 302, "{error}");
        let loc = location(&r);
        assert!(loc.starts_with(REDIRECT), "{loc}");
        let p = params_of(&loc, fragment);
        assert_eq!(p["error"], error, "{loc}");
        assert_eq!(p["state"], "st");
    }
    // No response_type at all.
    let r = web
        .get(&format!("/authorize?client_id={client_id}&state=z"))
        .await;
    let p = params_of(&location(&r), false);
    assert_eq!(p["error"], "invalid_request");
    assert_eq!(p["state"], "z");
}

async fn a_reused_code_is_refused_and_revokes_the_tokens_it_gave(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, secret) = confidential_app(&app).await;
    let mut web = Web::alice(&app).await;
    let code = obtain_code(&mut web, &client_id, "").await["code"].clone();
    let r = redeem(&app, &code, REDIRECT, (&client_id, &secret)).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    assert_eq!(myself_status(&app, access).await, 200);

    let again = redeem(&app, &code, REDIRECT, (&client_id, &secret)).await;
    oauth_error_saying(again, 400, "invalid_grant", "already used").await;
    app.eventually_unauthorized(&format!("OAuth {access}"))
        .await;
    let r = refresh_grant(&app, refresh, (&client_id, &secret)).await;
    oauth_error(r, 400, "invalid_grant").await;
}

async fn a_pkce_mismatch_or_missing_verifier_is_invalid_grant(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let client_id = public_app(&app).await;
    let mut web = Web::alice(&app).await;
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    for verifier in [
        Some("wrong-verifier-wrong-verifier-wrong-verifier-00"),
        None,
    ] {
        let code = obtain_code(&mut web, &client_id, &pkce).await["code"].clone();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id.as_str()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        oauth_error(token_request(&app, &form).await, 400, "invalid_grant").await;
    }
}

async fn a_code_is_bound_to_its_client_redirect_uri_and_lifetime(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, secret) = confidential_app(&app).await;
    let other = register(
        &app,
        ALICE,
        json!({"name": "Other", "redirectUris": [REDIRECT, "http://client.test/other"]}),
    )
    .await;
    let mut web = Web::alice(&app).await;

    let code = obtain_code(&mut web, &client_id, "").await["code"].clone();
    let r = redeem(
        &app,
        &code,
        REDIRECT,
        (
            other["clientId"].as_str().unwrap(),
            other["clientSecret"].as_str().unwrap(),
        ),
    )
    .await;
    oauth_error(r, 400, "invalid_grant").await;

    let code = obtain_code(&mut web, &client_id, "").await["code"].clone();
    let r = redeem(
        &app,
        &code,
        "http://client.test/other",
        (&client_id, &secret),
    )
    .await;
    oauth_error(r, 400, "invalid_grant").await;

    let code = obtain_code(&mut web, &client_id, "").await["code"].clone();
    app.clock.advance(Duration::minutes(10));
    let r = redeem(&app, &code, REDIRECT, (&client_id, &secret)).await;
    oauth_error_saying(r, 400, "invalid_grant", "expired").await;
}

async fn the_implicit_grant_returns_the_token_in_the_fragment(app: TestApp) {
    let (mut web, client_id) = signed_in_with_app(&app).await;
    // As in the seed's link: response_type=token&client_id=… only.
    let html = consent_page(&mut web, &client_id, "token", "imp").await;
    let r = web.decide("/authorize", &html, "allow").await;
    assert_eq!(r.status(), 303);
    let loc = location(&r);
    assert!(!loc.contains('?'), "nothing in the query: {loc}");
    let p = params_of(&loc, true);
    assert_eq!(p["token_type"], "bearer");
    assert_eq!(p["state"], "imp");
    assert_eq!(p["scope"], "tracker:read tracker:write");
    assert!(!p.contains_key("refresh_token"));
    assert_eq!(myself_status(&app, &p["access_token"]).await, 200);
}

async fn denying_consent_sends_access_denied_with_the_state(app: TestApp) {
    let (mut web, client_id) = signed_in_with_app(&app).await;
    let html = consent_page(&mut web, &client_id, "code", "d").await;
    let r = web.decide("/authorize", &html, "deny").await;
    let p = params_of(&location(&r), false);
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "d");
    assert!(!p.contains_key("code"));
}

async fn remembered_consent_skips_the_page_until_more_is_asked(app: TestApp) {
    let (mut web, client_id) = signed_in_with_app(&app).await;
    let url = |scope: &str| {
        format!("/authorize?response_type=code&client_id={client_id}&scope={scope}&state=r")
    };
    let r = web.get(&url("tracker%3Aread")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    web.decide("/authorize", &html, "allow").await;
    // Same scope again: straight back with a code.
    let r = web.get(&url("tracker%3Aread")).await;
    assert_eq!(r.status(), 302);
    assert!(params_of(&location(&r), false).contains_key("code"));
    // More than allowed: the page again.
    let r = web.get(&url("tracker%3Awrite")).await;
    assert_eq!(r.status(), 200);
    // Yandex's force_confirm shows it anyway.
    let r = web
        .get(&format!("{}&force_confirm=yes", url("tracker%3Aread")))
        .await;
    assert_eq!(r.status(), 200);
}

async fn refresh_tokens_rotate_and_a_replay_revokes_the_whole_family(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, secret) = confidential_app(&app).await;
    let mut web = Web::alice(&app).await;
    let code = obtain_code(&mut web, &client_id, "").await["code"].clone();
    let t: Value = redeem(&app, &code, REDIRECT, (&client_id, &secret))
        .await
        .json()
        .await
        .unwrap();
    let first_access = t["access_token"].as_str().unwrap().to_owned();
    let first_refresh = t["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String, scope: Option<&'static str>| {
        let (app, client_id, secret) = (&app, client_id.clone(), secret.clone());
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", token),
            ];
            if let Some(s) = scope {
                form.push(("scope", s.to_owned()));
            }
            // HTTP Basic this time (client_secret_basic).
            app.request(Method::POST, "/token")
                .basic_auth(client_id, Some(secret))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // Widening the scope on refresh is refused (and spends nothing).
    let r = refresh(first_refresh.clone(), Some("tracker:admin")).await;
    oauth_error(r, 400, "invalid_scope").await;
    let r = refresh(first_refresh.clone(), Some("tracker:read")).await;
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.unwrap();
    assert_eq!(t2["scope"], "tracker:read");
    let second_access = t2["access_token"].as_str().unwrap().to_owned();
    let second_refresh = t2["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(myself_status(&app, &second_access).await, 200);

    // The first refresh token again: a replay. Everything of the grant dies.
    let r = refresh(first_refresh.clone(), None).await;
    oauth_error(r, 400, "invalid_grant").await;
    for token in [&first_access, &second_access] {
        app.eventually_unauthorized(&format!("OAuth {token}")).await;
    }
    let r = refresh(second_refresh, None).await;
    oauth_error(r, 400, "invalid_grant").await;
}

async fn confidential_clients_must_authenticate_at_the_token_endpoint(app: TestApp) {
    let (client_id, secret) = confidential_app(&app).await;
    let base = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "y1_nope"),
    ];
    // No secret, a wrong one, and a client that does not exist.
    for client in [
        vec![("client_id", client_id.as_str())],
        vec![
            ("client_id", client_id.as_str()),
            ("client_secret", "cs_wrong"),
        ],
        vec![("client_id", "unknown")],
    ] {
        let r = token_request(&app, &[&base[..], &client].concat()).await;
        assert_eq!(r.status(), 401, "{client:?}");
        oauth_error(r, 401, "invalid_client").await;
    }
    let r = app
        .request(Method::POST, "/token")
        .basic_auth(&client_id, Some("cs_wrong"))
        .form(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"trackerd\"");
    oauth_error(r, 401, "invalid_client").await;
    // Authenticated, the unknown refresh token is the grant's problem.
    let r = token_request(
        &app,
        &[
            base[0],
            base[1],
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ],
    )
    .await;
    oauth_error(r, 400, "invalid_grant").await;
}

/// Alice signed in (her password set), and a fresh confidential app: the
/// browser and the app's client id.
async fn signed_in_with_app(app: &TestApp) -> (Web<'_>, String) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, _) = confidential_app(app).await;
    (Web::alice(app).await, client_id)
}

/// Waits until OAuth token `access` and IAM token `iam`, exchanged from it,
/// are both refused.
async fn both_refused(app: &TestApp, access: &str, iam: &str) {
    app.eventually_unauthorized(&format!("OAuth {access}"))
        .await;
    app.eventually_unauthorized(&format!("Bearer {iam}")).await;
}

/// The consent page `/authorize?response_type=…&state=…` of `client_id`,
/// which must be shown: its HTML.
async fn consent_page(
    web: &mut Web<'_>,
    client_id: &str,
    response_type: &str,
    state: &str,
) -> String {
    let r = web
        .get(&format!(
            "/authorize?response_type={response_type}&client_id={client_id}&state={state}"
        ))
        .await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Alice (her password set, signed in) grants a fresh confidential app
/// `name` through the code flow: the browser, the app's id and secret, and
/// the tokens.
async fn granted<'a>(app: &'a TestApp, name: &str) -> (Web<'a>, String, String, Value) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let mut web = Web::alice(app).await;
    let (id, secret, tokens) = tokens_for(app, &mut web, name).await;
    (web, id, secret, tokens)
}

/// Alice's tokens from the code flow of a fresh confidential app.
async fn tokens_for(app: &TestApp, web: &mut Web<'_>, name: &str) -> (String, String, Value) {
    let a = register(
        app,
        ALICE,
        json!({"name": name, "redirectUris": [REDIRECT]}),
    )
    .await;
    let id = a["clientId"].as_str().unwrap().to_owned();
    let secret = a["clientSecret"].as_str().unwrap().to_owned();
    let code = obtain_code(web, &id, "").await["code"].clone();
    let t: Value = redeem(app, &code, REDIRECT, (&id, &secret))
        .await
        .json()
        .await
        .unwrap();
    (id, secret, t)
}

async fn revocation_acts_only_on_the_calling_clients_tokens(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let mut web = Web::alice(&app).await;
    let (a_id, a_secret, a_tokens) = tokens_for(&app, &mut web, "A").await;
    let (b_id, b_secret, b_tokens) = tokens_for(&app, &mut web, "B").await;
    let revoke = |id: &str, secret: &str, token: &str, key: &'static str| {
        let req = app.request(Method::POST, "/revoke_token").form(&[
            ("client_id", id.to_owned()),
            ("client_secret", secret.to_owned()),
            (key, token.to_owned()),
        ]);
        async move { req.send().await.unwrap() }
    };
    let a_access = a_tokens["access_token"].as_str().unwrap();
    // B may not revoke A's token.
    let r = revoke(&b_id, &b_secret, a_access, "token").await;
    oauth_error(r, 400, "unauthorized_client").await;
    assert_eq!(myself_status(&app, a_access).await, 200);
    // Nor may anyone without the secret.
    let r = revoke(&a_id, "cs_wrong", a_access, "token").await;
    oauth_error(r, 401, "invalid_client").await;
    // An unknown token is not an error (RFC 7009 §2.2).
    let r = revoke(&a_id, &a_secret, "y0_unknown", "token").await;
    assert_eq!(r.status(), 200);
    // A revokes its own, with Yandex's parameter name.
    let r = revoke(&a_id, &a_secret, a_access, "access_token").await;
    assert_eq!(r.status(), 200);
    app.eventually_unauthorized(&format!("OAuth {a_access}"))
        .await;
    // Revoking B's refresh token ends B's grant, access token included.
    let b_access = b_tokens["access_token"].as_str().unwrap();
    let r = revoke(
        &b_id,
        &b_secret,
        b_tokens["refresh_token"].as_str().unwrap(),
        "token",
    )
    .await;
    assert_eq!(r.status(), 200);
    app.eventually_unauthorized(&format!("OAuth {b_access}"))
        .await;
}

async fn introspection_answers_only_about_the_calling_clients_tokens(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let mut web = Web::alice(&app).await;
    let (a_id, a_secret, a_tokens) = tokens_for(&app, &mut web, "A").await;
    let (b_id, b_secret, _) = tokens_for(&app, &mut web, "B").await;
    let introspect = |id: &str, secret: &str, token: &str| {
        let r = app
            .request(Method::POST, "/introspect")
            .basic_auth(id, Some(secret))
            .form(&[("token", token)]);
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let access = a_tokens["access_token"].as_str().unwrap();
    let v = introspect(&a_id, &a_secret, access).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["client_id"], a_id.as_str());
    assert_eq!(v["username"], "alice");
    assert_eq!(v["scope"], "tracker:read tracker:write");
    assert_eq!(v["token_type"], "access_token");
    let v = introspect(
        &a_id,
        &a_secret,
        a_tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");
    // B learns nothing about A's tokens, nor about seeded tokens.
    let v = introspect(&b_id, &b_secret, access).await;
    assert_eq!(v, json!({"active": false}));
    let v = introspect(&b_id, &b_secret, ALICE).await;
    assert_eq!(v, json!({"active": false}));
    let r = app
        .request(Method::POST, "/introspect")
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    oauth_error(r, 401, "invalid_client").await;
}

async fn sign_in_locks_an_account_after_repeated_failures(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let mut web = Web::new(&app);
    for _ in 0..5 {
        let r = web.try_sign_in("alice", "wrong", "/my").await;
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("Wrong login or password"));
    }
    // Locked: even the right password is refused, and says so.
    let r = web.try_sign_in("alice", ALICE_PASSWORD, "/my").await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("locked"));
    assert!(!web.cookies.contains_key("trackerd_session"));
    // After the window it opens again.
    app.clock.advance(Duration::minutes(16));
    web.sign_in("alice", ALICE_PASSWORD).await;
    // The attempts are in the audit trail.
    let r = app.get_as("/oauth/v1/audit?perPage=100", ALICE).await;
    assert_eq!(r.status(), 200);
    let events: Vec<Value> = r.json().await.unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"signin.locked"), "{actions:?}");
    assert!(actions.contains(&"signin.succeeded"), "{actions:?}");
    assert_eq!(events[0]["ip"], "127.0.0.1");
}

async fn parallel_wrong_passwords_check_no_more_than_the_limit(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    // The right password among fifteen wrong ones, all sent together.
    let attempts = (0..16)
        .map(|i| {
            (
                "alice".to_owned(),
                if i == 15 { ALICE_PASSWORD } else { "wrong" },
            )
        })
        .collect();
    let (statuses, checked) = sign_ins_at_once(&app, attempts).await;
    assert!(
        checked <= 5,
        "the limit is 5 attempts, {checked} were checked: {statuses:?}"
    );
}

/// Sends every `(login, password)` sign-in at once, from one address with
/// one sign-in page's CSRF token: the statuses, and how many of them were
/// checked (not refused with 429 unchecked).
async fn sign_ins_at_once(app: &TestApp, attempts: Vec<(String, &str)>) -> (Vec<u16>, usize) {
    let mut web = Web::new(app);
    let page = web.get("/signin?next=%2Fmy").await;
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let cookie = format!("trackerd_csrf={}", web.cookies["trackerd_csrf"]);
    let mut set = tokio::task::JoinSet::new();
    for (login, password) in attempts {
        let req = app
            .request(Method::POST, "/signin")
            .header("Cookie", &cookie)
            .form(&[
                ("login", login.as_str()),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("next", "/my"),
            ]);
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s != 429).count();
    (statuses, checked)
}

async fn parallel_attempts_from_one_address_check_no_more_than_its_limit(app: TestApp) {
    // Thirty logins, one wrong attempt each, all at once from one address:
    // no account reaches its limit, the address must.
    let attempts = (0..30).map(|i| (format!("nobody{i}"), "wrong")).collect();
    let (statuses, checked) = sign_ins_at_once(&app, attempts).await;
    assert!(
        checked <= 20,
        "the address limit is 20 attempts, {checked} were checked: {statuses:?}"
    );
}

async fn a_successful_sign_in_does_not_count_against_its_address(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    // More successful sign-ins from one address than its failure limit.
    for _ in 0..25 {
        let mut web = Web::new(&app);
        let r = web.try_sign_in("alice", ALICE_PASSWORD, "/my").await;
        assert_eq!(r.status(), 303);
    }
}

async fn a_sign_in_never_redirects_off_the_server(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    for next in [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "//evil.example/",
        "/\\evil.example/",
    ] {
        let mut web = Web::new(&app);
        let r = web.try_sign_in("alice", ALICE_PASSWORD, next).await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], "/my", "{next:?}");
    }
}

async fn sign_in_locks_a_source_address_after_repeated_failures(app: TestApp) {
    app.set_password("bob", BOB_PASSWORD).await;
    let mut web = Web::new(&app);
    // Spread over many logins so no single account locks.
    for i in 0..20 {
        let r = web.try_sign_in(&format!("nobody{i}"), "x", "/my").await;
        assert_eq!(r.status(), 401);
    }
    let r = web.try_sign_in("bob", BOB_PASSWORD, "/my").await;
    assert_eq!(r.status(), 429);
}

async fn a_planted_sign_in_token_the_server_never_issued_is_refused(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    // Equal cookie and field, as an attacker able to plant a cookie would
    // send them: the double-submit check alone accepted this pair.
    for made_up in ["cf_planted", "cf_x.99999999999.00", "anything"] {
        let r = app
            .request(Method::POST, "/signin")
            .header("Cookie", format!("trackerd_csrf={made_up}"))
            .form(&[
                ("login", "alice"),
                ("password", ALICE_PASSWORD),
                ("csrf", made_up),
                ("next", "/my"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{made_up}");
        assert!(r.headers().get("location").is_none());
    }
    // A token the server issued expires: a day later the form is stale.
    let mut web = Web::new(&app);
    let page = web.get("/signin?next=%2Fmy").await;
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    app.clock.advance(chrono::TimeDelta::hours(25));
    let r = web
        .post(
            "/signin",
            &[
                ("login", "alice"),
                ("password", ALICE_PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
}

async fn a_sign_in_form_from_one_node_is_accepted_by_another(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let other = app.another_node().await;
    let mut web = Web::new(&app);
    let page = web.get("/signin?next=%2Fmy").await;
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .post(format!("{}/signin", other.base))
        .header("Cookie", format!("trackerd_csrf={csrf}"))
        .form(&[
            ("login", "alice"),
            ("password", ALICE_PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/my"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let (client_id, _) = confidential_app(&app).await;
    let mut web = Web::new(&app);
    // Sign-in without the double-submit cookie value.
    let r = web
        .post(
            "/signin",
            &[
                ("login", "alice"),
                ("password", ALICE_PASSWORD),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    web.sign_in("alice", ALICE_PASSWORD).await;
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={client_id}&state=c"
        ))
        .await;
    let html = r.text().await.unwrap();
    let forged = html.replace(&hidden(&html, "csrf"), "0000");
    let r = web.decide("/authorize", &forged, "allow").await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("location").is_none());
    // Another browser's session cannot post this page's form either.
    let mut other = Web::alice(&app).await;
    let r = other.decide("/authorize", &html, "allow").await;
    assert_eq!(r.status(), 403);
}

async fn withdrawing_consent_revokes_the_apps_tokens(app: TestApp) {
    let (mut web, id, _, tokens) = granted(&app, "Withdrawn app").await;
    let access = tokens["access_token"].as_str().unwrap();
    let iam = app.iam_token(access).await;
    let r = web.get("/my").await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Withdrawn app"), "{html}");
    let csrf = hidden(&html, "csrf");
    let r = web
        .post(&format!("/my/consents/{id}/withdraw"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    both_refused(&app, access, &iam).await;
    // The page asks again next time.
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={id}&state=w"
        ))
        .await;
    assert_eq!(r.status(), 200);
    let html = web.get("/my").await.text().await.unwrap();
    assert!(!html.contains("Withdraw access of Withdrawn app"));
}

/// The store's id of seeded token `token`, as the account page names it.
async fn stored_token_id(app: &TestApp, token: &str) -> String {
    let stored = app
        .state
        .store
        .token_by_hash(&TokenHash::of(token))
        .await
        .unwrap()
        .expect("a seeded token");
    stored.id.to_string()
}

async fn the_account_page_lists_and_revokes_tokens(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    let mut web = Web::new(&app);
    let r = web.get("/my").await;
    assert_eq!(r.status(), 303);
    web.sign_in("alice", ALICE_PASSWORD).await;
    let html = web.get("/my").await.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    // Alice's seeded token is listed; revoke it from the page.
    let seeded = stored_token_id(&app, ALICE).await;
    assert!(html.contains(&format!("revoke-{seeded}")), "{html}");
    assert!(!html.contains(ALICE), "secrets never reach a page");
    let csrf = hidden(&html, "csrf");
    // Someone else's token id is not hers to revoke.
    let bobs = stored_token_id(&app, BOB_RO).await;
    let revoke = |id| format!("/my/tokens/{id}/revoke");
    let r = web.post(&revoke(bobs), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(myself_status(&app, BOB_RO).await, 200);
    let r = web.post(&revoke(seeded), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    app.eventually_unauthorized(&format!("OAuth {ALICE}")).await;
    // Signing out ends the session.
    let r = web.post("/signout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(web.get("/my").await.status(), 303);
}

async fn the_registration_page_creates_an_app_and_shows_its_secret_once(app: TestApp) {
    app.set_password("bob", BOB_PASSWORD).await;
    let mut web = Web::new(&app);
    web.sign_in("bob", BOB_PASSWORD).await;
    let html = web.get("/my/apps/new").await.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let org = between(&html, "<option value=\"", &['"']).to_owned();
    // Bob's confidential, read-only app at `redirect_uris`, as the form sends it.
    let form = |redirect_uris| {
        [
            ("csrf", csrf.clone()),
            ("name", "Bob <script>".to_owned()),
            ("redirect_uris", redirect_uris),
            ("org", org.clone()),
            ("type", "confidential".to_owned()),
            ("scope_read", "on".to_owned()),
        ]
    };
    let r = web
        .post_form("/my/apps/new", &form("not a uri".to_owned()))
        .await;
    assert_eq!(r.status(), 422);
    let two = "https://bob.test/cb\r\nhttps://bob.test/cb2".to_owned();
    let r = web.post_form("/my/apps/new", &form(two)).await;
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    assert!(html.contains("Bob &lt;script&gt;"), "escaped: {html}");
    let secret = between(&html, "id=\"client-secret\">", &['<']);
    assert!(secret.starts_with("cs_"));
    let r = app.get_as("/oauth/v1/apps", BOB_RO).await;
    let apps: Vec<Value> = r.json().await.unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(
        apps[0]["redirectUris"],
        json!(["https://bob.test/cb", "https://bob.test/cb2"])
    );
    assert_eq!(apps[0]["scopes"], json!(["tracker:read"]));
    let page = web.get("/my").await.text().await.unwrap();
    assert!(!page.contains(secret));
}

async fn an_admin_can_require_a_password_change_on_first_sign_in(app: TestApp) {
    let bob = app.state.store.user_by_login("bob").await.unwrap().unwrap();
    let hash = trackerd::ops::hash_password("temporary-pass".into())
        .await
        .unwrap();
    app.state
        .store
        .set_password(bob.uid, &hash, true)
        .await
        .unwrap();
    let (client_id, _) = confidential_app(&app).await;
    let mut web = Web::new(&app);
    web.sign_in("bob", "temporary-pass").await;
    let start = format!("/authorize?response_type=code&client_id={client_id}&state=p");
    let r = web.get(&start).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/password?next="), "{to}");
    let html = web.get(&to).await.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let next = hidden(&html, "next");
    assert_eq!(next, start);
    // The new password, typed twice.
    let form = |password: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("next", next.clone()),
            ("password", password.to_owned()),
            ("again", password.to_owned()),
        ]
    };
    let r = web.post_form("/password", &form("short")).await;
    assert_eq!(r.status(), 400);
    let r = web.post_form("/password", &form("a new long pass")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), start);
    assert_eq!(web.get(&start).await.status(), 200);
    let mut again = Web::new(&app);
    again.sign_in("bob", "a new long pass").await;
}

async fn unsupported_grant_types_and_repeated_parameters_are_rfc_errors(app: TestApp) {
    let r = token_request(&app, &[("grant_type", "password")]).await;
    oauth_error(r, 400, "unsupported_grant_type").await;
    let r = token_request(&app, &[("client_id", "x")]).await;
    oauth_error(r, 400, "invalid_request").await;
    let r = app
        .request(Method::POST, "/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&grant_type=refresh_token")
        .send()
        .await
        .unwrap();
    oauth_error(r, 400, "invalid_request").await;
}

async fn deleting_an_app_revokes_every_token_issued_to_it(app: TestApp) {
    let (_, id, secret, tokens) = granted(&app, "Doomed").await;
    let access = tokens["access_token"].as_str().unwrap();
    let iam = app.iam_token(access).await;
    app.delete(&format!("/oauth/v1/apps/{id}"))
        .await
        .status(204);
    both_refused(&app, access, &iam).await;
    let r = refresh_grant(
        &app,
        tokens["refresh_token"].as_str().unwrap(),
        (&id, &secret),
    )
    .await;
    oauth_error(r, 401, "invalid_client").await;
}

async fn other_yandex_scopes_are_registered_granted_and_give_no_tracker_rights(app: TestApp) {
    app.set_password("alice", ALICE_PASSWORD).await;
    // Real applications ask Yandex for their other services' scopes too.
    let a = register(
        &app,
        ALICE,
        json!({"name": "Wiki sync", "redirectUris": [REDIRECT], "type": "confidential",
               "scopes": ["tracker:read", "wiki:read", "login:info"]}),
    )
    .await;
    assert_eq!(
        a["scopes"],
        json!(["tracker:read", "login:info", "wiki:read"]),
        "{a}"
    );
    let (id, secret) = (
        a["clientId"].as_str().unwrap(),
        a["clientSecret"].as_str().unwrap(),
    );
    let mut web = Web::alice(&app).await;
    // A scope the application was not registered with is still refused.
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=wiki%3Awrite",
            enc(REDIRECT)
        ))
        .await;
    let loc = location(&r);
    assert_eq!(params_of(&loc, false)["error"], "invalid_scope", "{loc}");
    // The consent page names the foreign scope and says it reaches nothing here.
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={id}&redirect_uri={}&state=w\
             &scope=wiki%3Aread%20login%3Ainfo",
            enc(REDIRECT)
        ))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("wiki:read (another Yandex service"), "{html}");
    assert!(!html.contains("tracker:read"), "{html}");
    let r = web.decide("/authorize", &html, "allow").await;
    let code = params_of(&location(&r), false)["code"].clone();
    let r = redeem(&app, &code, REDIRECT, (id, secret)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "login:info wiki:read");
    let access = t["access_token"].as_str().unwrap();
    // Granted and recorded, but no right in Tracker: not even reading.
    assert_eq!(myself_status(&app, access).await, 403);
    let r = app
        .request(Method::POST, "/introspect")
        .basic_auth(id, Some(secret))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["scope"], "login:info wiki:read");
    // With Tracker's scope alongside, the token reads Tracker.
    let both = "&scope=tracker%3Aread%20wiki%3Aread";
    let code = obtain_code(&mut web, id, both).await["code"].clone();
    let t: Value = redeem(&app, &code, REDIRECT, (id, secret))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["scope"], "tracker:read wiki:read");
    assert_eq!(
        myself_status(&app, t["access_token"].as_str().unwrap()).await,
        200
    );
}
