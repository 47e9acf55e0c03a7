//! `tracker login` completed on trackerd's real device page by the test
//! acting as the person, then commands that use the stored token, down to
//! `tracker issue find` through the real `_search`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use tracker_client::{Auth, NewIssue};

use crate::{expect_code, find_test_issues, run, run_expecting, stdout, tracker, tracker_process};
use trackerd_testkit::oidc;
use trackerd_testkit::*;

const PASSWORD: &str = "a long passphrase for alice";

/// A trackerd that lets a device poll every second (the CLI sleeps for
/// real), with alice able to sign in and a public app for the CLI.
async fn login_server() -> (TestApp, String) {
    let app = AppBuilder::new(Backend::Sqlite)
        .real_time()
        .config(|c| c.oauth.device_poll_interval_secs = 1)
        .spawn_sqlite()
        .await;
    app.set_password("alice", PASSWORD).await;
    let client_id = app.register_public_app("tracker CLI").await;
    (app, client_id)
}

/// `tracker login` on `app` in Acme as application `client_id`, with `more`
/// arguments, to be run as a process whose output the test reads.
fn login_process(
    dir: &std::path::Path,
    app: &TestApp,
    client_id: &str,
    more: &[&str],
) -> std::process::Command {
    let mut cmd = tracker_process(dir);
    cmd.args(["login", "--base-url", &app.base, "--org-id", ACME])
        .args(["--client-id", client_id, "--no-browser"])
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts `tracker login` and answers the process and the user code it
/// printed (it keeps polling meanwhile).
async fn start_login(dir: &std::path::Path, app: &TestApp, client_id: &str) -> (Child, String) {
    let mut cmd = login_process(dir, app, client_id, &[]);
    let base = app.base.clone();
    // The child is handed to the caller, which waits for it in `finish`.
    #[allow(clippy::zombie_processes)]
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            assert!(err.read_line(&mut line).unwrap() > 0, "no code in {seen}");
            seen.push_str(&line);
            if let Some((before, code)) = line.trim().split_once("enter the code: ") {
                assert!(before.contains(&format!("{base}/device")), "{line}");
                // The rest of stderr is read when the process ends.
                child.stderr = Some(err.into_inner());
                return (child, code.to_owned());
            }
        }
    })
    .await
    .unwrap()
}

async fn finish(child: Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_completed_on_the_device_page_lets_issue_find_search_the_queue() {
    let (app, client_id) = login_server().await;
    // Issues to find: three in TEST, one elsewhere that must not show.
    let seeded = app.client(Auth::OAuth(ALICE.into()));
    for (queue, summary) in [
        ("TEST", "First"),
        ("OPS", "Not in TEST"),
        ("TEST", "Second"),
        ("TEST", "Third"),
    ] {
        seeded
            .issues()
            .create(&NewIssue {
                queue: queue.into(),
                summary: summary.into(),
                ..NewIssue::default()
            })
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();

    let (child, user_code) = start_login(dir.path(), &app, &client_id).await;
    let mut person = Browser::new(&app);
    person.sign_in("alice", PASSWORD).await;
    let done = person.decide_device(&user_code, "allow").await;
    assert!(done.contains("id=\"done\""), "{done}");
    let out = finish(child).await;
    expect_code(&out, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Signed in as alice"), "{err}");

    // The token is trackerd's fresh one, not a seeded one, and private.
    let token_file = dir.path().join("tokens").join("default");
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(token.starts_with("y0_") && token != ALICE, "a new token");
    assert!(!err.contains(&token) && !stdout(&out).contains(&token));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // No flags now: the profile remembers the server and organization.
    let (found, keys) = find_test_issues(tracker(dir.path())).await;
    assert_eq!(keys, ["TEST-1", "TEST-2", "TEST-3"], "over two pages");
    assert_eq!(found[1]["summary"], "Second");

    let mut cmd = tracker(dir.path());
    cmd.args(["issue", "find", "Queue: TEST"]);
    let out = run_expecting(cmd, 0).await;
    let table = stdout(&out);
    assert!(
        table.contains("TEST-3") && table.contains("Third") && !table.contains("OPS-1"),
        "{table}"
    );

    // A query the server refuses is a clear error, not an empty list.
    let mut cmd = tracker(dir.path());
    cmd.args(["issue", "find", "Queue: TEST AND ("]);
    let out = run(cmd).await;
    assert_ne!(out.status.code(), Some(0));

    // Logging out forgets the token.
    let mut cmd = tracker(dir.path());
    cmd.arg("logout");
    run_expecting(cmd, 0).await;
    assert!(!token_file.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_denied_on_the_device_page_stores_nothing() {
    let (app, client_id) = login_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (child, user_code) = start_login(dir.path(), &app, &client_id).await;
    let mut person = Browser::new(&app);
    person.sign_in("alice", PASSWORD).await;
    person.decide_device(&user_code, "deny").await;
    let out = finish(child).await;
    expect_code(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("access_denied"), "{err}");
    assert!(!dir.path().join("tokens").join("default").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_client_trackerd_does_not_know_says_so() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tracker(dir.path());
    // The default client id, `tracker-cli`, is not built into trackerd.
    cmd.args(["login", "--base-url", &app.base, "--no-browser"]);
    let out = run_expecting(cmd, 2).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains("--client-id"), "a hint at the fix: {err}");
}

/// `tracker login --federation ID`, then `tracker iam create-token`: the
/// seed's steps for a federated account (`yc init --federation-id`, then
/// `yc iam create-token`), against a real OpenID Connect provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_account_logs_in_through_its_provider_and_creates_an_iam_token() {
    let Some(mock) = oidc::MockOidc::start().await else {
        return;
    };
    let (app, client_id) = login_server().await;
    oidc::add_provider(&app, ACME, "acme-sso", &mock.base, "create").await;
    mock.user("fed-cli", serde_json::json!({"preferred_username": "lena"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = login_process(dir.path(), &app, &client_id, &["--federation", "acme-sso"]);
    // The child is handed back and waited for in `finish`.
    #[allow(clippy::zombie_processes)]
    let (child, page) = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        loop {
            let mut line = String::new();
            assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
            if let Some(page) = line.trim().strip_prefix("(or open ") {
                child.stderr = Some(err.into_inner());
                return (child, page.trim_end_matches(')').to_owned());
            }
        }
    })
    .await
    .unwrap();
    assert!(page.contains("federation=acme-sso"), "{page}");
    // The page goes straight to the provider and back to the device page.
    let mut person = Browser::new(&app);
    let back = person.sign_in_through(&mock, &page, "fed-cli").await;
    assert!(back.starts_with("/device?user_code="), "{back}");
    let code = between(&back, "user_code=", &['&']);
    let code = code.replace("%2D", "-");
    let done = person.decide_device(&code, "allow").await;
    assert!(done.contains("id=\"done\""), "{done}");
    let out = finish(child).await;
    expect_code(&out, 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Signed in as lena"));

    let mut cmd = tracker(dir.path());
    cmd.args(["iam", "create-token"]);
    let out = run_expecting(cmd, 0).await;
    let iam = stdout(&out).trim().to_owned();
    assert!(iam.starts_with("t1."), "{iam}");
    let me = app.client(Auth::Iam(iam)).myself().await.unwrap();
    assert_eq!(me.login, "lena");
}
