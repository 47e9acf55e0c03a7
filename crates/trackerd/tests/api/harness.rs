//! `spawn_app` and its helpers.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use reqwest::{Method, RequestBuilder, Response};
use sqlx::Connection;
use tracker_domain::{Clock, ManualClock};
use trackerd::config::{Config, Dsn};
use trackerd::seed::SeedFile;
use trackerd::AppState;

pub const ALICE: &str = "y0_alice_rw_token_for_tests_only_0001";
pub const BOB_RO: &str = "y0_bob_read_only_token_for_tests_0001";
pub const CAROL_EXPIRING: &str = "y0_carol_token_expiring_mid_2026_0001";
pub const MALLORY: &str = "y0_mallory_other_org_token_0001";
pub const ACME: &str = "7000001";
pub const ACME_CLOUD: &str = "bpf1acme";
pub const OTHER: &str = "7000002";

/// The seed every test starts from: two organizations that must never see
/// each other.
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
            expires_at: "2030-01-01T00:00:00Z"
      - login: bob
        first_name: Bob
        last_name: Baker
        email: bob@acme.test
        tokens:
          - token: "y0_bob_read_only_token_for_tests_0001"
            scopes: [tracker:read]
      - login: carol
        first_name: Carol
        tokens:
          - token: "y0_carol_token_expiring_mid_2026_0001"
            scopes: [tracker:write]
            expires_at: "2026-06-01T00:00:00Z"
    queues:
      - key: TEST
        name: Test queue
        lead: alice
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
    queues:
      - key: SECRET
        name: Other org's queue
        lead: mallory
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub dsn: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // Each PostgreSQL test has its own database: drop it, or a run
        // leaves hundreds behind. FORCE ends the pool's open connections.
        if let (Some(admin), true) = (postgres_url(), self.dsn.starts_with("postgres")) {
            let name = self.dsn.rsplit('/').next().unwrap_or_default().to_owned();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn)
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

/// The PostgreSQL server the suite may use, e.g.
/// `postgres://user:pass@127.0.0.1:5432/postgres` (a role with CREATEDB).
pub fn postgres_url() -> Option<String> {
    std::env::var("TRACKERD_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("trackerd_t_{}", rand_suffix());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(admin_url).expect("TRACKERD_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn rand_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| (b'a' + rng.gen_range(0..26)) as char)
        .collect()
}

pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

/// Starts trackerd on port 0 over a fresh database holding [`SEED`]. `None`
/// when the backend is PostgreSQL and none is configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let dsn = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("trackerd.db").display()),
        Backend::Postgres => {
            let Some(admin) = postgres_url() else {
                eprintln!("SKIPPED on PostgreSQL: TRACKERD_TEST_POSTGRES_URL is not set");
                return None;
            };
            fresh_postgres_database(&admin).await
        }
    };
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: Dsn(dsn.clone()),
        // Tests check revocation by other processes without long waits.
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
    let state = AppState::new(store, Arc::new(clock.clone()) as Arc<dyn Clock>, config);
    let server_state = state.clone();
    let server = tokio::spawn(async move {
        trackerd::serve(server_state, listener, std::future::pending())
            .await
            .unwrap();
    });
    Some(TestApp {
        base: format!("http://{addr}"),
        state,
        clock,
        dsn,
        client: reqwest::Client::new(),
        _dir: dir,
        server,
    })
}

impl TestApp {
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

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.as_user(Method::GET, path, token, ACME)
            .send()
            .await
            .unwrap()
    }

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

    /// Polls `path` until it answers `status`: for effects that other nodes
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
}

/// Reads an error answer and checks it is Tracker's envelope with `status`.
pub async fn envelope(r: Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    let body: serde_json::Value = r.json().await.expect("an error body is JSON");
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["errors"].is_object(), "{body}");
    assert!(body["errorsData"].is_object(), "{body}");
    assert!(body["errorMessages"].is_array(), "{body}");
    body
}

/// Declares tests that run once per backend: `backend_tests!(name, …)` for
/// functions `async fn name(app: TestApp)` in the same module.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::harness::spawn_app($crate::harness::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::harness::spawn_app($crate::harness::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
