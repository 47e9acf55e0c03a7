//! A real browser end to end: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) signs in, registers an application, runs the
//! authorization code flow through the consent page, and completes a device
//! flow on the device page. The consent page is saved as a screenshot whose
//! path the test prints.
//!
//! Chromium is driven through chromedriver's W3C WebDriver HTTP API with
//! reqwest, which the suite already uses: the test needs a dozen endpoints,
//! and a WebDriver crate would add a second HTTP stack to compile on every
//! machine for no behaviour the test relies on.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use base64::Engine;
use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::oauth::{enc, myself_status, params_of, redeem, ALICE_PASSWORD};
use crate::oauth_device::{device_code, poll_with_secret};
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_real_browser_signs_in_registers_an_app_consents_and_connects_a_device,
    a_real_browser_signs_in_through_the_organizations_identity_provider,
);

/// Writes past the test harness's output capture, so the line shows in CI
/// logs whether the test passes or not.
fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

struct Driver {
    process: Child,
    http: reqwest::Client,
    url: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    async fn start(chromium: &Path, chromedriver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + StdDuration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                let v: Value = r.json().await.unwrap_or_default();
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1000,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let r = http
            .post(format!("{url}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args}
            }}}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_owned();
        Driver {
            process,
            http,
            url,
            session,
            _profile: profile,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(
            method,
            format!("{}/session/{}{}", self.url, self.session, path),
        );
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "WebDriver {path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// A `GET` command's answer that is a string (a URL, a text).
    async fn get_str(&self, path: &str) -> String {
        self.call(Method::GET, path, None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn current_url(&self) -> String {
        self.get_str("/url").await
    }

    /// Waits for an element to appear (pages load after clicks).
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + StdDuration::from_secs(15);
        loop {
            let r = self
                .http
                .post(format!("{}/session/{}/element", self.url, self.session))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                let v: Value = r.json().await.unwrap();
                return v["value"][ELEMENT].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css}");
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call(
            Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.get_str(&format!("/element/{e}/text")).await
    }

    async fn wait_for_url(&self, prefix: &str) -> String {
        let deadline = Instant::now() + StdDuration::from_secs(15);
        loop {
            let url = self.current_url().await;
            if url.starts_with(prefix) {
                return url;
            }
            assert!(Instant::now() < deadline, "still at {url}, wanted {prefix}");
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, to: &Path) {
        let b64 = self.call(Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(to, png).unwrap();
    }

    async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.url, self.session))
            .send()
            .await;
    }
}

async fn a_real_browser_signs_in_registers_an_app_consents_and_connects_a_device(app: TestApp) {
    let (Some(chromium), Some(chromedriver)) = (
        find_binary(&["chromium", "chromium-browser"]),
        find_binary(&["chromedriver"]),
    ) else {
        loud(
            "\n!!!! SKIPPED the real-browser test: chromium and chromedriver are not installed.\n\
             !!!! Install them (Debian: apt-get install chromium chromium-driver) to run it.\n",
        );
        return;
    };
    app.set_password("alice", ALICE_PASSWORD).await;
    let browser = Driver::start(&chromium, &chromedriver).await;
    let base = &app.base;
    // Nothing listens there: the browser lands on a 404 whose address
    // carries the answer, which is all a client reads.
    let callback = format!("{base}/test-client/callback");

    // Sign in: /my sends a stranger to the sign-in page.
    browser.goto(&format!("{base}/my")).await;
    browser.wait_for_url(&format!("{base}/signin")).await;
    browser.type_into("#login", "alice").await;
    browser.type_into("#password", ALICE_PASSWORD).await;
    browser.click("#signin").await;
    browser.wait_for_url(&format!("{base}/my")).await;

    // Register an application on the registration page.
    browser.click("#register").await;
    browser.wait_for_url(&format!("{base}/my/apps/new")).await;
    browser.type_into("#name", "Browser test app").await;
    browser.type_into("#redirect_uris", &callback).await;
    browser.click("#scope-write").await;
    browser.click("#create").await;
    let client_id = browser.text("#client-id").await;
    let secret = browser.text("#client-secret").await;
    assert!(secret.starts_with("cs_"), "{secret}");

    // The authorization code flow through the consent page.
    browser
        .goto(&format!(
            "{base}/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
             &state=from-the-browser&scope={}",
            enc(&callback),
            enc("tracker:read tracker:write")
        ))
        .await;
    assert_eq!(browser.text("#app-name").await, "Browser test app");
    let scopes = browser.text("#scopes").await;
    assert!(
        scopes.contains("tracker:read") && scopes.contains("tracker:write"),
        "{scopes}"
    );
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("consent-page-{}.png", app.state.store.backend()));
    browser.screenshot(&shot).await;
    loud(&format!("consent page screenshot: {}", shot.display()));
    browser.click("#allow").await;
    let landed = browser.wait_for_url(&callback).await;
    let p = params_of(&landed, false);
    assert_eq!(p["state"], "from-the-browser");
    let r = redeem(&app, &p["code"], &callback, (&client_id, &secret)).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    let me: Value = app
        .get_as("/v2/myself", t["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "alice");

    // A device flow completed on the device page.
    let d = device_code(&app, &client_id, Some("tracker:read")).await;
    browser.goto(d["verification_uri"].as_str().unwrap()).await;
    browser
        .type_into("#user_code", d["user_code"].as_str().unwrap())
        .await;
    browser.click("#continue").await;
    assert_eq!(
        browser.text("#code").await,
        d["user_code"].as_str().unwrap()
    );
    browser.click("#allow").await;
    assert!(browser.text("#done").await.contains("Browser test app"));
    app.clock.advance(Duration::seconds(5));
    let device = d["device_code"].as_str().unwrap();
    let r = poll_with_secret(&app, (&client_id, &secret), device).await;
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["scope"], "tracker:read");
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(myself_status(&app, access).await, 200);
    browser.quit().await;
}

/// The federated sign-in in a real browser: the sign-in page's button, the
/// provider's own page (`oidc-provider-mock`), back to trackerd signed in
/// (the state's binding cookie must survive the trip through the provider).
async fn a_real_browser_signs_in_through_the_organizations_identity_provider(app: TestApp) {
    let (Some(chromium), Some(chromedriver)) = (
        find_binary(&["chromium", "chromium-browser"]),
        find_binary(&["chromedriver"]),
    ) else {
        loud("\n!!!! SKIPPED the real-browser federation test: chromium and chromedriver are not installed.\n");
        return;
    };
    let Some(mock) = trackerd_testkit::oidc::MockOidc::start().await else {
        return;
    };
    // The provider signs with the real time; the server's clock follows it.
    app.clock.set(chrono::Utc::now());
    trackerd_testkit::oidc::add_provider(&app, ACME, "acme-sso", &mock.base, "create").await;
    mock.user(
        "fed-browser",
        json!({"preferred_username": "bea", "given_name": "Bea", "family_name": "Brown"}),
    )
    .await;
    let browser = Driver::start(&chromium, &chromedriver).await;
    let base = &app.base;
    browser.goto(&format!("{base}/my")).await;
    browser.wait_for_url(&format!("{base}/signin")).await;
    browser.click("#federation-acme-sso").await;
    browser.wait_for_url(&mock.base).await;
    browser.type_into("input[name=sub]", "fed-browser").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(&format!("{base}/my")).await;
    let page = browser.text("main").await;
    assert!(page.contains("Bea Brown") && page.contains("bea"), "{page}");
    browser.quit().await;
    let bea = app.state.store.user_by_login("bea").await.unwrap().unwrap();
    assert!(bea.password_hash.is_none());
}
