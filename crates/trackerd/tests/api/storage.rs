//! Seeds, first start, and what lands in the database.

use tracker_domain::Clock;
use trackerd::seed::SeedFile;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    applying_the_seed_again_changes_nothing,
    a_bad_seed_file_writes_nothing,
    the_first_start_creates_a_usable_administrator,
    tokens_are_stored_only_as_hashes,
    a_job_lease_is_held_by_one_node_until_it_expires,
    a_job_lease_in_the_first_half_of_its_term_is_kept_without_a_write,
);

async fn applying_the_seed_again_changes_nothing(app: TestApp) {
    let before: serde_json::Value = app.read("/v2/users").await;
    let queue_before: serde_json::Value = app.read("/v2/queues/TEST").await;
    let report = seed_file()
        .unwrap()
        .apply(app.state.store.as_ref(), &app.clock)
        .await
        .unwrap();
    assert_eq!(
        (
            report.organizations,
            report.users,
            report.tokens,
            report.queues
        ),
        (2, 6, 4, 3)
    );
    app.state.auth.invalidate_all();
    let after: serde_json::Value = app.read("/v2/users").await;
    let strip = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["uid"].clone(),
                    u["login"].clone(),
                    u["cloudUid"].clone(),
                    u["display"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&before), strip(&after));
    let queue_after: serde_json::Value = app.read("/v2/queues/TEST").await;
    assert_eq!(queue_before, queue_after);
    assert_eq!(app.state.store.list_organizations().await.unwrap().len(), 2);
}

async fn a_bad_seed_file_writes_nothing(app: TestApp) {
    let bad = "organizations:\n  - id: \"7000009\"\n    name: New\n    users:\n      - login: zed\n        tokens:\n          - {token: \"y0_zed\", scopes: [tracker:admin]}\n";
    let seed: SeedFile = serde_yaml_ng::from_str(bad).unwrap();
    assert!(seed.validate().is_err());
    assert!(app
        .state
        .store
        .organization_by_org_id("7000009")
        .await
        .unwrap()
        .is_none());
}

async fn the_first_start_creates_a_usable_administrator(app: TestApp) {
    // The seeded database is not empty: nothing is created.
    assert!(
        trackerd::ops::bootstrap_if_empty(app.state.store.as_ref(), &app.clock)
            .await
            .unwrap()
            .is_none()
    );
    drop(app);
    let dir = tempfile::tempdir().unwrap();
    let dsn = trackerd::config::Dsn(format!(
        "sqlite://{}",
        dir.path().join("fresh.db").display()
    ));
    let store = trackerd::db::open(&dsn).await.unwrap();
    let clock = tracker_domain::ManualClock::new(start_time());
    let boot = trackerd::ops::bootstrap_if_empty(store.as_ref(), &clock)
        .await
        .unwrap()
        .unwrap();
    assert!(boot.token.starts_with("y0_"));
    let token = store
        .token_by_hash(&tracker_domain::TokenHash::of(&boot.token))
        .await
        .unwrap()
        .unwrap();
    assert!(token.is_live(clock.now()));
    assert!(
        store
            .membership(boot.org.id, boot.user.uid)
            .await
            .unwrap()
            .unwrap()
            .admin
    );
    // The administrator can sign in on the pages, and the tracker CLI's
    // well-known public client is registered for the device flow.
    let admin = store.user_by_login("admin").await.unwrap().unwrap();
    let hash = admin.password_hash.expect("a password is set");
    assert!(!hash.contains(&boot.password), "only a hash is stored");
    assert!(trackerd::ops::verify_password(hash, boot.password.clone()).await);
    assert_eq!(boot.password.len(), 20);
    let cli = store
        .app_by_client_id(trackerd::ops::TRACKER_CLI_CLIENT_ID)
        .await
        .unwrap()
        .expect("tracker-cli is registered");
    assert!(cli.secret_hash.is_none(), "a public client has no secret");
}

async fn tokens_are_stored_only_as_hashes(app: TestApp) {
    let iam = app.iam_token(ALICE).await;
    let stored = app
        .state
        .store
        .list_tokens(
            app.state
                .store
                .user_by_login("alice")
                .await
                .unwrap()
                .unwrap()
                .uid,
        )
        .await
        .unwrap();
    assert!(!stored.is_empty());
    if let Some(path) = app.dsn.strip_prefix("sqlite://") {
        // Whatever SQLite wrote, the database and its WAL hold no token.
        let mut bytes = std::fs::read(path).unwrap();
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        for secret in [ALICE, BOB_RO, iam.as_str()] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in the database"
            );
        }
        let hash = tracker_domain::TokenHash::of(ALICE).to_hex();
        assert!(
            bytes.windows(hash.len()).any(|w| w == hash.as_bytes()),
            "the hash is what is stored"
        );
    }
}

#[tokio::test]
async fn the_sqlite_database_and_its_journal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_sqlite_app().await;
    // A write, so the write-ahead log and its index exist.
    app.create_issue(serde_json::json!({"queue": "TEST", "summary": "x"}))
        .await;
    let path = app.dsn.trim_start_matches("sqlite://").to_owned();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{path}{suffix}");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
}

#[tokio::test]
async fn an_existing_world_readable_database_is_tightened_when_opened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let dsn = trackerd::config::Dsn(format!("sqlite://{}", path.display()));
    let _store = trackerd::db::open(&dsn).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}

/// A fresh PostgreSQL database (dropped with it) and a store on it, or
/// `None` where PostgreSQL is not configured.
async fn postgres_store() -> Option<(PgDatabase, tracker_store_sql::PostgresStore)> {
    let admin = trackerd_testkit::pg::postgres_url_or_skip()?;
    let db = PgDatabase::for_test(&admin).await.unwrap();
    let store = tracker_store_sql::PostgresStore::connect(db.url())
        .await
        .unwrap();
    Some((db, store))
}

/// PostgreSQL builds the full-text words inside the refresh's statement
/// (the function inlined) when it is given a column or a variable: run as
/// a function call of its own at every refresh, it cost a tenth of the
/// creates (0041 before 0042). A plan names the function only when it is
/// not inlined; a sub-select argument is where inlining stops, so the
/// refresh must not pass one.
#[tokio::test]
async fn postgres_inlines_the_full_text_words_into_the_refresh() {
    let Some((_db, store)) = postgres_store().await else {
        return;
    };
    tracker_store::AccessStore::migrate(&store).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (VERBOSE) SELECT setweight(trackerd_words(i.summary), 'A') \
         || setweight(trackerd_words($1::text), 'C') FROM issues i",
    )
    .bind("the comments")
    .fetch_all(store.pool())
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(!plan.contains("trackerd_words("), "not inlined:\n{plan}");
    let refresh: String = sqlx::query_scalar(
        "SELECT pg_get_functiondef('trackerd_refresh_issue_search(bigint)'::regprocedure)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let calls: Vec<&str> = refresh.split("trackerd_words(").skip(1).collect();
    assert_eq!(calls.len(), 3, "{refresh}");
    assert!(
        calls.iter().all(|c| !c.trim_start().starts_with('(')),
        "a sub-select passed to trackerd_words:\n{refresh}"
    );
}

#[tokio::test]
async fn postgres_sessions_time_out_statements_unless_the_dsn_says_otherwise() {
    let Some((db, store)) = postgres_store().await else {
        return;
    };
    let show = |name: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>(&format!("SHOW {name}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(show("statement_timeout").await, "30s");
    assert_eq!(show("idle_in_transaction_session_timeout").await, "1min");
    // A statement over the limit is cancelled by the server.
    let sep = if db.url().contains('?') { '&' } else { '?' };
    let short = format!("{}{sep}options=-c%20statement_timeout%3D200ms", db.url());
    let store = tracker_store_sql::PostgresStore::connect(&short)
        .await
        .unwrap();
    let slow = sqlx::query("SELECT pg_sleep(5)")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(slow.to_string().contains("statement timeout"), "{slow}");
}

/// A holder that claims its lease early in its term keeps it as it was:
/// nothing is written (on PostgreSQL every commit would empty the kept
/// issue answers), so the lease still ends where it was first set.
async fn a_job_lease_in_the_first_half_of_its_term_is_kept_without_a_write(app: TestApp) {
    let store = app.state.store.clone();
    let other = app.another_node().await;
    let there = other.state.store.clone();
    assert!(store.claim_lease("job", "a", 0, 1000).await.unwrap());
    assert!(store.claim_lease("job", "a", 400, 1000).await.unwrap());
    // Not written again: still ending at 1000, not at 1400, so another node
    // takes it then.
    assert!(!there.claim_lease("job", "b", 999, 1000).await.unwrap());
    assert!(there.claim_lease("job", "b", 1000, 1000).await.unwrap());
    // Past half its term, the holder's claim renews it.
    assert!(there.claim_lease("job", "b", 1600, 1000).await.unwrap());
    assert!(!store.claim_lease("job", "a", 2100, 1000).await.unwrap());
}

async fn a_job_lease_is_held_by_one_node_until_it_expires(app: TestApp) {
    let store = app.state.store.clone();
    let other = app.another_node().await;
    let there = other.state.store.clone();
    assert!(store.claim_lease("job", "a", 0, 1000).await.unwrap());
    // Another node, through its own connections, cannot take it while it runs…
    assert!(!there.claim_lease("job", "b", 500, 1000).await.unwrap());
    // …its holder renews it…
    assert!(store.claim_lease("job", "a", 900, 1000).await.unwrap());
    assert!(!there.claim_lease("job", "b", 1500, 1000).await.unwrap());
    // …and once it lapses, another node takes it over.
    assert!(there.claim_lease("job", "b", 1900, 1000).await.unwrap());
    assert!(!store.claim_lease("job", "a", 2000, 1000).await.unwrap());
    // Other jobs have their own leases.
    assert!(store
        .claim_lease("other job", "a", 2000, 1000)
        .await
        .unwrap());
    // Racing for a free lease, exactly one node wins.
    let wins = futures_util::future::join_all((0..8).map(|i| {
        let s = if i % 2 == 0 {
            store.clone()
        } else {
            there.clone()
        };
        async move {
            s.claim_lease("race", &format!("n{i}"), 0, 1000)
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
}

/// The statements still running in this database whose text starts as
/// `prefix` does, seen from another session.
async fn running(pool: &sqlx::PgPool, needle: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND state = 'active' AND pid <> pg_backend_pid() AND position($1 in query) > 0",
    )
    .bind(needle)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Polls until no statement containing `needle` runs, at most `within`.
async fn ended_within(pool: &sqlx::PgPool, needle: &str, within: std::time::Duration) -> bool {
    let until = std::time::Instant::now() + within;
    while std::time::Instant::now() < until {
        if running(pool, needle).await == 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_postgres_search_whose_request_is_dropped_is_called_off_at_once() {
    use tracker_store_sql::Engine;
    let Some((_db, store)) = postgres_store().await else {
        return;
    };
    let pool = store.pool().clone();
    // What a dropped handler leaves without a canceller: sqlx forgets its
    // side of the statement and the server runs it on.
    let plain = "SELECT pg_sleep(20) /* left running */";
    let p = pool.clone();
    let task = tokio::spawn(async move { sqlx::query(plain).execute(&p).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    task.abort();
    assert!(
        !ended_within(&pool, "left running", std::time::Duration::from_secs(2)).await,
        "the control statement should still run"
    );
    // The same on the connection searches use: gone within a moment.
    let mut run = sqlx::Postgres::cancellable(&pool).await.unwrap();
    let task = tokio::spawn(async move {
        let r = sqlx::query("SELECT pg_sleep(20) /* called off */")
            .execute(run.conn())
            .await;
        run.done();
        r
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        running(&pool, "called off").await,
        1,
        "the statement should be running"
    );
    task.abort();
    assert!(
        ended_within(&pool, "called off", std::time::Duration::from_secs(5)).await,
        "the abandoned statement still runs"
    );
    // A statement that ends by itself is left alone.
    let mut run = sqlx::Postgres::cancellable(&pool).await.unwrap();
    sqlx::query("SELECT 1").execute(run.conn()).await.unwrap();
    run.done();
    // Let the server end the control statement before the database is dropped.
    sqlx::query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE position('left running' in query) > 0 AND pid <> pg_backend_pid()")
        .execute(&pool)
        .await
        .unwrap();
}
