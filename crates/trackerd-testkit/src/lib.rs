//! trackerd's test kit, shared by trackerd's API tests, tracker-client's and
//! the tracker CLI's tests, and the benchmarks:
//!
//! - [`spawn_app`] / [`AppBuilder`]: trackerd in this process on port
//!   0 over a fresh database (a temporary SQLite file, or a PostgreSQL
//!   database of its own, dropped with the app) holding [`SEED`];
//! - [`SEED`] and its tokens ([`ALICE`], [`BOB_RO`], …);
//! - [`pg`]: per-test PostgreSQL databases, and whether a missing PostgreSQL
//!   skips ([`pg::postgres_url_or_skip`]) or fails (`TRACKERD_TEST_REQUIRE_POSTGRES=1`);
//! - [`backend_tests!`]: a test once per backend;
//! - [`TestApp::get`] and the rest ([`Call`], [`Reply`]), [`Browser`],
//!   [`envelope`], [`serve_mock`]: what tests say to the app.
//!
//! It uses only trackerd's stable public API: `AppState::new`, `serve`,
//! `db::open`, `config::{Config, Dsn}`, `seed::SeedFile`.
// A test kit: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response};
use tracker_domain::{Clock, ManualClock, SystemClock};
use trackerd::config::{Config, Dsn};
use trackerd::AppState;

mod call;
pub mod oidc;
pub mod pg;
mod seed;
mod server;
mod web;

pub use call::{each_of, each_refused, each_str, Call, Reply};
pub use pg::{postgres_url, PgDatabase};
pub use seed::*;
pub use server::{serve_mock, Server};
pub use web::{between, hidden, hidden_fields, Browser};

/// A storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where a test app's database lives; removed when the app drops.
enum Database {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

/// trackerd running in this process for one test.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub state: AppState,
    /// The server's clock (unless [`AppBuilder::real_time`]), starting at
    /// [`start_time`]: move it to expire things.
    pub clock: ManualClock,
    /// The database's DSN, for a second node or the `trackerd` binary.
    pub dsn: String,
    pub client: reqwest::Client,
    config: Config,
    server_clock: Arc<dyn Clock>,
    // Stops the server before the database goes.
    _server: Server,
    _db: Arc<Database>,
    /// The attachments directory, unless the test configured its own.
    _blobs: Arc<tempfile::TempDir>,
}

/// Revokes token `token` in `store` (another node's, or the app's own) at
/// `at`: what the server does with a revoked token is then the test's.
pub async fn revoke_in(
    store: &dyn tracker_store::Store,
    token: &str,
    at: chrono::DateTime<chrono::Utc>,
) {
    let stored = store
        .token_by_hash(&tracker_domain::TokenHash::of(token))
        .await
        .unwrap()
        .expect("a stored token");
    assert!(store.revoke_token(stored.id, at).await.unwrap());
}

/// The first `limit` entries of the issue's history, oldest first, read
/// from `store` as they are stored.
pub async fn history(
    store: &dyn tracker_store::Store,
    issue_pk: i64,
    limit: i64,
) -> Vec<tracker_store::NewChangelog> {
    let query = tracker_store::ChangelogQuery {
        limit,
        ..Default::default()
    };
    let log = store.list_changelog(issue_pk, &query).await.unwrap();
    log.into_iter().map(|e| e.entry).collect()
}

/// Asks `probe` every `every` until `done` holds for its answer, and answers
/// that; after `within`, fails with `failure` and the last answer. For work
/// that finishes in the background (jobs, other nodes).
pub async fn poll_until<Fut>(
    (within, every): (std::time::Duration, std::time::Duration),
    failure: &str,
    mut probe: impl FnMut() -> Fut,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value
where
    Fut: std::future::Future<Output = serde_json::Value>,
{
    let until = std::time::Instant::now() + within;
    loop {
        let answer = probe().await;
        if done(&answer) {
            return answer;
        }
        assert!(std::time::Instant::now() < until, "{failure}: {answer}");
        tokio::time::sleep(every).await;
    }
}

/// Whether a bulk change (`GET /v2/bulkchange/{id}`) has ended, either way.
pub fn bulk_change_ended(op: &serde_json::Value) -> bool {
    op["status"] == "COMPLETE" || op["status"] == "FAILED"
}

/// How to start a [`TestApp`]: `AppBuilder::new(backend)`.
#[must_use]
pub struct AppBuilder {
    backend: Backend,
    config: Config,
    real_time: bool,
}

impl AppBuilder {
    /// An app on `backend`, on the manual clock, with the kit's configuration.
    pub fn new(backend: Backend) -> Self {
        AppBuilder {
            backend,
            config: Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                auth_cache_refresh_ms: 20,
                ..Config::default()
            },
            real_time: false,
        }
    }

    /// Changes the configuration: the kit's sets `auth_cache_refresh_ms` to
    /// 20 (revocation by another node shows without long waits); `database`
    /// is always the app's fresh one.
    pub fn config(mut self, tweak: impl FnOnce(&mut Config)) -> Self {
        tweak(&mut self.config);
        self
    }

    /// Serves on the system clock instead of [`TestApp::clock`] (which
    /// still applied the seed): for a separate process (the CLI) that
    /// sleeps in real time, which a manual clock cannot follow.
    pub fn real_time(mut self) -> Self {
        self.real_time = true;
        self
    }

    /// Starts the app; `None` when the backend is PostgreSQL and none is
    /// configured (see [`pg::postgres_url_or_skip`]).
    pub async fn spawn(self) -> Option<TestApp> {
        let (db, dsn) = match self.backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let dsn = format!("sqlite://{}", dir.path().join("trackerd.db").display());
                (Database::Sqlite(dir), dsn)
            }
            Backend::Postgres => {
                let admin = pg::postgres_url_or_skip()?;
                let db = PgDatabase::for_test(&admin).await.unwrap();
                let dsn = db.url().to_owned();
                (Database::Postgres(db), dsn)
            }
        };
        let mut config = self.config;
        config.database = Dsn(dsn.clone());
        let blobs = tempfile::tempdir().unwrap();
        if config.attachments.dir.is_none() {
            config.attachments.dir = Some(blobs.path().to_owned());
        }
        let store = trackerd::db::open(&config.database).await.unwrap();
        let clock = ManualClock::new(start_time());
        apply_seed(store.as_ref(), &clock).await.unwrap();
        let server_clock: Arc<dyn Clock> = if self.real_time {
            Arc::new(SystemClock)
        } else {
            Arc::new(clock.clone())
        };
        let server = Server::start(store, server_clock.clone(), config.clone())
            .await
            .unwrap();
        Some(TestApp {
            base: server.base.clone(),
            state: server.state.clone(),
            clock,
            dsn,
            client: reqwest::Client::new(),
            config,
            server_clock,
            _server: server,
            _db: Arc::new(db),
            _blobs: Arc::new(blobs),
        })
    }

    /// [`AppBuilder::spawn`] on SQLite, which is always there.
    ///
    /// # Panics
    /// On PostgreSQL.
    pub async fn spawn_sqlite(self) -> TestApp {
        assert_eq!(
            self.backend,
            Backend::Sqlite,
            "spawn_sqlite on {:?}",
            self.backend
        );
        self.spawn().await.unwrap()
    }
}

/// Starts trackerd on port 0 over a fresh database holding [`SEED`]. `None`
/// when the backend is PostgreSQL and none is configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    AppBuilder::new(backend).spawn().await
}

/// [`spawn_app`] with a configuration change.
pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    AppBuilder::new(backend).config(tweak).spawn().await
}

/// [`spawn_app`] on SQLite, for tests that run on one backend.
pub async fn spawn_sqlite_app() -> TestApp {
    AppBuilder::new(Backend::Sqlite).spawn_sqlite().await
}

/// [`spawn_app_with`] on SQLite.
pub async fn spawn_sqlite_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    AppBuilder::new(Backend::Sqlite)
        .config(tweak)
        .spawn_sqlite()
        .await
}

impl TestApp {
    /// A second trackerd node on the same database, configuration and
    /// clock, as behind a load balancer: what one node writes, the other
    /// must answer alike.
    pub async fn another_node(&self) -> TestApp {
        let store = trackerd::db::open(&self.config.database).await.unwrap();
        let server = Server::start(store, self.server_clock.clone(), self.config.clone())
            .await
            .unwrap();
        TestApp {
            base: server.base.clone(),
            state: server.state.clone(),
            clock: self.clock.clone(),
            dsn: self.dsn.clone(),
            client: reqwest::Client::new(),
            config: self.config.clone(),
            server_clock: self.server_clock.clone(),
            _server: server,
            _db: self._db.clone(),
            _blobs: self._blobs.clone(),
        }
    }

    /// A fresh app on this one's backend with a configuration change, for
    /// tests of settings other than the defaults; this one is dropped first,
    /// so that its background tasks stop before the new one starts.
    pub async fn restarted_with(self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let backend = self.backend();
        drop(self);
        spawn_app_with(backend, tweak).await.unwrap()
    }

    /// Which backend the app stores in.
    pub fn backend(&self) -> Backend {
        if self.dsn.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
    }

    /// A request as a Tracker client sends it: OAuth token and X-Org-ID.
    pub fn as_user(&self, method: Method, path: &str, token: &str, org: &str) -> RequestBuilder {
        self.request(method, path)
            .header("Authorization", format!("OAuth {token}"))
            .header("X-Org-ID", org)
    }

    /// `GET path` with `token` in Acme.
    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.as_user(Method::GET, path, token, ACME)
            .send()
            .await
            .unwrap()
    }

    /// Exchanges an OAuth token for an IAM token.
    pub async fn iam_token(&self, oauth: &str) -> String {
        let r = self
            .request(Method::POST, "/iam/v1/tokens")
            .json(&serde_json::json!({ "yandexPassportOauthToken": oauth }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        body["iamToken"].as_str().unwrap().to_owned()
    }

    /// Polls `req` until it answers `status`: for effects that other nodes
    /// see after their next auth-epoch check.
    pub async fn eventually_status(&self, req: impl Fn() -> RequestBuilder, status: u16) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let got = req().send().await.unwrap().status().as_u16();
            if got == status {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still {got}, wanted {status}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Revokes seeded token `token` in the app's store, as an
    /// administrator's revocation does.
    pub async fn revoke_seeded_token(&self, token: &str) {
        revoke_in(self.state.store.as_ref(), token, self.clock.now()).await;
    }

    /// Gives seeded user `login` a password for the sign-in page (by
    /// applying the user's seed entry with it).
    pub async fn set_password(&self, login: &str, password: &str) {
        seed::with_password(login, password)
            .unwrap()
            .apply(self.state.store.as_ref(), &self.clock)
            .await
            .unwrap();
    }

    /// Registers a public application (a CLI's) with alice's token and
    /// answers its client id.
    pub async fn register_public_app(&self, name: &str) -> String {
        let r = self
            .as_user(Method::POST, "/oauth/v1/apps", ALICE, ACME)
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
}

#[cfg(feature = "client")]
mod client {
    use super::*;

    /// The client side of a [`ManualClock`]: client and server agree on the
    /// time, and the test moves it for both.
    #[derive(Debug, Clone)]
    pub struct SharedClock(pub ManualClock);

    impl tracker_client::Clock for SharedClock {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            self.0.now()
        }
    }

    impl TestApp {
        /// A client for this server in the Acme organization.
        pub fn client(&self, auth: tracker_client::Auth) -> tracker_client::Client {
            self.builder(auth).build().unwrap()
        }

        /// A client builder for this server in Acme, on the app's clock.
        pub fn builder(&self, auth: tracker_client::Auth) -> tracker_client::ClientBuilder {
            tracker_client::Client::builder()
                .base_url(&self.base)
                .org_id(ACME)
                .auth(auth)
                .clock(Arc::new(SharedClock(self.clock.clone())))
        }
    }
}
#[cfg(feature = "client")]
pub use client::SharedClock;

/// The control plane's admin token in tests ([`with_control_plane`]).
pub const CONTROL_TOKEN: &str = "control-token-for-tests-only-0001";

/// A configuration change that turns the emulator's control plane on with
/// [`CONTROL_TOKEN`].
pub fn with_control_plane(config: &mut Config) {
    config.control_token = Some(trackerd::config::ControlToken(CONTROL_TOKEN.into()));
}

impl TestApp {
    /// `method path` on the control plane, with the admin token.
    pub fn control(&self, method: Method, path: &str) -> Call {
        self.call(method, path)
            .anonymous()
            .header("Authorization", format!("Bearer {CONTROL_TOKEN}"))
    }

    /// [`TestApp::control`] without a body, which must answer 200: the
    /// body as JSON.
    pub async fn control_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> T {
        self.control(method, path).await.status(200).json()
    }
}

/// Reads an error answer and checks it is Tracker's envelope with `status`.
pub async fn envelope(r: Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let body: serde_json::Value = r.json().await.expect("an error body is JSON");
    call::check_envelope(&body, status);
    body
}

/// Declares tests that run once per backend: `backend_tests!(name, …)` for
/// functions `async fn name(app: TestApp)` in the same module. The
/// PostgreSQL ones skip without `TRACKERD_TEST_POSTGRES_URL`, or fail with
/// `TRACKERD_TEST_REQUIRE_POSTGRES=1`.
///
/// `backend_tests!(with tweak; name, …)` starts each app with the
/// configuration change `tweak` (`fn(&mut Config)`).
#[macro_export]
macro_rules! backend_tests {
    (with $tweak:ident; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::spawn_app_with($crate::Backend::Sqlite, super::$tweak).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::spawn_app_with($crate::Backend::Postgres, super::$tweak).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::spawn_app($crate::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
