#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! `trackerd::testing`: a seeded trackerd in the test's own process, as an
//! integrator's `#[tokio::test]` would start it.

use trackerd::testing::TestServer;

const SEED: &str = r#"
organizations:
  - id: "8000001"
    name: Helper Org
    users:
      - login: ada
        first_name: Ada
        admin: true
        tokens:
          - token: "y0_helper_test_token_0000000000001"
            scopes: [tracker:read, tracker:write]
    queues:
      - key: HELP
        name: Help
        lead: ada
"#;

#[tokio::test]
async fn a_test_server_serves_its_seed_on_a_free_port_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, SEED).unwrap();
    let server = TestServer::builder().seed(&seed).start().await.unwrap();
    assert!(server.base().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/v2/issues", server.base()))
        .header("Authorization", "OAuth y0_helper_test_token_0000000000001")
        .header("X-Org-ID", "8000001")
        .json(&serde_json::json!({"queue": "HELP", "summary": "From the helper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let issue: serde_json::Value = created.json().await.unwrap();
    assert_eq!(issue["key"], "HELP-1");
    let base = server.base().to_owned();
    server.stop().await.unwrap();
    assert!(reqwest::get(format!("{base}/_trackerd/health"))
        .await
        .is_err());
}
