//! Issue answers kept between reads (src/answers.rs): served again only
//! while nothing was committed since they were rendered, by any node.

use serde_json::{json, Value};
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_repeated_issue_read_is_answered_from_the_kept_answer,
    a_kept_answer_is_not_served_after_another_node_changes_the_issue,
    a_kept_answer_follows_a_change_that_leaves_the_issue_row_alone,
    a_kept_answer_is_never_served_to_another_caller_nor_after_access_is_taken_away,
    answers_that_depend_on_the_time_are_not_kept,
    a_kept_answer_shows_the_callers_own_account_as_the_database_has_it,
);

/// `answers.max_bytes = 0`.
mod disabled {
    use super::*;

    backend_tests!(with no_answers; issue_reads_work_with_no_answers_kept);

    fn no_answers(config: &mut trackerd::config::Config) {
        config.answers.max_bytes = 0;
    }

    async fn issue_reads_work_with_no_answers_kept(app: TestApp) {
        app.create_test_issue("plain").await;
        for _ in 0..2 {
            let v: Value = app.read("/v2/issues/TEST-1").await;
            assert_eq!(v["summary"], "plain");
        }
        assert_eq!(app.state.answers.lookups(), (0, 0));
    }
}

fn hits(app: &TestApp) -> u64 {
    app.state.answers.lookups().0
}

/// Reads `path` until an answer comes from the kept ones: on SQLite the
/// read after the one that kept it; on PostgreSQL the stamp is the
/// cluster's, which the other tests' writes move now and then.
async fn read_until_kept(app: &TestApp, path: &str) -> Value {
    let attempts = match app.backend() {
        Backend::Sqlite => 2,
        Backend::Postgres => 400,
    };
    for _ in 0..attempts {
        let before = hits(app);
        let v: Value = app.read(path).await;
        if hits(app) > before {
            return v;
        }
    }
    panic!("no read of {path} was answered from the kept answers");
}

async fn a_repeated_issue_read_is_answered_from_the_kept_answer(app: TestApp) {
    app.create_test_issue("kept").await;
    let first: Value = app.read("/v2/issues/TEST-1").await;
    let again = read_until_kept(&app, "/v2/issues/TEST-1").await;
    assert_eq!(first, again);
    assert_eq!(again["summary"], "kept");
    // `expand` and `fields` are answers of their own.
    let narrow: Value = app.read("/v2/issues/TEST-1?fields=summary").await;
    assert!(narrow.get("status").is_none(), "{narrow}");
    assert_eq!(narrow["summary"], "kept");
    let r = app.get("/v2/issues/TEST-1").await.status(200);
    assert!(
        r.header("content-type").starts_with("application/json"),
        "{:?}",
        r.headers()
    );
}

async fn a_kept_answer_is_not_served_after_another_node_changes_the_issue(app: TestApp) {
    app.create_test_issue("before").await;
    read_until_kept(&app, "/v2/issues/TEST-1").await;
    let other = app.another_node().await;
    let changed: Value = other
        .edit("/v2/issues/TEST-1", json!({"summary": "after"}))
        .await;
    assert_eq!(changed["summary"], "after");
    let v: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(v["summary"], "after");
    assert_eq!(v["version"], changed["version"]);
    // A comment moves the issue's counts without an edit of its fields.
    other.comment("TEST-1", "a word").await;
    let v: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(v["commentWithoutExternalMessageCount"], 1);
}

async fn a_kept_answer_follows_a_change_that_leaves_the_issue_row_alone(app: TestApp) {
    app.create_test_issue("renamed queue").await;
    let v = read_until_kept(&app, "/v2/issues/TEST-1").await;
    assert_ne!(v["queue"]["display"], "Renamed");
    app.patch("/v2/queues/TEST")
        .json(json!({"name": "Renamed"}))
        .await
        .status(200);
    let v: Value = app.read("/v2/issues/TEST-1").await;
    assert_eq!(v["queue"]["display"], "Renamed");
}

async fn a_kept_answer_is_never_served_to_another_caller_nor_after_access_is_taken_away(
    app: TestApp,
) {
    app.create_test_issue("private").await;
    read_until_kept(&app, "/v2/issues/TEST-1").await;
    // bob's first read is his own: nothing kept for alice counts for him.
    let before = hits(&app);
    app.get("/v2/issues/TEST-1").token(BOB_RO).await.status(200);
    assert_eq!(hits(&app), before);
    let only_alice = json!({"groups": [], "roles": [], "users": ["alice"]});
    app.patch("/v2/queues/TEST/permissions")
        .json(json!({"create": only_alice, "write": only_alice, "read": only_alice}))
        .await
        .status(200);
    app.get("/v2/issues/TEST-1").token(BOB_RO).await.error(403);
    app.get("/v2/issues/TEST-1").await.status(200);
}

async fn a_kept_answer_shows_the_callers_own_account_as_the_database_has_it(app: TestApp) {
    app.create_test_issue("mine").await;
    let v = read_until_kept(&app, "/v2/issues/TEST-1").await;
    assert_eq!(v["createdBy"]["display"], "Alice Archer");
    // Renamed behind the server's back (as an admin command would): the
    // authentication alice's token is cached with still has the old name.
    crate::rename_in_store(&app, "alice", "Alicia").await;
    for _ in 0..2 {
        let v: Value = app.read("/v2/issues/TEST-1").await;
        assert_eq!(v["createdBy"]["display"], "Alicia Archer");
    }
}

async fn answers_that_depend_on_the_time_are_not_kept(app: TestApp) {
    app.create_test_issue("deadline").await;
    app.post("/v2/issues/TEST-1/checklistItems")
        .json(json!({"text": "due", "deadline": {"date": "2020-01-01T00:00:00.000+0000", "deadlineType": "date"}}))
        .await
        .status(200);
    let before = hits(&app);
    for _ in 0..3 {
        let v: Value = app.read("/v2/issues/TEST-1").await;
        assert_eq!(v["checklistItems"][0]["text"], "due", "{v}");
    }
    assert_eq!(hits(&app), before);
}

/// Every SQLite table moves the data stamp when it changes, but for the
/// bookkeeping named in `UNSTAMPED_TABLES` (a new table must get the
/// triggers in its migration, or be named there).
#[tokio::test]
async fn every_sqlite_data_table_moves_the_data_stamp() {
    let app = spawn_sqlite_app().await;
    let db = sqlx::SqlitePool::connect(&app.dsn).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' \
         AND name NOT LIKE 'issue_fts%' AND name NOT LIKE 'emusnap_%' ORDER BY name",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let unstamped = tracker_store_sql::UNSTAMPED_TABLES;
    for name in unstamped {
        assert!(tables.iter().any(|t| t == name), "{name} is not a table");
    }
    for table in tables.iter().filter(|t| !unstamped.contains(&t.as_str())) {
        let events: Vec<String> = sqlx::query_scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1 \
             AND sql LIKE '%UPDATE data_generation SET gen = gen + 1%'",
        )
        .bind(table)
        .fetch_all(&db)
        .await
        .unwrap();
        for event in ["INSERT", "UPDATE", "DELETE"] {
            assert!(
                events
                    .iter()
                    .any(|sql| sql.contains(&format!("AFTER {event} ON {table} "))),
                "{table} has no data stamp trigger after {event}"
            );
        }
    }
    let stamp = app.state.store.data_stamp().await.unwrap();
    app.create_test_issue("moves").await;
    assert_ne!(app.state.store.data_stamp().await.unwrap(), stamp);
    // A sign-in's dates are shown by no kept answer: recording them (which
    // happens from a task of its own after a request) leaves the stamp.
    let stamp = app.state.store.data_stamp().await.unwrap();
    let alice = app
        .state
        .store
        .user_by_login("alice")
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .record_login(alice.uid, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(app.state.store.data_stamp().await.unwrap(), stamp);
}
