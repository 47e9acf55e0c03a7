//! An in-process trackerd on port 0 over a fresh SQLite database, seeded the
//! way trackerd's own API tests are. Shared with the CLI's tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tracker_domain::{Clock, ManualClock};
use trackerd::config::{Config, Dsn};
use trackerd::seed::SeedFile;
use trackerd::AppState;

pub const ALICE: &str = "y0_alice_rw_token_for_tests_only_0001";
pub const BOB_RO: &str = "y0_bob_read_only_token_for_tests_0001";
pub const MALLORY: &str = "y0_mallory_other_org_token_0001";
pub const ACME: &str = "7000001";
pub const ACME_CLOUD: &str = "bpf1acme";

pub const SEED: &str = r#"
organizations:
  - id: "7000001"
    cloud_id: "bpf1acme"
    name: Acme
    users:
      - login: alice
        first_name: Alice
        last_name: Archer
        email: alice@acme.test
        admin: true
        tokens:
          - token: "y0_alice_rw_token_for_tests_only_0001"
            scopes: [tracker:read, tracker:write]
      - login: bob
        first_name: Bob
        last_name: Baker
        email: bob@acme.test
        tokens:
          - token: "y0_bob_read_only_token_for_tests_0001"
            scopes: [tracker:read]
      - login: carol
        first_name: Carol
      - login: dave
        first_name: Dave
      - login: erin
        first_name: Erin
    queues:
      - key: TEST
        name: Test queue
        lead: alice
      - key: OPS
        name: Operations
        lead: bob
  - id: "7000002"
    cloud_id: "bpf2other"
    name: Other
    users:
      - login: mallory
        first_name: Mallory
        admin: true
        tokens:
          - token: "y0_mallory_other_org_token_0001"
            scopes: [tracker:read, tracker:write]
"#;

pub struct TestApp {
    pub base: String,
    /// The server's clock, except for [`spawn_real_time_app`]'s servers.
    pub clock: ManualClock,
    pub state: AppState,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The client side of a [`ManualClock`]: client and server agree on the
/// time, and the test moves it for both.
#[derive(Debug, Clone)]
pub struct SharedClock(pub ManualClock);

impl tracker_client::Clock for SharedClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        self.0.now()
    }
}

pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn(tweak, false).await
}

/// A server on the system clock: for a separate process (the CLI) that
/// sleeps in real time between polls, which a manual clock cannot follow.
pub async fn spawn_real_time_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn(tweak, true).await
}

async fn spawn(tweak: impl FnOnce(&mut Config), real_time: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("sqlite://{}", dir.path().join("trackerd.db").display());
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: Dsn(dsn),
        auth_cache_refresh_ms: 20,
        ..Config::default()
    };
    tweak(&mut config);
    let store = trackerd::db::open(&config.database).await.unwrap();
    let clock = ManualClock::new(start_time());
    let seed: SeedFile = serde_yaml_ng::from_str(SEED).unwrap();
    seed.validate().unwrap();
    seed.apply(store.as_ref(), &clock).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_clock: Arc<dyn Clock> = if real_time {
        Arc::new(tracker_domain::SystemClock)
    } else {
        Arc::new(clock.clone())
    };
    let state = AppState::new(store, server_clock, config);
    let serving = state.clone();
    let server = tokio::spawn(async move {
        trackerd::serve(serving, listener, std::future::pending())
            .await
            .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        clock,
        state,
        _dir: dir,
        server,
    }
}

impl TestApp {
    /// Gives `login` a password for the sign-in page.
    pub async fn set_password(&self, login: &str, password: &str) {
        let user = self
            .state
            .store
            .user_by_login(login)
            .await
            .unwrap()
            .unwrap();
        let hash = trackerd::ops::hash_password(password.into()).await.unwrap();
        self.state
            .store
            .set_password(user.uid, &hash, false)
            .await
            .unwrap();
    }

    /// Registers a public application (a CLI's) with alice's token and
    /// answers its client id.
    pub async fn register_public_app(&self, name: &str) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/oauth/v1/apps", self.base))
            .header("Authorization", format!("OAuth {ALICE}"))
            .header("X-Org-ID", ACME)
            .json(&serde_json::json!({
                "name": name, "type": "public",
                "redirectUris": ["http://127.0.0.1/unused"],
                "scopes": ["tracker:read", "tracker:write"]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let app: serde_json::Value = r.json().await.unwrap();
        app["clientId"].as_str().unwrap().to_owned()
    }

    /// A client for this server in the Acme organization.
    pub fn client(&self, auth: tracker_client::Auth) -> tracker_client::Client {
        self.builder(auth).build().unwrap()
    }

    pub fn builder(&self, auth: tracker_client::Auth) -> tracker_client::ClientBuilder {
        tracker_client::Client::builder()
            .base_url(&self.base)
            .org_id(ACME)
            .auth(auth)
            .clock(Arc::new(SharedClock(self.clock.clone())))
    }
}

/// Serves `router` on port 0 and answers its base URL: for mock servers.
pub async fn serve_mock(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{addr}"), handle)
}

/// A person at a browser without JavaScript: keeps cookies, follows no
/// redirects, and fills in trackerd's real pages.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: std::collections::HashMap<String, String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    async fn send(&mut self, r: reqwest::RequestBuilder) -> (u16, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let r = r.header("Cookie", cookie).send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.insert(k.to_owned(), val.to_owned());
        }
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(String, String)]) -> (u16, String) {
        let r = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(r).await
    }

    /// Signs in on `/signin` with the password.
    pub async fn sign_in(&mut self, login: &str, password: &str) {
        let (status, html) = self.get("/signin?next=%2Fdevice").await;
        assert_eq!(status, 200, "{html}");
        let mut form = hidden_fields(&html);
        form.push(("login".into(), login.into()));
        form.push(("password".into(), password.into()));
        form.retain(|(k, _)| k != "next");
        form.push(("next".into(), "/device".into()));
        let (status, body) = self.post("/signin", &form).await;
        assert_eq!(status, 303, "signing in: {body}");
        assert!(self.cookies.contains_key("trackerd_session"));
    }

    /// Types `user_code` on the device page and presses `decision`
    /// (`allow` or `deny`); answers the final page.
    pub async fn decide_device(&mut self, user_code: &str, decision: &str) -> String {
        let code: String = url::form_urlencoded::byte_serialize(user_code.as_bytes()).collect();
        let (status, html) = self.get(&format!("/device?user_code={code}")).await;
        assert_eq!(status, 200, "{html}");
        let mut form = hidden_fields(&html);
        form.push(("decision".into(), decision.into()));
        let (status, done) = self.post("/device", &form).await;
        assert_eq!(status, 200, "{done}");
        done
    }
}

/// Every `<input type="hidden" name=… value=…>` of a page.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |part: &str, name: &str| -> String {
        let raw = part
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_default();
        raw.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|part| (attr(part, "name"), attr(part, "value")))
        .collect()
}
