//! `tracker issue …` against a small in-memory issue server: trackerd does
//! not serve issues yet. The mock follows the reference: create answers
//! 201, `_search` pages with `perPage`/`page` and `Link rel="next"`.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{as_alice, find_test_issues, run, run_expecting, stderr, stdout};
use trackerd_testkit::*;

type Issues = Arc<Mutex<Vec<Value>>>;

fn not_found(key: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"errors": {}, "errorsData": {},
            "errorMessages": [format!("Issue {key} does not exist.")], "statusCode": 404})),
    )
        .into_response()
}

async fn create(State(db): State<Issues>, Json(body): Json<Value>) -> Response {
    let mut db = db.lock().unwrap();
    let key = format!("{}-{}", body["queue"].as_str().unwrap(), db.len() + 1);
    let mut issue = json!({"self": format!("http://h/v2/issues/{key}"), "id": key, "key": key,
        "version": 1, "status": {"key": "open", "display": "Open"}});
    for (k, v) in body.as_object().unwrap() {
        // References come back as objects, as Tracker renders them.
        issue[k] = match (k.as_str(), v.as_str()) {
            ("queue" | "type" | "priority" | "assignee", Some(key)) => {
                json!({"self": format!("http://h/v2/{k}/{key}"), "id": key, "key": key, "display": key})
            }
            _ => v.clone(),
        };
    }
    db.push(issue.clone());
    (StatusCode::CREATED, Json(issue)).into_response()
}

async fn read(State(db): State<Issues>, Path(key): Path<String>) -> Response {
    match db.lock().unwrap().iter().find(|i| i["key"] == key.as_str()) {
        Some(i) => Json(i.clone()).into_response(),
        None => not_found(&key),
    }
}

async fn update(
    State(db): State<Issues>,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut db = db.lock().unwrap();
    let Some(issue) = db.iter_mut().find(|i| i["key"] == key.as_str()) else {
        return not_found(&key);
    };
    for (k, v) in body.as_object().unwrap() {
        issue[k] = v.clone();
    }
    issue["version"] = json!(issue["version"].as_i64().unwrap() + 1);
    Json(issue.clone()).into_response()
}

#[derive(serde::Deserialize)]
struct Paging {
    page: Option<usize>,
    #[serde(rename = "perPage")]
    per_page: Option<usize>,
}

async fn search(
    State(db): State<Issues>,
    Query(p): Query<Paging>,
    Json(body): Json<Value>,
) -> Response {
    // Only what the test asks: "Queue: KEY".
    let queue = body["query"]
        .as_str()
        .unwrap()
        .trim_start_matches("Queue: ")
        .to_owned();
    let db = db.lock().unwrap();
    let found: Vec<_> = db
        .iter()
        .filter(|i| i["queue"]["key"] == queue.as_str())
        .cloned()
        .collect();
    let (page, per) = (p.page.unwrap_or(1), p.per_page.unwrap_or(50));
    let chunk: Vec<_> = found
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .cloned()
        .collect();
    let mut r = Json(chunk).into_response();
    if page * per < found.len() {
        let link = format!(
            "</v2/issues/_search?perPage={per}&page={}>; rel=\"next\"",
            page + 1
        );
        r.headers_mut().insert("link", link.parse().unwrap());
    }
    r
}

fn issue_server() -> Router {
    Router::new()
        .route("/v2/issues", post(create))
        .route("/v2/issues/_search", post(search))
        .route("/v2/issues/{key}", get(read).patch(update))
        .with_state(Issues::default())
}

/// `cmd` told to create issue `summary` in TEST; more arguments may follow.
fn create_in_test(mut cmd: assert_cmd::Command, summary: &str) -> assert_cmd::Command {
    cmd.args(["issue", "create", "--queue", "TEST", "--summary", summary]);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_are_created_found_across_pages_updated_and_read() {
    let (base, _s) = serve_mock(issue_server()).await;
    let dir = tempfile::tempdir().unwrap();
    let cmd = || as_alice(&base, dir.path());
    for n in 1..=3 {
        let mut c = create_in_test(cmd(), &format!("Issue {n}"));
        c.args(["--type", "bug", "--field", "storyPoints=3"]);
        let out = run_expecting(c, 0).await;
        assert!(
            stdout(&out).contains(&format!("TEST-{n}")),
            "{}",
            stdout(&out)
        );
    }

    let (found, keys) = find_test_issues(cmd()).await;
    assert_eq!(keys, ["TEST-1", "TEST-2", "TEST-3"]);
    assert_eq!(found[0]["type"]["key"], "bug");
    assert_eq!(found[0]["storyPoints"], 3);

    let mut c = cmd();
    c.args([
        "issue",
        "update",
        "TEST-2",
        "--summary",
        "Renamed",
        "--field",
        r#"tags={"add":["cli"]}"#,
    ]);
    run_expecting(c, 0).await;

    let mut c = cmd();
    c.args(["issue", "get", "TEST-2"]);
    let out = run_expecting(c, 0).await;
    let table = stdout(&out);
    assert!(
        table.contains("Renamed") && table.contains("Open"),
        "{table}"
    );
    let mut c = cmd();
    c.args(["issue", "get", "TEST-2", "-o", "json"]);
    let out = run_expecting(c, 0).await;
    let issue: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(issue["version"], 2);
    assert_eq!(issue["tags"], json!({"add": ["cli"]}), "sent as given");

    let mut c = cmd();
    c.args(["issue", "get", "TEST-99"]);
    run_expecting(c, 4).await;
    let mut c = cmd();
    c.args(["issue", "update", "TEST-1"]);
    run_expecting(c, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_lives_its_life_on_trackerd_from_the_command_line() {
    let app = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let cmd = || as_alice(&app.base, dir.path());
    let mut c = create_in_test(cmd(), "Printer on fire");
    c.args([
        "--assignee",
        "bob",
        "--field",
        "storyPoints=2",
        "-o",
        "json",
    ]);
    let out = run_expecting(c, 0).await;
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["key"], "TEST-1");

    // Both updates are pinned to version 1: the first moves the version on,
    // so the second conflicts (409 → exit code 5).
    for (summary, code) in [("Printer was on fire", 0), ("again", 5)] {
        let mut c = cmd();
        c.args(["issue", "update", "TEST-1", "--summary", summary])
            .args(["--version", "1"]);
        let out = run(c).await;
        assert_eq!(
            out.status.code(),
            Some(code),
            "update to {summary:?}: {}",
            stderr(&out)
        );
    }

    let mut c = cmd();
    c.args(["issue", "comment", "TEST-1", "Extinguished."]);
    run_expecting(c, 0).await;
    let mut c = cmd();
    c.args(["issue", "comments", "TEST-1"]);
    let out = run_expecting(c, 0).await;
    assert!(stdout(&out).contains("Extinguished."), "{}", stdout(&out));

    let mut c = cmd();
    c.args(["issue", "transitions", "TEST-1", "-o", "json"]);
    let out = run_expecting(c, 0).await;
    let transitions: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let start = transitions
        .iter()
        .find(|t| t["to"]["key"] == "inProgress")
        .expect("open → inProgress");
    let mut c = cmd();
    c.args([
        "issue",
        "transition",
        "TEST-1",
        start["id"].as_str().unwrap(),
    ]);
    run_expecting(c, 0).await;

    let mut c = cmd();
    c.args(["issue", "get", "TEST-1", "-o", "json"]);
    let out = run_expecting(c, 0).await;
    let issue: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(issue["summary"], "Printer was on fire");
    assert_eq!(issue["status"]["key"], "inProgress");
    assert_eq!(issue["assignee"]["display"], "Bob Baker");
}
