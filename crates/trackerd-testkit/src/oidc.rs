//! A real OpenID Connect provider for tests: `oidc-provider-mock` (PyPI),
//! started as a process on a free port (`scripts/test` installs it into
//! `target/oidc-venv`, or `TRACKERD_TEST_OIDC_MOCK` names it), and the
//! registration of a provider in an organization as the admin command and
//! seed files do it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use serde_json::Value;
use trackerd::admin::ops::{put_federation, FederationSpec};

use crate::{pg, TestApp};

/// Writes past the harness's capture, so a skip shows in CI logs.
fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `oidc-provider-mock` running for one test.
pub struct MockOidc {
    process: Child,
    pub base: String,
    pub http: reqwest::Client,
}

impl Drop for MockOidc {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl MockOidc {
    /// `None` (after saying so) when the mock is not installed, unless CI
    /// requires it (`TRACKERD_TEST_REQUIRE_POSTGRES=1`): then a failure.
    pub async fn start() -> Option<MockOidc> {
        let bin = std::env::var_os("TRACKERD_TEST_OIDC_MOCK")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target/oidc-venv/bin/oidc-provider-mock")
            });
        if !bin.is_file() {
            let msg = format!(
                "oidc-provider-mock not found at {} (scripts/test installs it)",
                bin.display()
            );
            assert!(!pg::postgres_required(), "{msg}");
            loud(&format!("SKIPPED: {msg}"));
            return None;
        }
        let port = free_port();
        let process = Command::new(&bin)
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start oidc-provider-mock");
        let base = format!("http://127.0.0.1:{port}");
        let mock = MockOidc {
            process,
            base,
            http: no_redirects(),
        };
        let deadline = Instant::now() + StdDuration::from_secs(30);
        loop {
            let up = mock
                .http
                .get(format!("{}/.well-known/openid-configuration", mock.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if up {
                return Some(mock);
            }
            assert!(
                Instant::now() < deadline,
                "oidc-provider-mock did not start"
            );
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    /// The account `sub` at the provider, with these claims.
    pub async fn user(&self, sub: &str, claims: Value) {
        let r = self
            .http
            .put(format!("{}/users/{sub}", self.base))
            .json(&claims)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    /// The user signs in as `sub` on the provider's page: its redirect back
    /// to trackerd.
    pub async fn authorize(&self, authorize_url: &str, sub: &str) -> String {
        assert!(authorize_url.starts_with(&self.base), "{authorize_url}");
        let r = self
            .http
            .post(authorize_url)
            .form(&[("sub", sub)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("the provider redirects back")
            .to_owned()
    }
}

/// Registers a provider in `org` as the admin command and seed do.
pub async fn add_provider(app: &TestApp, org: &str, id: &str, issuer: &str, link: &str) {
    let org = app
        .state
        .store
        .organization_by_org_id(org)
        .await
        .unwrap()
        .unwrap();
    put_federation(
        app.state.store.as_ref(),
        &app.clock,
        &org,
        &FederationSpec {
            id: id.into(),
            name: format!("{id} SSO"),
            issuer: issuer.into(),
            client_id: "trackerd-test".into(),
            client_secret: "a-client-secret-for-tests".into(),
            scopes: "openid profile email".into(),
            login_claim: "preferred_username".into(),
            first_name_claim: "given_name".into(),
            last_name_claim: "family_name".into(),
            email_claim: "email".into(),
            link: link.into(),
            algorithms: "RS256".into(),
            enabled: true,
        },
    )
    .await
    .unwrap();
}
