use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use tracker_client::oauth::DeviceFlow;
use tracker_client::Error;

use trackerd_testkit::serve_mock;

/// Every form the mock received, in order.
type Forms = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// A device-flow server following RFC 8628: `/token` answers `answers` in
/// turn (an error code, or "ok" for the token) and records every form.
fn oauth_mock(answers: Vec<&'static str>, forms: Forms) -> Router {
    let polls = Arc::new(AtomicUsize::new(0));
    let device_forms = forms.clone();
    Router::new()
        .route(
            "/device/code",
            post(move |Form(form): Form<Vec<(String, String)>>| {
                device_forms.lock().unwrap().push(form);
                async {
                    Json(serde_json::json!({
                        "device_code": "dev-123", "user_code": "ABCD-EFGH",
                        "verification_uri": "http://localhost/device",
                        "interval": 0, "expires_in": 60
                    }))
                }
            }),
        )
        .route(
            "/token",
            post(move |Form(form): Form<Vec<(String, String)>>| {
                forms.lock().unwrap().push(form);
                let n = polls.fetch_add(1, Ordering::SeqCst);
                let answer = answers.get(n).copied().unwrap_or("expired_token");
                async move {
                    if answer == "ok" {
                        Json(serde_json::json!({
                            "access_token": "y0_from_device_flow", "token_type": "bearer",
                            "expires_in": 3600, "scope": "tracker:read"
                        }))
                        .into_response()
                    } else {
                        (
                            StatusCode::BAD_REQUEST,
                            Json(serde_json::json!({"error": answer})),
                        )
                            .into_response()
                    }
                }
            }),
        )
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_device_flow_polls_through_pending_and_slow_down_to_a_token() {
    let forms = Arc::new(Mutex::new(Vec::new()));
    let (base, _s) = serve_mock(oauth_mock(
        vec![
            "authorization_pending",
            "slow_down",
            "authorization_pending",
            "ok",
        ],
        forms.clone(),
    ))
    .await;
    let flow = DeviceFlow::new(&base, "tracker-cli")
        .unwrap()
        .slow_down_step(Duration::from_millis(20));
    let auth = flow.start(Some("tracker:read")).await.unwrap();
    assert_eq!(auth.user_code, "ABCD-EFGH");
    let token = flow.wait(&auth).await.unwrap();
    assert_eq!(token.access_token, "y0_from_device_flow");

    let forms = forms.lock().unwrap();
    assert_eq!(forms.len(), 5, "one device code request and four polls");
    assert_eq!(field(&forms[0], "client_id"), Some("tracker-cli"));
    assert_eq!(field(&forms[0], "scope"), Some("tracker:read"));
    for poll in &forms[1..] {
        assert_eq!(
            field(poll, "grant_type"),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        assert_eq!(field(poll, "device_code"), Some("dev-123"));
        assert_eq!(field(poll, "client_id"), Some("tracker-cli"));
    }
}

#[tokio::test]
async fn an_expired_or_denied_device_code_ends_the_flow_with_the_oauth_error() {
    for ending in ["expired_token", "access_denied"] {
        let forms = Arc::new(Mutex::new(Vec::new()));
        let (base, _s) = serve_mock(oauth_mock(vec!["authorization_pending", ending], forms)).await;
        let flow = DeviceFlow::new(&base, "tracker-cli").unwrap();
        let auth = flow.start(None).await.unwrap();
        match flow.wait(&auth).await.unwrap_err() {
            Error::OAuth { status, error, .. } => {
                assert_eq!(status, 400);
                assert_eq!(error, ending);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_device_code_past_its_lifetime_is_not_polled_again() {
    let forms = Arc::new(Mutex::new(Vec::new()));
    let (base, _s) = serve_mock(oauth_mock(vec![], forms.clone())).await;
    let flow = DeviceFlow::new(&base, "tracker-cli").unwrap();
    let mut auth = flow.start(None).await.unwrap();
    auth.expires_in = 0;
    let err = flow.wait(&auth).await.unwrap_err();
    assert!(matches!(err, Error::OAuth { ref error, .. } if error == "expired_token"));
    assert_eq!(forms.lock().unwrap().len(), 1, "no poll after expiry");
}
