//! What differs between the two engines, in one place: [`Dialect`] holds
//! the few pieces of SQL that are not the same on both, [`Engine`] the
//! per-engine connect and migrate.

use std::fmt::Write as _;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::ConnectOptions;
use sqlx::{Pool, Postgres, Sqlite};
use tracker_store::{Result, StoreError};

use crate::db;

/// The SQL that differs between the engines. Every other statement of the
/// store is written once, with `$N` placeholders (sqlx's SQLite driver reads
/// them as SQLite's own numbered parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The indexes SQLite's planner gets statistics of: the search tables'.
/// Statistics are taken from every row (`analysis_limit = 0`). A limit
/// reads only the first rows of each index, and every search index leads
/// with the organization: at a million issues `analysis_limit = 1000`
/// recorded "1 001 issues per organization, per queue, per assignee" for
/// every index alike, the planner then picked among them blindly
/// (`Followers: x` walked every issue: 958 ms; with the full statistics it
/// reads the follower's issues). A full pass costs about 2 s of CPU at a
/// million issues, at start and as the table doubles.
/// The full-text table is left out on purpose: FTS5's shadow tables have no
/// index `PRAGMA optimize` would refresh, and a row count taken while they
/// were small makes FTS5's own range deletes scan them, so every write would
/// slow down as the index grows.
const SQLITE_SEARCH_INDEXES: &str = "SELECT name FROM sqlite_master \
     WHERE type = 'index' AND tbl_name IN ('issues', 'issue_followers', 'issue_tags', \
     'issue_access', 'issue_aliases', 'comments', 'links', 'changelog') ORDER BY tbl_name, name";

/// The statements taking the statistics of these indexes: one per index,
/// not per table. An `ANALYZE` holds SQLite's write lock until it ends,
/// and every write of the server waits for it: at a million issues the
/// issues table alone took 1.8 s warm (the eight tables 13.5 s from a cold
/// cache, past the 10 s a writer waits before failing), its largest index
/// 0.17 s. The statistics are the same.
pub(crate) fn sqlite_analyze_each(indexes: &[String]) -> String {
    let mut sql = String::from("PRAGMA analysis_limit = 0;");
    for name in indexes {
        let _ = write!(sql, " ANALYZE \"{}\";", name.replace('"', "\"\""));
    }
    sql
}

/// The SQLite tables whose changes do not move the data stamp: the
/// server's bookkeeping, written by background loops, by sign-ins and by
/// scroll searches, none of which an issue's rendering or an access
/// decision reads. Every other table has the stamp's triggers (a test holds
/// the schema to this list, so a new table gets them or is named here).
pub const UNSTAMPED_TABLES: &[&str] = &[
    "data_generation",
    "auth_epoch",
    "tokens",
    "oauth_grants",
    "oauth_codes",
    "oauth_refresh_tokens",
    "oauth_device_codes",
    "oauth_consents",
    "web_sessions",
    "signin_failures",
    "service_account_keys",
    "audit_events",
    "search_scrolls",
    "search_scroll_pages",
    "server_keys",
    "jobs",
    "job_items",
    "job_leases",
    "automation_runs",
    "webhook_deliveries",
    "emulator_snapshots",
    "federation_logins",
    // Derived from `issues` by its triggers, in the transaction that
    // writes the issues (whose triggers move the stamp).
    "issue_counts",
    "issue_day_counts",
];

impl Dialect {
    /// [`tracker_store::AccessStore::data_stamp`]'s statement.
    ///
    /// SQLite: a counter that triggers on the data tables move in the
    /// transaction of every change (migration 0028; the tables left
    /// without them are [`UNSTAMPED_TABLES`]), so a commit by any
    /// connection or process moves it.
    ///
    /// PostgreSQL: the cluster's current snapshot (`xmin:xmax:in-progress`),
    /// which no write can leave unchanged: a transaction that writes takes a
    /// transaction id, and its commit moves `xmax` or takes it out of the
    /// in-progress list. Nothing is written for it, so concurrent writers do
    /// not queue on a counter row; any write in the cluster moves it (the
    /// background jobs' leases too), which only costs a cache its hit.
    pub fn data_stamp_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT CAST(gen AS TEXT) FROM data_generation WHERE id = 1",
            Dialect::Postgres => "SELECT CAST(pg_current_snapshot() AS TEXT)",
        }
    }

    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The statement that starts a write transaction (`None`: the driver's
    /// `BEGIN`).
    ///
    /// On SQLite every write transaction starts with `BEGIN IMMEDIATE`: FTS5
    /// reads its configuration while a statement touching the full-text
    /// table is prepared, so a deferred transaction would start reading
    /// first and, racing another writer, fail with "database is locked"
    /// instead of waiting its turn.
    pub fn begin_write(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("BEGIN IMMEDIATE"),
            Dialect::Postgres => None,
        }
    }

    /// What a select of rows to claim ends with so that two claimers skip
    /// each other's rows instead of waiting for or taking them: PostgreSQL
    /// locks the rows it picks and passes over locked ones; SQLite runs the
    /// claim in a write transaction, which no other writer can enter.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Whether stored times keep only microseconds (`TIMESTAMPTZ`; SQLite
    /// keeps the text it was given).
    pub fn microsecond_times(self) -> bool {
        self == Dialect::Postgres
    }

    /// Logins compare without case: SQLite's column is `COLLATE NOCASE`,
    /// PostgreSQL has a unique index on `lower(login)`. This is the
    /// expression that index is on, for `WHERE` and `ON CONFLICT`.
    pub fn login_key(self) -> &'static str {
        match self {
            Dialect::Sqlite => "login",
            Dialect::Postgres => "lower(login)",
        }
    }

    /// The conflict target naming that unique index.
    pub fn login_conflict_target(self) -> &'static str {
        match self {
            Dialect::Sqlite => "login",
            Dialect::Postgres => "(lower(login))",
        }
    }

    /// The same expression over a bound value.
    pub fn login_value(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => param.to_owned(),
            Dialect::Postgres => format!("lower({param})"),
        }
    }

    /// A sub-select over the strings of the JSON array bound at placeholder
    /// `n`: a long list as one bound value, since each engine caps the
    /// number of placeholders (SQLite at 32 766).
    pub fn json_text_list(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("(SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => format!("(SELECT jsonb_array_elements_text(${n}::jsonb))"),
        }
    }

    /// The function giving the position of a substring (0 when absent).
    pub fn position(self) -> &'static str {
        match self {
            Dialect::Sqlite => "instr",
            Dialect::Postgres => "strpos",
        }
    }

    /// The emulator's snapshots (src/emulator.rs): every table of the
    /// schema, by name.
    pub fn tables_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            Dialect::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
        }
    }

    /// The columns of table `$1` a row can be written with (generated ones
    /// left out), in order.
    pub fn columns_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT name FROM pragma_table_xinfo($1) WHERE hidden = 0 ORDER BY cid"
            }
            Dialect::Postgres => {
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 AND is_generated = 'NEVER' ORDER BY ordinal_position"
            }
        }
    }

    /// Every foreign key as (referencing table, referenced table).
    pub fn foreign_keys_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table'"
            }
            Dialect::Postgres => {
                "SELECT cl.relname::text, fcl.relname::text FROM pg_constraint c \
                 JOIN pg_class cl ON cl.oid = c.conrelid \
                 JOIN pg_class fcl ON fcl.oid = c.confrelid \
                 JOIN pg_namespace n ON n.oid = cl.relnamespace \
                 WHERE c.contype = 'f' AND n.nspname = current_schema()"
            }
        }
    }

    /// Whether `table` is kept by triggers from other tables (the full-text
    /// index, the kept issue counts): a restore rewrites the tables and
    /// the triggers rebuild it.
    pub fn derived_table(self, table: &str) -> bool {
        table == "issue_counts"
            || table == "issue_day_counts"
            || match self {
                Dialect::Sqlite => table == "issue_fts" || table.starts_with("issue_fts_"),
                Dialect::Postgres => {
                    table == "issue_search" || table == "issue_words" || table == "issue_day_deltas"
                }
            }
    }

    /// The key counters: (name) rows; SQLite has one table of them
    /// (`AUTOINCREMENT`), PostgreSQL a sequence per serial column.
    pub fn sequences_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT name FROM sqlite_sequence ORDER BY name",
            Dialect::Postgres => {
                "SELECT sequence_name::text FROM information_schema.sequences \
                 WHERE sequence_schema = current_schema() ORDER BY 1"
            }
        }
    }
}

/// An engine the store runs on: its dialect, how a DSN becomes a pool, and
/// its migrations (kept per engine, in `migrations/sqlite` and
/// `migrations/postgres`).
pub trait Engine: sqlx::Database + sqlx::database::HasStatementCache {
    const DIALECT: Dialect;

    fn connect(dsn: &str) -> impl Future<Output = Result<Pool<Self>>> + Send;

    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<()>> + Send;

    /// Takes the planner's statistics over the search tables: at start when
    /// needed (SQLite) and as the issues grow
    /// ([`crate::SqlStore::issue_created`]). SQLite keeps none unless told.
    /// PostgreSQL's autovacuum takes them, but at most once a minute:
    /// meanwhile a table that grew from empty keeps the plans made while it
    /// was small, among them the foreign-key checks of every issue insert,
    /// which then scan the whole issues table (a seventh of PostgreSQL's CPU
    /// per create in a fresh database, perf). New statistics replan them.
    fn analyze(pool: &Pool<Self>) -> impl Future<Output = Result<()>> + Send;

    /// Rows a statement changed (sqlx has no trait for it).
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// A pooled connection to run one statement on that is called off if
    /// the future running it is dropped before [`Cancellable::done`]. An
    /// engine that cannot call a statement off just lends the connection.
    fn cancellable(
        pool: &Pool<Self>,
    ) -> impl Future<Output = std::result::Result<Cancellable<Self>, sqlx::Error>> + Send {
        async move {
            Ok(Cancellable {
                conn: pool.acquire().await?,
                cancel: None,
            })
        }
    }
}

/// Calls a running statement off when dropped before [`Cancellable::done`]:
/// a search whose request is gone (its client hung up, the handler's future
/// dropped) stops at once instead of holding a database connection until
/// its `statement_timeout`. sqlx only drops its side of a query.
///
/// The statement's text stays as it is (no tag to find it by), so the
/// statement cache and the server's plan cache keep working: the call-off
/// names the connection's server process, and the connection is closed
/// rather than returned to the pool, so no later statement of another
/// request can be on that process when the call-off arrives.
pub struct Cancellable<D: sqlx::Database> {
    conn: PoolConnection<D>,
    cancel: Option<Box<dyn FnOnce() + Send>>,
}

impl<D: sqlx::Database> Cancellable<D> {
    /// The connection to run the statement on.
    pub fn conn(&mut self) -> &mut D::Connection {
        &mut self.conn
    }

    /// The statement ended by itself: nothing to call off, and the
    /// connection goes back to the pool.
    pub fn done(mut self) {
        self.cancel = None;
    }
}

impl<D: sqlx::Database> Drop for Cancellable<D> {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            self.conn.close_on_drop();
            cancel();
        }
    }
}

fn migration_error(e: sqlx::migrate::MigrateError) -> StoreError {
    StoreError::Database(Box::new(e))
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Makes the database file readable by its owner alone (it holds password
/// and token hashes): created so if missing, tightened if not. SQLite gives
/// its `-wal` and `-shm` files the database file's mode; existing ones are
/// tightened too.
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if path.as_os_str() == ":memory:" || path.as_os_str().is_empty() {
            return Ok(());
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// How much of an SQLite database file is read through a memory map (the
/// bundled SQLite maps at most 2 GB however large this is).
const SQLITE_MMAP_BYTES: i64 = 1 << 31;

/// The embedded backend: one file in the data directory, in WAL mode.
impl Engine for Sqlite {
    const DIALECT: Dialect = Dialect::Sqlite;

    /// Opens (creating if needed) the database named by a `sqlite://PATH` DSN.
    async fn connect(dsn: &str) -> Result<Pool<Self>> {
        let opts = SqliteConnectOptions::from_str(dsn)
            .map_err(db)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Reads come straight from the operating system's cache of the
            // file, shared by every connection, instead of a `pread` into
            // each connection's own 2 MB page cache: at 1 000 000 issues a
            // search's pages were mostly read again by whichever connection
            // ran it (a full-text count: 36 -> 15.5 ms a statement, eight at
            // a time). Writes still go through the WAL as before.
            .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string());
        let opts = statement_events(opts);
        owner_only(opts.get_filename()).map_err(|e| StoreError::Database(Box::new(e)))?;
        // A local file cannot drop a connection the way a network can, so
        // the ping sqlx sends before handing one out is pure cost (each is
        // a round trip to the connection's worker thread).
        SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(opts)
            .await
            .map_err(db)
    }

    async fn migrate(pool: &Pool<Self>) -> Result<()> {
        SQLITE_MIGRATOR.run(pool).await.map_err(migration_error)?;
        // Search chooses between many indexes; without statistics SQLite
        // guesses, and at a million issues guesses wrong (a scan of every
        // issue in key order for `Assignee: x`). The statistics are kept in
        // the file, and a full pass takes seconds at a million issues: they
        // are taken at start only when an index has none (a new database, a
        // migration that added one) or the issues have since more than
        // doubled or halved (a file restored or imported elsewhere).
        if !sqlite_statistics_current(pool).await.map_err(db)? {
            Self::analyze(pool).await?;
        }
        Ok(())
    }

    async fn analyze(pool: &Pool<Self>) -> Result<()> {
        let indexes: Vec<String> = sqlx::query_scalar(SQLITE_SEARCH_INDEXES)
            .fetch_all(pool)
            .await
            .map_err(db)?;
        sqlx::raw_sql(&sqlite_analyze_each(&indexes))
            .execute(pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

/// Whether the search tables' statistics in `sqlite_stat1` still describe
/// them: every index of the issues table has a row, and the issue count
/// recorded is within a factor of two of today's.
async fn sqlite_statistics_current(pool: &Pool<Sqlite>) -> std::result::Result<bool, sqlx::Error> {
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
    )
    .fetch_one(pool)
    .await?;
    if kept == 0 {
        return Ok(false);
    }
    let unmeasured: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master m WHERE m.type = 'index' AND m.tbl_name = 'issues' \
         AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.idx = m.name)",
    )
    .fetch_one(pool)
    .await?;
    if unmeasured > 0 {
        return Ok(false);
    }
    // An index's row begins with the entries it holds: a partial index holds
    // fewer, the largest is the table's.
    let stats: Vec<String> =
        sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'issues'")
            .fetch_all(pool)
            .await?;
    let Some(recorded) = stats
        .iter()
        .filter_map(|stat| stat.split(' ').next()?.parse::<i64>().ok())
        .max()
    else {
        return Ok(false);
    };
    let now: i64 = sqlx::query_scalar("SELECT count(*) FROM issues")
        .fetch_one(pool)
        .await?;
    Ok(now <= recorded.saturating_mul(2) && now.saturating_mul(2) >= recorded)
}

/// What every PostgreSQL session of trackerd runs with unless its DSN says
/// otherwise (documented in docs/configuration.md).
pub const PG_SESSION_DEFAULTS: [(&str, &str); 2] = [
    ("statement_timeout", "30s"),
    ("idle_in_transaction_session_timeout", "60s"),
];

/// sqlx's events of the statements a connection runs: one per statement
/// at `trace` (`sqlx::query`), which no default filter records and
/// `issue-bench --count-sql` counts, and none for slow statements, which
/// sqlx logs whole at `warn`: a heavy search's text is megabytes, written
/// to the log on every such request.
fn statement_events<O: ConnectOptions>(opts: O) -> O {
    opts.log_statements(log::LevelFilter::Trace)
        // sqlx judges a statement slow from this duration on, whatever the
        // level: at zero every statement is slow, and logged at `Off`.
        .log_slow_statements(log::LevelFilter::Off, Duration::MAX)
}

/// Several trackerd nodes can share one PostgreSQL database.
impl Engine for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    /// Connects to the database a `postgres://…` DSN names.
    async fn connect(dsn: &str) -> Result<Pool<Self>> {
        let mut opts = statement_events(PgConnectOptions::from_str(dsn).map_err(db)?);
        // Limits on every session, unless the DSN sets its own
        // (`?options=-c%20statement_timeout%3D5s`): no statement outlives
        // its request for long (one whose client and request are gone is
        // otherwise left running), and no transaction left open by a
        // vanished connection holds its locks.
        for (setting, value) in PG_SESSION_DEFAULTS {
            if !dsn.contains(setting) {
                opts = opts.options([(setting, value)]);
            }
        }
        PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(db)
    }

    /// On a connection of its own without the sessions' time limits: a
    /// migration is no request, and one that rewrites a large table (the
    /// word rows of 1 000 000 issues, migration 0037: about a minute) would
    /// be cancelled by the limit and fail every start after the upgrade.
    /// The connection is closed afterwards rather than lent on unlimited.
    async fn migrate(pool: &Pool<Self>) -> Result<()> {
        let mut conn = pool.acquire().await.map_err(db)?;
        conn.close_on_drop();
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        POSTGRES_MIGRATOR
            .run_direct(&mut *conn)
            .await
            .map_err(migration_error)
    }

    async fn analyze(pool: &Pool<Self>) -> Result<()> {
        sqlx::raw_sql(
            "ANALYZE issues, issue_search, issue_words, issue_followers, issue_tags, \
             issue_access, issue_aliases, comments, links, changelog",
        )
        .execute(pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    /// Lends a connection whose server process is known, and on drop
    /// cancels whatever that process still runs, from another connection.
    async fn cancellable(pool: &Pool<Self>) -> std::result::Result<Cancellable<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await?;
        let pool = pool.clone();
        let cancel = move || {
            // A drop outside a runtime (at exit) has nothing to cancel with.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            runtime.spawn(async move {
                let r = sqlx::query("SELECT pg_cancel_backend($1)")
                    .bind(pid)
                    .execute(&pool)
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "calling off an abandoned statement failed");
                }
            });
        };
        Ok(Cancellable {
            conn,
            cancel: Some(Box::new(cancel)),
        })
    }
}
