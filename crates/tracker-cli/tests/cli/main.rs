//! The built `tracker` binary against an in-process trackerd (SQLite,
//! `trackerd_testkit`):
//! `tracker login` through trackerd's real device flow and pages, and small
//! mock servers for answers trackerd cannot be made to give.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod commands;
mod device_login;
mod issues;
mod login;

use std::path::Path;
use std::process::Output;

/// Every variable the CLI reads: the test's own environment must not leak in.
const VARS: &[&str] = &[
    "TRACKER_TOKEN",
    "TRACKER_IAM_TOKEN",
    "TRACKER_ORG_ID",
    "TRACKER_CLOUD_ORG_ID",
    "TRACKER_BASE_URL",
    "TRACKER_IAM_URL",
    "TRACKER_PROFILE",
    "TRACKER_SERVICE_ACCOUNT_KEY",
    "TRACKER_OAUTH_URL",
    "TRACKER_CLIENT_ID",
];

/// `tracker` with a config directory of its own.
pub fn tracker(config_dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tracker"));
    for v in VARS {
        cmd.env_remove(v);
    }
    cmd.env("TRACKER_CONFIG_DIR", config_dir);
    cmd
}

/// `tracker` as alice in Acme on the server at `base`, told through the
/// environment, as a script would.
pub fn as_alice(base: &str, dir: &Path) -> assert_cmd::Command {
    let mut cmd = tracker(dir);
    cmd.env("TRACKER_BASE_URL", base)
        .env("TRACKER_ORG_ID", trackerd_testkit::ACME)
        .env("TRACKER_TOKEN", trackerd_testkit::ALICE);
    cmd
}

/// `tracker` as a process to talk to while it runs (`tracker login`).
pub fn tracker_process(config_dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tracker"));
    for v in VARS {
        cmd.env_remove(v);
    }
    cmd.env("TRACKER_CONFIG_DIR", config_dir);
    cmd
}

/// Runs the command off the async runtime, so the in-process server keeps
/// answering.
pub async fn run(mut cmd: assert_cmd::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// [`run`], which must exit with `code`: the output.
pub async fn run_expecting(cmd: assert_cmd::Command, code: i32) -> Output {
    let out = run(cmd).await;
    expect_code(&out, code);
    out
}

/// `tracker issue find "Queue: TEST" --per-page 2 -o json` through `cmd`
/// (which says where and as whom): the issues found, and their keys.
pub async fn find_test_issues(
    mut cmd: assert_cmd::Command,
) -> (Vec<serde_json::Value>, Vec<String>) {
    cmd.args([
        "issue",
        "find",
        "Queue: TEST",
        "--per-page",
        "2",
        "-o",
        "json",
    ]);
    let out = run_expecting(cmd, 0).await;
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let keys = found
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect();
    (found, keys)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code, showing the output when it is wrong.
pub fn expect_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}
