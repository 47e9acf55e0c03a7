//! The `trackerd` binary: first start, admin commands on the same database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn trackerd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trackerd"));
    c.env("TRACKERD_LOG", "warn");
    c
}

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `trackerd serve` and returns it with the lines it printed up to
/// and including `trackerd listening on http://ADDR`.
pub(crate) fn serve(args: &[&str]) -> (Server, Vec<String>, String) {
    serve_with_env(args, &[])
}

/// [`serve`] with environment settings (`TRACKERD_…`) added.
pub(crate) fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> (Server, Vec<String>, String) {
    let mut server = Server(
        trackerd()
            .envs(env.iter().copied())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = Vec::new();
    let mut reader = BufReader::new(server.0.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "trackerd exited early: {lines:?}"
        );
        let line = line.trim_end().to_owned();
        lines.push(line.clone());
        if let Some(addr) = line.strip_prefix("trackerd listening on ") {
            let addr = addr.to_owned();
            return (server, lines, addr);
        }
    }
}

fn run(args: &[&str]) -> String {
    let out = trackerd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `GET /v2/myself` on the server at `base`, bounded in time: a node that
/// hangs fails the test rather than stalling it.
pub(crate) async fn myself(base: &str, token: &str, org: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("{base}/v2/myself"))
        .header("Authorization", format!("OAuth {token}"))
        .header("X-Org-ID", org)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_start_prints_a_token_and_a_curl_line_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("sqlite://{}/data/trackerd.db", dir.path().display());
    let (_server, lines, base) = serve(&["--database", &dsn]);
    let text = lines.join("\n");
    let token = text
        .split_whitespace()
        .find(|w| w.starts_with("y0_"))
        .expect("a token is printed")
        .trim_matches('\'')
        .to_owned();
    let org = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("organization id (X-Org-ID):"))
        .expect("the org id is printed")
        .trim()
        .to_owned();
    let curl = lines
        .iter()
        .find(|l| l.trim_start().starts_with("curl "))
        .expect("a curl line");
    assert!(curl.contains(&format!("{base}/v2/myself")), "{curl}");
    let r = myself(&base, &token, &org).await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["login"], "admin");
}

#[tokio::test]
async fn admin_commands_issue_and_revoke_tokens_on_a_running_servers_database() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("sqlite://{}/t.db", dir.path().display());
    let db = ["--database", dsn.as_str()];
    run(&[
        &db[..],
        &[
            "org",
            "create",
            "--id",
            "4242",
            "--name",
            "CLI Org",
            "--cloud-id",
            "bpfcli",
        ],
    ]
    .concat());
    run(&[
        &db[..],
        &[
            "user",
            "create",
            "--org",
            "4242",
            "--login",
            "dora",
            "--first-name",
            "Dora",
            "--admin",
        ],
    ]
    .concat());
    let token = run(&[
        &db[..],
        &[
            "token",
            "issue",
            "--login",
            "dora",
            "--scopes",
            "tracker:read",
        ],
    ]
    .concat());
    let token = token.trim();
    assert!(token.starts_with("y0_"));
    assert!(run(&[&db[..], &["org", "list"]].concat()).contains("CLI Org"));
    assert!(run(&[&db[..], &["user", "list", "--org", "4242"]].concat()).contains("dora"));

    let (_server, _, base) = serve(&db);
    let r = myself(&base, token, "4242").await;
    assert_eq!(r.status(), 200);
    let listed = run(&[&db[..], &["token", "list", "--login", "dora"]].concat());
    assert!(
        listed.contains("tracker:read") && listed.contains("live"),
        "{listed}"
    );
    assert!(!listed.contains(token), "token list never shows secrets");

    run(&[&db[..], &["token", "revoke", "--token", token]].concat());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let status = myself(&base, token, "4242").await.status();
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "revoked token still answers {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_seed_file_is_applied_at_start_and_by_the_seed_command() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, trackerd_testkit::SEED).unwrap();
    let dsn = format!("sqlite://{}/s.db", dir.path().display());
    let out = run(&["--database", &dsn, "seed", seed.to_str().unwrap()]);
    assert!(
        out.contains("seeded 2 organizations, 6 users, 4 tokens, 3 queues"),
        "{out}"
    );
    let (_server, lines, base) = serve(&["--database", &dsn, "--seed", seed.to_str().unwrap()]);
    assert!(
        !lines.iter().any(|l| l.contains("first start")),
        "a seeded database is not empty"
    );
    assert_eq!(
        myself(&base, trackerd_testkit::ALICE, trackerd_testkit::ACME)
            .await
            .status(),
        200
    );
}

/// Checks `trackerd migrate` refuses the configuration file `contents`,
/// naming `key` in its message.
fn a_config_file_is_refused_naming(contents: &str, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trackerd.toml");
    std::fs::write(&file, contents).unwrap();
    let out = trackerd()
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{contents:?} was accepted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(key), "{key} not named: {stderr}");
}

#[test]
fn a_bad_configuration_is_refused_with_a_clear_message() {
    a_config_file_is_refused_naming("listen = \"127.0.0.1:0\"\nunknown_key = 1\n", "unknown_key");
}

#[test]
fn an_unknown_key_in_a_nested_table_of_the_file_is_refused_too() {
    a_config_file_is_refused_naming("[jobs]\nworkre = false\n", "workre");
}

#[tokio::test]
async fn unknown_environment_variables_are_named_in_a_warning_and_the_server_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut server = Server(
        trackerd()
            .args(["--database", &dsn, "serve", "--listen", "127.0.0.1:0"])
            // What a wrapper script exports, and a misspelt setting.
            .env("TRACKERD_PID", "4242")
            .env("TRACKERD_LISTNE", "127.0.0.1:1")
            // A known one alongside still applies.
            .env("TRACKERD_JOBS__WORKER", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(server.0.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "trackerd exited");
        if let Some(addr) = line.trim_end().strip_prefix("trackerd listening on ") {
            break addr.to_owned();
        }
    };
    let health = reqwest::get(format!("{addr}/_trackerd/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let warning = stderr
        .lines()
        .find(|l| l.contains("WARN") && l.contains("TRACKERD_PID"))
        .unwrap_or_else(|| panic!("no warning naming TRACKERD_PID in {stderr}"));
    assert!(warning.contains("TRACKERD_LISTNE"), "{warning}");
    assert!(!warning.contains("TRACKERD_JOBS__WORKER"), "{warning}");
}
