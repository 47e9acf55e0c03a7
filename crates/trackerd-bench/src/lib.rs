//! What the benchmark binaries share: an in-process trackerd on port 0 and
//! PostgreSQL databases (both from `trackerd_testkit`), the backends to run,
//! and reading CPU time from `/proc`.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracker_domain::{Clock, SystemClock};
use tracker_store::Store;
use tracker_store_sql::{PostgresStore, SqliteStore};
use trackerd::config::{Config, Dsn};

pub use trackerd_testkit::pg::{create_database, database_url, drop_database, PgDatabase};
pub use trackerd_testkit::{Backend, Server};

/// Serves `store` on a free loopback port with the default configuration.
pub async fn start_server(store: Arc<dyn Store>, dsn: &str) -> anyhow::Result<Server> {
    let config = Config {
        database: Dsn(dsn.to_owned()),
        ..Config::default()
    };
    Ok(Server::start(store, Arc::new(SystemClock) as Arc<dyn Clock>, config).await?)
}

/// Ten random lowercase letters, for database names.
pub fn rand_suffix() -> String {
    trackerd_testkit::pg::rand_suffix(10)
}

/// `--backend`: which backends a benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    All,
    Sqlite,
    Postgres,
}

/// The backends `which` names. `postgres_url` (`--postgres-url`) falls
/// back to `TRACKERD_TEST_POSTGRES_URL`; `all` skips PostgreSQL without one
/// (saying so as `bench`), `postgres` fails.
pub fn backends(
    bench: &str,
    which: Which,
    postgres_url: &mut Option<String>,
) -> anyhow::Result<Vec<Backend>> {
    if postgres_url.is_none() {
        *postgres_url = trackerd_testkit::postgres_url();
    }
    let backends = match which {
        Which::Sqlite => vec![Backend::Sqlite],
        Which::Postgres => vec![Backend::Postgres],
        Which::All => {
            let mut v = vec![Backend::Sqlite];
            if postgres_url.is_some() {
                v.push(Backend::Postgres);
            } else {
                eprintln!(
                    "{bench}: PostgreSQL skipped (set TRACKERD_BENCH_POSTGRES_URL or \
                     TRACKERD_TEST_POSTGRES_URL)"
                );
            }
            v
        }
    };
    if backends.contains(&Backend::Postgres) && postgres_url.is_none() {
        anyhow::bail!(
            "--backend postgres needs TRACKERD_BENCH_POSTGRES_URL (a server URL with CREATEDB)"
        );
    }
    Ok(backends)
}

/// Runs `tasks` load tasks at once, `task(i, deadline)` for each `i`, the
/// deadline `secs` from now: what they return (in task order), the wall time
/// and this process's CPU time they took.
pub async fn load<T, F, Fut>(
    tasks: usize,
    secs: u64,
    task: F,
) -> anyhow::Result<(Vec<T>, Duration, Duration)>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let cpu = cpu_time();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let handles: Vec<_> = (0..tasks)
        .map(|i| tokio::spawn(task(i, deadline)))
        .collect();
    let mut out = Vec::with_capacity(tasks);
    for h in handles {
        out.push(h.await??);
    }
    Ok((out, start.elapsed(), cpu_time() - cpu))
}

pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// User + system clock ticks (1/100 s, the kernel's USER_HZ on every
/// mainstream architecture) of the process whose `/proc/<pid>/stat` this is.
pub fn proc_ticks(stat: &Path) -> Option<u64> {
    let s = std::fs::read_to_string(stat).ok()?;
    // The fields after the command name, which may hold spaces.
    let rest = s.rsplit_once(')')?.1.to_owned();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// User + system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    Duration::from_millis(proc_ticks(Path::new("/proc/self/stat")).unwrap_or(0) * 10)
}

/// Either backend, concretely: raw loops, bulk loads and dataset checks need
/// the driver's pool, which the store trait hides.
#[derive(Clone)]
pub enum Concrete {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Concrete {
    /// Connects to the store a DSN names exactly as trackerd does (same
    /// connect options, same pool): the concrete store and the trait object
    /// over it. Migrating is left to the caller.
    pub async fn connect(dsn: &str) -> anyhow::Result<(Concrete, Arc<dyn Store>)> {
        Ok(if dsn.starts_with("sqlite://") {
            let s = SqliteStore::connect(dsn).await?;
            (Concrete::Sqlite(s.clone()), Arc::new(s))
        } else {
            let s = PostgresStore::connect(dsn).await?;
            (Concrete::Postgres(s.clone()), Arc::new(s))
        })
    }

    /// Closes the driver's pool.
    pub async fn close(self) {
        match self {
            Concrete::Sqlite(s) => s.pool().close().await,
            Concrete::Postgres(s) => s.pool().close().await,
        }
    }
}
