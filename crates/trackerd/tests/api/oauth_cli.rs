//! The authorization server's admin commands on a database a server uses.

use std::io::Write;
use std::process::{Command, Stdio};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tracker_domain::Clock;

use crate::oauth::{confidential_app, location, Web, ALICE_PASSWORD};
use trackerd_testkit::*;

/// `trackerd --database dsn args…` with `stdin`, which must succeed: its
/// output. The admin commands work on the database a running server uses.
pub(crate) fn trackerd(dsn: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackerd"))
        .env("TRACKERD_LOG", "warn")
        .args(["--database", dsn])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `trackerd app create` of application `name` in Acme, owned by alice,
/// with `more` arguments.
fn create_app(dsn: &str, name: &str, more: &[&str]) -> String {
    let args = [
        &[
            "app", "create", "--org", ACME, "--owner", "alice", "--name", name,
        ][..],
        more,
    ]
    .concat();
    trackerd(dsn, &args, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_make_service_account_keys_set_passwords_and_print_the_audit_trail() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let sa_id = trackerd(
        &app.dsn,
        &[
            "service-account",
            "create",
            "--org",
            ACME,
            "--name",
            "cli-bot",
            "--scopes",
            "tracker:read",
        ],
        None,
    )
    .trim()
    .to_owned();
    assert!(sa_id.starts_with("aje"), "{sa_id}");
    let listed = trackerd(&app.dsn, &["service-account", "list", "--org", ACME], None);
    assert!(listed.contains("cli-bot"), "{listed}");

    let file: Value = serde_json::from_str(&trackerd(
        &app.dsn,
        &["service-account", "create-key", "--id", &sa_id],
        None,
    ))
    .unwrap();
    assert_eq!(file["service_account_id"], sa_id.as_str());
    // The key file works as it is: sign a JWT with it and exchange it.
    let now = app.clock.now().timestamp();
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some(file["id"].as_str().unwrap().to_owned());
    let jwt = jsonwebtoken::encode(
        &header,
        &json!({"iss": sa_id, "aud": format!("{}/iam/v1/tokens", app.base), "iat": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(file["private_key"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    app.post("/iam/v1/tokens")
        .anonymous()
        .json(json!({ "jwt": jwt }))
        .await
        .status(200);

    trackerd(
        &app.dsn,
        &["password", "--login", "alice", "--must-change"],
        Some(&format!("{ALICE_PASSWORD}\n")),
    );
    let (client_id, _) = confidential_app(&app).await;
    let mut web = Web::alice(&app).await;
    let r = web
        .get(&format!(
            "/authorize?response_type=code&client_id={client_id}"
        ))
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/password?next="));

    trackerd(
        &app.dsn,
        &[
            "service-account",
            "delete-key",
            "--key-id",
            file["id"].as_str().unwrap(),
        ],
        None,
    );
    let out = create_app(
        &app.dsn,
        "tracker CLI",
        &["--client-id", "tracker-cli", "--type", "public"],
    );
    assert_eq!(out.trim(), "client_id: tracker-cli");
    let out = create_app(
        &app.dsn,
        "Reports",
        &["--redirect-uri", "https://reports.test/cb"],
    );
    assert!(out.contains("client_secret: cs_"), "{out}");
    let listed = trackerd(&app.dsn, &["app", "list", "--org", ACME], None);
    assert!(
        listed.contains("tracker-cli") && listed.contains("Reports"),
        "{listed}"
    );
    let trail = trackerd(&app.dsn, &["audit", "--org", ACME], None);
    for action in [
        "service_account.created",
        "key.created",
        "key.deleted",
        "token.issued",
        "signin.succeeded",
    ] {
        assert!(trail.contains(action), "{action} missing from\n{trail}");
    }
}
