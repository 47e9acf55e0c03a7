//! Benchmark: the two statements of `GET /v2/issues/{key}` (the issue by
//! key, then its queue) through sqlx's SQLite driver, as trackerd's store
//! runs them, against rusqlite behind a blocking pool, on the same database
//! file, in the same run.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands
//! it every statement through a channel: two thread hand-offs per statement.
//! rusqlite runs the statement on the calling thread; under tokio that
//! thread is one of `spawn_blocking`'s, so a read costs one hand-off (the
//! shape trackerd would have with rusqlite). Whether a switch is worth it is
//! a question of these numbers, not of taste.
//!
//! The database is made by trackerd itself: issues created through HTTP on
//! a fresh file, then the server is stopped and the drivers read.
//!
//! This is a benchmark, not a test: low figures never fail it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rusqlite::types::Value;
use tracker_domain::SystemClock;
use tracker_store::{AccessStore, IssueStore};
use tracker_store_sql::SqliteStore;
use trackerd_bench::{load, micros, start_server};

/// sqlx vs rusqlite on the statements of one issue read.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Issues created before the reads.
    #[arg(long, default_value_t = 2000)]
    issues: u64,
    /// Seconds of each measured phase.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent readers in the concurrent phases (and rusqlite's pool size,
    /// capped at sqlx's 8 connections so both have as many).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

struct Phase {
    name: String,
    reads: usize,
    elapsed: Duration,
    cpu: Duration,
    lat_us: Vec<u32>,
}

impl Phase {
    fn print(&mut self) {
        self.lat_us.sort_unstable();
        let p50 = self.lat_us.get(self.lat_us.len() / 2).copied().unwrap_or(0);
        println!(
            "{:<34} {:>9.0} {:>10.1} {:>9}",
            self.name,
            self.reads as f64 / self.elapsed.as_secs_f64(),
            self.cpu.as_secs_f64() * 1e6 / self.reads.max(1) as f64,
            p50
        );
    }
}

/// One read as the store does it: the issue, then its queue.
async fn sqlx_read(store: &SqliteStore, org: i64, key: &str) -> anyhow::Result<()> {
    let issue = store
        .issue_by_key_or_id(org, key)
        .await?
        .context("an issue")?;
    store
        .queue_by_id(org, issue.queue_id)
        .await?
        .context("its queue")?;
    Ok(())
}

/// The same statements through rusqlite, every column of both rows read
/// into owned values (what decoding into a record costs at least).
fn rusqlite_read(conn: &rusqlite::Connection, org: i64, key: &str) -> anyhow::Result<()> {
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Vec<Value>> {
        (0..r.as_ref().column_count())
            .map(|i| r.get::<_, Value>(i))
            .collect()
    };
    let issue = conn
        .prepare_cached(&tracker_store_sql::issue_by_key_sql())?
        .query_row(rusqlite::params![org, key], row)?;
    // The queue's id is the fourth column of the issue select.
    let Some(Value::Integer(queue_id)) = issue.get(3).cloned() else {
        anyhow::bail!("the issue row has no queue id");
    };
    conn.prepare_cached(&tracker_store_sql::queue_by_id_sql())?
        .query_row(rusqlite::params![org, queue_id], row)?;
    Ok(())
}

/// A connection opened as trackerd's pool opens them.
fn rusqlite_open(path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 10000;",
    )?;
    conn.set_prepared_statement_cache_capacity(100);
    Ok(conn)
}

fn key(n: usize, issues: u64) -> String {
    format!("TEST-{}", (n as u64 * 7919) % issues + 1)
}

async fn timed<F, Fut>(name: &str, secs: u64, tasks: usize, one: F) -> anyhow::Result<Phase>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let (lats, elapsed, cpu) = load(tasks, secs, |t, deadline| {
        let one = one.clone();
        async move {
            let mut lat = Vec::new();
            let mut n = t * 1_000_003;
            while Instant::now() < deadline {
                let at = Instant::now();
                one(n).await?;
                lat.push(micros(at.elapsed()));
                n += 1;
            }
            anyhow::Ok(lat)
        }
    })
    .await?;
    let lat_us = lats.concat();
    Ok(Phase {
        name: name.to_owned(),
        reads: lat_us.len(),
        elapsed,
        cpu,
        lat_us,
    })
}

async fn make_database(path: &std::path::Path, issues: u64) -> anyhow::Result<()> {
    let dsn = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&dsn).await?;
    store.migrate().await?;
    trackerd_testkit::apply_seed(&store, &SystemClock).await?;
    let server = start_server(Arc::new(store), &dsn).await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    for n in 0..issues {
        let r = http
            .post(format!("{}/v2/issues", server.base))
            .header(
                "Authorization",
                format!("OAuth {}", trackerd_testkit::ALICE),
            )
            .header("X-Org-ID", trackerd_testkit::ACME)
            .json(&serde_json::json!({"queue": "TEST", "summary": format!("Driver bench {n}")}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "creating an issue: {}", r.status());
    }
    server.stop().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.issues > 0 && args.concurrency > 0,
        "--issues and --concurrency must be positive"
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("driver.db");
    eprintln!("sqlite-driver-bench: creating {} issues", args.issues);
    make_database(&path, args.issues).await?;

    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    let org = store
        .organization_by_org_id(trackerd_testkit::ACME)
        .await?
        .context("the seed's organization")?
        .id;
    let issues = args.issues;
    // Each phase warmed first: statements prepared, pages cached.
    let sqlx_one = {
        let store = store.clone();
        move |n: usize| {
            let store = store.clone();
            async move { sqlx_read(&store, org, &key(n, issues)).await }
        }
    };
    let pool_size = args.concurrency.min(8);
    let conns: Vec<_> = (0..pool_size)
        .map(|_| rusqlite_open(&path))
        .collect::<anyhow::Result<_>>()?;
    let pool = Arc::new(Mutex::new(conns));
    let rusqlite_one = {
        let pool = pool.clone();
        move |n: usize| {
            let pool = pool.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let conn = pool
                        .lock()
                        .map_err(|_| anyhow::anyhow!("pool poisoned"))?
                        .pop()
                        .context("more readers than connections")?;
                    let r = rusqlite_read(&conn, org, &key(n, issues));
                    pool.lock()
                        .map_err(|_| anyhow::anyhow!("pool poisoned"))?
                        .push(conn);
                    r
                })
                .await?
            }
        }
    };
    // rusqlite on the caller's thread, no hand-off: the floor.
    let direct = Arc::new(Mutex::new(rusqlite_open(&path)?));
    let direct_one = {
        move |n: usize| {
            let direct = direct.clone();
            async move {
                let conn = direct
                    .lock()
                    .map_err(|_| anyhow::anyhow!("connection poisoned"))?;
                rusqlite_read(&conn, org, &key(n, issues))
            }
        }
    };
    let secs = args.duration;
    let c = pool_size;
    let mut phases = Vec::new();
    for (warm, name, tasks) in [
        (true, "sqlx (store), 1 reader", 1),
        (false, "sqlx (store), 1 reader", 1),
        (false, "sqlx (store), N readers", c),
    ] {
        let p = timed(name, if warm { 1 } else { secs }, tasks, sqlx_one.clone()).await?;
        if !warm {
            phases.push(p);
        }
    }
    for (warm, name, tasks) in [
        (true, "rusqlite + spawn_blocking, 1", 1),
        (false, "rusqlite + spawn_blocking, 1", 1),
        (false, "rusqlite + spawn_blocking, N", c),
    ] {
        let p = timed(
            name,
            if warm { 1 } else { secs },
            tasks,
            rusqlite_one.clone(),
        )
        .await?;
        if !warm {
            phases.push(p);
        }
    }
    timed("warm-up", 1, 1, direct_one.clone()).await?;
    phases.push(timed("rusqlite in place, 1 reader", secs, 1, direct_one).await?);

    println!();
    println!(
        "sqlite-driver-bench: {} issues, {} s per phase, N = {} readers ({} connections each), {} cores",
        args.issues,
        secs,
        c,
        pool_size,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<34} {:>9} {:>10} {:>9}",
        "driver, readers", "reads/s", "CPU µs/rd", "p50 µs"
    );
    for p in &mut phases {
        p.print();
    }
    println!("a read = the issue by key, then its queue (the two statements of GET /v2/issues/{{key}}); CPU = the whole process per read");
    Ok(())
}
