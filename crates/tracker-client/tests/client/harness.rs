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
    pub clock: ManualClock,
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
    let state = AppState::new(store, Arc::new(clock.clone()) as Arc<dyn Clock>, config);
    let server = tokio::spawn(async move {
        trackerd::serve(state, listener, std::future::pending())
            .await
            .unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        clock,
        _dir: dir,
        server,
    }
}

impl TestApp {
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
