use crate::{as_alice, run_expecting, stderr, stdout, tracker};
use trackerd_testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn myself_prints_a_table_for_people_and_json_for_scripts() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.arg("myself");
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("alice@acme.test"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Alice Archer"));

    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["myself", "--output", "json"]);
    let out = run_expecting(cmd, 0).await;
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["login"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_list_walks_every_page_and_user_get_finds_one() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["user", "list", "--per-page", "2", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    let users: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let logins: Vec<_> = users.iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["alice", "bob", "carol", "dave", "erin"]);

    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["user", "list", "--limit", "2"]);
    let out = run_expecting(cmd, 0).await;
    let table = stdout(&out);
    assert!(table.contains("LOGIN") && table.contains("bob"), "{table}");
    assert!(
        !table.contains("carol"),
        "--limit 2 stops after two: {table}"
    );

    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["user", "get", "bob"]);
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("Bob Baker"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_are_listed_read_and_created() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args([
        "queue",
        "create",
        "--key",
        "CLI",
        "--name",
        "From the CLI",
        "--lead",
        "bob",
    ]);
    run_expecting(cmd, 0).await;

    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["queue", "list"]);
    let out = run_expecting(cmd, 0).await;
    let table = stdout(&out);
    for key in ["TEST", "OPS", "CLI"] {
        assert!(table.contains(key), "{table}");
    }

    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["queue", "get", "CLI", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    let q: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(q["name"], "From the CLI");
    assert_eq!(q["lead"]["display"], "Bob Baker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_scripts_what_went_wrong() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();

    // 2: the token is refused.
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.env("TRACKER_TOKEN", "y0_nobody").arg("myself");
    let out = run_expecting(cmd, 2).await;
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));

    // 3: a valid token in an organization it does not belong to.
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.env("TRACKER_TOKEN", MALLORY).arg("myself");
    run_expecting(cmd, 3).await;

    // 4: no such user.
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["user", "get", "nobody"]);
    run_expecting(cmd, 4).await;

    // 5: any other API error, with the field errors shown.
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args([
        "queue", "create", "--key", "no way 1", "--name", "x", "--lead", "alice",
    ]);
    let out = run_expecting(cmd, 5).await;
    assert!(stderr(&out).contains("key:"), "{}", stderr(&out));

    // 6: nothing listens there.
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.env("TRACKER_BASE_URL", "http://127.0.0.1:9")
        .arg("myself");
    run_expecting(cmd, 6).await;

    // 1: usage errors, and no token at all.
    let mut cmd = tracker(dir.path());
    cmd.arg("frobnicate");
    run_expecting(cmd, 1).await;
    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_BASE_URL", &app.base).arg("myself");
    let out = run_expecting(cmd, 1).await;
    assert!(stderr(&out).contains("tracker login"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_create_token_prints_a_token_that_works_as_bearer() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_BASE_URL", &app.base)
        .env("TRACKER_TOKEN", ALICE)
        .args(["iam", "create-token"]);
    let out = run_expecting(cmd, 0).await;
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("t1."), "{token}");
    assert_eq!(stdout(&out).lines().count(), 1, "only the token, for $(…)");

    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_BASE_URL", &app.base)
        .env("TRACKER_CLOUD_ORG_ID", ACME_CLOUD)
        .env("TRACKER_IAM_TOKEN", &token)
        .args(["myself", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("\"alice\""));

    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_BASE_URL", &app.base)
        .env("TRACKER_TOKEN", ALICE)
        .args(["iam", "create-token", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["iamToken"].as_str().unwrap().starts_with("t1."));
    assert!(v["expiresAt"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-16T00:00:00"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_iam_sends_exchanged_iam_tokens() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.args(["--use-iam", "myself", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("\"alice\""));
    // A bad OAuth token fails at the exchange, still as "not authenticated".
    let mut cmd = as_alice(&app.base, dir.path());
    cmd.env("TRACKER_TOKEN", "y0_nobody")
        .args(["--use-iam", "myself"]);
    run_expecting(cmd, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_hold_settings_and_the_environment_overrides_them() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    for (k, v) in [("base-url", "http://127.0.0.1:9"), ("org-id", ACME)] {
        let mut cmd = tracker(dir.path());
        cmd.args(["config", "set", k, v]);
        run_expecting(cmd, 0).await;
    }
    let mut cmd = tracker(dir.path());
    cmd.args(["config", "show"]);
    let out = run_expecting(cmd, 0).await;
    assert!(
        stdout(&out).contains("org_id = \"7000001\""),
        "{}",
        stdout(&out)
    );

    // The profile's base URL is unreachable; the environment's wins.
    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_TOKEN", BOB_RO).arg("myself");
    run_expecting(cmd, 6).await;
    let mut cmd = tracker(dir.path());
    cmd.env("TRACKER_TOKEN", BOB_RO)
        .env("TRACKER_BASE_URL", &app.base)
        .arg("myself");
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("bob"));

    // Another profile starts empty.
    let mut cmd = tracker(dir.path());
    cmd.args(["--profile", "work", "config", "show"]);
    let out = run_expecting(cmd, 0).await;
    assert!(!stdout(&out).contains("org_id"));

    let mut cmd = tracker(dir.path());
    cmd.args(["config", "set", "colour", "red"]);
    run_expecting(cmd, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_are_generated_for_bash() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tracker(dir.path());
    cmd.args(["completions", "bash"]);
    let out = run_expecting(cmd, 0).await;
    let script = stdout(&out);
    assert!(script.contains("complete -F _tracker"), "{script}");
    assert!(script.contains("create-token"));
}
