use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};

use crate::{run_expecting, stderr, stdout, tracker};
use trackerd_testkit::*;

/// The device flow as trackerd will serve it (RFC 8628): the person
/// "approves" after two polls, and the token handed out is alice's.
fn device_flow_server(token: &'static str) -> Router {
    let polls = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/device/code",
            post(|Form(form): Form<Vec<(String, String)>>| async move {
                assert!(form
                    .iter()
                    .any(|(k, v)| k == "client_id" && v == "tracker-cli"));
                Json(serde_json::json!({
                    "device_code": "dev-1", "user_code": "WDJB-MJHT",
                    "verification_uri": "http://trackerd.test/device",
                    "interval": 0, "expires_in": 600
                }))
            }),
        )
        .route(
            "/token",
            post(move |Form(form): Form<Vec<(String, String)>>| {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                async move {
                    assert!(form.iter().any(|(k, v)| k == "device_code" && v == "dev-1"));
                    if n < 2 {
                        (
                            StatusCode::BAD_REQUEST,
                            Json(serde_json::json!({"error": "authorization_pending"})),
                        )
                            .into_response()
                    } else {
                        Json(serde_json::json!({"access_token": token, "token_type": "bearer"}))
                            .into_response()
                    }
                }
            }),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_stores_a_private_token_that_later_commands_use_until_logout() {
    let app = spawn_sqlite_app().await;
    let (oauth, _s) = serve_mock(device_flow_server(ALICE)).await;
    let dir = tempfile::tempdir().unwrap();

    let mut cmd = tracker(dir.path());
    cmd.args([
        "login",
        "--base-url",
        &app.base,
        "--org-id",
        ACME,
        "--oauth-url",
        &oauth,
    ]);
    let out = run_expecting(cmd, 0).await;
    let err = stderr(&out);
    assert!(
        err.contains("WDJB-MJHT") && err.contains("http://trackerd.test/device"),
        "{err}"
    );
    assert!(err.contains("Signed in as alice"), "{err}");
    assert!(
        !stdout(&out).contains(ALICE) && !err.contains(ALICE),
        "the token is never shown"
    );

    let token_file = dir.path().join("tokens").join("default");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), ALICE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // No flags, no environment: the profile and the stored token suffice.
    let mut cmd = tracker(dir.path());
    cmd.args(["myself", "-o", "json"]);
    let out = run_expecting(cmd, 0).await;
    assert!(stdout(&out).contains("\"alice\""));

    let mut cmd = tracker(dir.path());
    cmd.arg("logout");
    run_expecting(cmd, 0).await;
    assert!(!token_file.exists());
    let mut cmd = tracker(dir.path());
    cmd.arg("myself");
    run_expecting(cmd, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_the_person_denies_exits_as_not_authenticated() {
    let router = Router::new()
        .route(
            "/device/code",
            post(|| async {
                Json(serde_json::json!({
                    "device_code": "d", "user_code": "U", "verification_uri": "http://x/device",
                    "interval": 0, "expires_in": 600
                }))
            }),
        )
        .route(
            "/token",
            post(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({"error": "access_denied"})),
                )
            }),
        );
    let (oauth, _s) = serve_mock(router).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tracker(dir.path());
    cmd.args([
        "login",
        "--base-url",
        "http://127.0.0.1:9",
        "--oauth-url",
        &oauth,
    ]);
    let out = run_expecting(cmd, 2).await;
    assert!(stderr(&out).contains("access_denied"), "{}", stderr(&out));
    assert!(!dir.path().join("tokens").join("default").exists());
}
