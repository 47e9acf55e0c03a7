//! Benchmark: issue creation (`POST /v2/issues`) and `GET /v2/issues/{key}`
//! through HTTP under N concurrent clients, on each storage backend, against
//! a raw insert loop of the same rows through the same driver (sqlx) with the
//! same connection settings, measured in the same run.
//!
//! The server runs in this process on 127.0.0.1:0 over a fresh database (a
//! temporary SQLite file; a freshly created PostgreSQL database, dropped at
//! the end). The load generator shares the process and its cores: on a
//! 2-core machine the figures are what one box serving its own clients does.
//!
//! The raw baseline writes, per issue, what `create_issue` must write: the
//! queue's counter (the key), the issue row and its changelog row, one
//! transaction each, copying the column values of an issue the server
//! created. It runs two ways and the better one is the baseline: one
//! connection in a tight loop (SQLite's best case: one writer, no lock
//! waits) and `--concurrency` tasks over the store's pool (PostgreSQL's best
//! case: group commit).
//!
//! This is a benchmark, not a test: low figures never fail it, only a broken
//! setup (a non-2xx answer, a database that cannot be created).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trackerd_bench::{
    backends, load, micros, rand_suffix, start_server, Backend, Concrete, PgDatabase, Which,
};

use anyhow::{bail, Context};
use clap::Parser;
use serde::Deserialize;
use sqlx::Connection;
use tracker_domain::SystemClock;
use tracker_store::{ChangelogQuery, IssueRecord, NewChangelog, Organization, Store};

/// The test kit's seed: alice administers Acme and leads its TEST queue.
const ORG_ID: &str = trackerd_testkit::ACME;
const TOKEN: &str = trackerd_testkit::ALICE;
const QUEUE: &str = "TEST";

/// Issue creation and reads through HTTP vs. a raw insert loop, per backend.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Seconds of measured load per phase (creates, then reads).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Concurrent clients (each one request at a time, keep-alive).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of unmeasured creates before the measured ones.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds of each raw insert loop (sequential, then concurrent).
    #[arg(long, default_value_t = 10)]
    raw_duration: u64,
    /// Which backends; `all` is SQLite plus PostgreSQL when a URL is given.
    #[arg(long, value_enum, default_value_t = Which::All)]
    backend: Which,
    /// A PostgreSQL server URL with CREATEDB rights; a fresh database is
    /// created for the run and dropped after it.
    #[arg(long, env = "TRACKERD_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// How many of the issues created the reads pick from (the warm-up's
    /// first; default all of them): a fixed set, for comparing builds that
    /// create at different speeds. Over all of them, a build that creates
    /// faster reads over a larger set, and its read phase is slower for
    /// it: the answers kept in memory cover a smaller share (PostgreSQL,
    /// one build: 6 478-6 520 reads/s over ~30 000 issues, 12 186-21 598
    /// over 10 000, which the kept answers fill during the phase).
    #[arg(long)]
    read_set: Option<usize>,
    /// Instead of the load: counts the SQL statements of one create and one
    /// read (sqlx's statement events), sequentially, and exits.
    #[arg(long)]
    count_sql: bool,
}

/// Throughput and latency of one phase.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time of the whole process (server, clients, driver threads) per
    /// operation: steadier than throughput when a neighbour takes the cores.
    cpu_us: f64,
}

#[derive(Debug, Default)]
struct Report {
    creates: Figures,
    reads: Figures,
    raw_seq: Figures,
    raw_conc: Figures,
}

impl Report {
    fn raw_best(&self) -> f64 {
        self.raw_seq.per_sec.max(self.raw_conc.per_sec)
    }
}

fn figures(mut lat_us: Vec<u32>, elapsed: Duration, cpu: Duration) -> Figures {
    lat_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat_us.is_empty() {
            return 0.0;
        }
        let i = ((lat_us.len() as f64 * p).ceil() as usize).clamp(1, lat_us.len()) - 1;
        f64::from(lat_us[i]) / 1000.0
    };
    Figures {
        per_sec: lat_us.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        cpu_us: cpu.as_secs_f64() * 1e6 / lat_us.len().max(1) as f64,
    }
}

// ---------------------------------------------------------------- databases

/// A database for one part of the run; PostgreSQL ones are dropped on
/// [`Db::drop_db`].
struct Db {
    dsn: String,
    pg: Option<PgDatabase>,
}

impl Db {
    async fn create(
        backend: Backend,
        dir: &std::path::Path,
        name: &str,
        pg: Option<&str>,
    ) -> anyhow::Result<Db> {
        match backend {
            Backend::Sqlite => Ok(Db {
                dsn: format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
                pg: None,
            }),
            Backend::Postgres => {
                let admin = pg.context("no PostgreSQL URL")?;
                let db =
                    PgDatabase::create(admin, &format!("trackerd_bench_{name}_{}", rand_suffix()))
                        .await?;
                Ok(Db {
                    dsn: db.url().to_owned(),
                    pg: Some(db),
                })
            }
        }
    }

    async fn drop_db(self) {
        if let Some(db) = self.pg {
            let name = db.name().to_owned();
            if let Err(e) = db.drop_database().await {
                eprintln!("issue-bench: could not drop database {name}: {e}");
            }
        }
    }
}

/// Opens the store as trackerd does ([`Concrete::connect`]), migrates and
/// seeds it.
async fn open(dsn: &str) -> anyhow::Result<(Concrete, Arc<dyn Store>)> {
    let (c, store) = Concrete::connect(dsn).await?;
    store.migrate().await?;
    trackerd_testkit::apply_seed(store.as_ref(), &SystemClock).await?;
    Ok((c, store))
}

// ---------------------------------------------------------------- HTTP load

#[derive(Deserialize)]
struct Created {
    key: String,
}

fn create_body(n: u64) -> String {
    serde_json::json!({
        "queue": QUEUE,
        "summary": format!("Benchmark issue {n}"),
        "description": "Created by issue-bench under concurrent load.",
    })
    .to_string()
}

fn client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Authorization", format!("OAuth {TOKEN}").parse()?);
    headers.insert("X-Org-ID", ORG_ID.parse()?);
    headers.insert("Content-Type", "application/json".parse()?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(concurrency)
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Runs `concurrency` clients creating issues until `secs` have passed;
/// returns the latencies and the keys created.
async fn create_load(
    http: &reqwest::Client,
    base: &str,
    concurrency: usize,
    secs: u64,
) -> anyhow::Result<(Vec<u32>, Vec<String>, Duration, Duration)> {
    let counter = Arc::new(AtomicU64::new(0));
    let (results, elapsed, cpu) = load(concurrency, secs, |_, deadline| {
        let http = http.clone();
        let url = format!("{base}/v2/issues");
        let counter = counter.clone();
        async move {
            let mut lat = Vec::new();
            let mut keys = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let req = http.post(&url).body(create_body(n));
                let body = timed(t, req, reqwest::StatusCode::CREATED, &mut lat, || {
                    "POST /v2/issues".to_owned()
                })
                .await?;
                keys.push(serde_json::from_slice::<Created>(&body)?.key);
            }
            anyhow::Ok((lat, keys))
        }
    })
    .await?;
    let mut lat = Vec::new();
    let mut keys = Vec::new();
    for (l, k) in results {
        lat.extend(l);
        keys.extend(k);
    }
    Ok((lat, keys, elapsed, cpu))
}

/// Sends `req`, recording into `lat` the time since `t` (its start) until
/// the whole body is in; the body, or an error saying what `what()` (the
/// request) was answered unless the status is `want`.
async fn timed(
    t: Instant,
    req: reqwest::RequestBuilder,
    want: reqwest::StatusCode,
    lat: &mut Vec<u32>,
    what: impl FnOnce() -> String,
) -> anyhow::Result<axum::body::Bytes> {
    let r = req.send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    lat.push(micros(t.elapsed()));
    if status != want {
        bail!(
            "{} answered {status}: {}",
            what(),
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}

async fn read_load(
    http: &reqwest::Client,
    base: &str,
    concurrency: usize,
    secs: u64,
    keys: Arc<Vec<String>>,
) -> anyhow::Result<(Vec<u32>, Duration, Duration)> {
    let (lats, elapsed, cpu) = load(concurrency, secs, |_, deadline| {
        let http = http.clone();
        let base = base.to_owned();
        let keys = keys.clone();
        async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let key = {
                    use rand::Rng;
                    &keys[rand::thread_rng().gen_range(0..keys.len())]
                };
                let t = Instant::now();
                let req = http.get(format!("{base}/v2/issues/{key}"));
                timed(t, req, reqwest::StatusCode::OK, &mut lat, || {
                    format!("GET /v2/issues/{key}")
                })
                .await?;
            }
            anyhow::Ok(lat)
        }
    })
    .await?;
    Ok((lats.concat(), elapsed, cpu))
}

// ---------------------------------------------------------------- raw loop

/// The column values of an issue and its changelog entry as the server wrote
/// them; the raw loop writes copies.
#[derive(Clone)]
struct Sample {
    issue: IssueRecord,
    changelog: NewChangelog,
}

/// The organization the bench writes in.
async fn bench_org(store: &dyn Store) -> anyhow::Result<Organization> {
    store
        .organization_by_org_id(ORG_ID)
        .await?
        .context("the bench organization")
}

async fn sample(store: &dyn Store, key: &str) -> anyhow::Result<Sample> {
    let org = bench_org(store).await?;
    let issue = store
        .issue_by_key_or_id(org.id, key)
        .await?
        .context("the sampled issue")?;
    let changelog = store
        .list_changelog(
            issue.pk,
            &ChangelogQuery {
                after: None,
                limit: 1,
                field: None,
                kind: None,
            },
        )
        .await?
        .into_iter()
        .next()
        .context("the sampled issue's changelog")?
        .entry;
    Ok(Sample { issue, changelog })
}

/// Fresh ids, so unique columns accept each copy.
fn fresh_ids() -> (String, String) {
    let now = chrono::Utc::now();
    (trackerd::ops::object_id(now), trackerd::ops::object_id(now))
}

macro_rules! raw_insert {
    ($conn:expr, $s:expr, $queue:expr, $p:ident) => {{
        let s: &Sample = $s;
        let i = &s.issue;
        let (issue_id, entry_id) = fresh_ids();
        let mut tx = $conn.begin().await?;
        let (n, qkey): (i64, String) = sqlx::query_as(&format!(
            "UPDATE queues SET issue_seq = issue_seq + 1 WHERE id = {} AND org = {} \
             AND deleted_at IS NULL RETURNING issue_seq, key",
            $p(1),
            $p(2)
        ))
        .bind($queue)
        .bind(i.org)
        .fetch_one(&mut *tx)
        .await?;
        let cols = (1..=24).map($p).collect::<Vec<_>>().join(", ");
        let pk: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO issues (id, org, queue_id, key, summary, description, issue_type, \
               priority, status, previous_status, resolution, assignee, author, updated_by, \
               parent_pk, unique_key, created_at, updated_at, resolved_at, status_start_time, \
               last_comment_updated_at, comment_count, votes, extra, version) \
             VALUES ({cols}, 1) RETURNING pk"
        ))
        .bind(&issue_id)
        .bind(i.org)
        .bind($queue)
        .bind(format!("{qkey}-{n}"))
        .bind(&i.summary)
        .bind(&i.description)
        .bind(&i.issue_type)
        .bind(&i.priority)
        .bind(&i.status)
        .bind(&i.previous_status)
        .bind(&i.resolution)
        .bind(i.assignee)
        .bind(i.author)
        .bind(i.updated_by)
        .bind(i.parent_pk)
        .bind(&i.unique)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(i.resolved_at)
        .bind(i.status_start_time)
        .bind(i.last_comment_updated_at)
        .bind(i.comment_count)
        .bind(i.votes)
        .bind(&i.extra)
        .fetch_one(&mut *tx)
        .await?;
        let c = &s.changelog;
        sqlx::query(&format!(
            "INSERT INTO changelog (id, issue_pk, kind, updated_by, updated_at, fields, data) \
             VALUES ({}, {}, {}, {}, {}, {}, {})",
            $p(1),
            $p(2),
            $p(3),
            $p(4),
            $p(5),
            $p(6),
            $p(7)
        ))
        .bind(&entry_id)
        .bind(pk)
        .bind(&c.kind)
        .bind(c.updated_by)
        .bind(c.updated_at)
        .bind(&c.fields)
        .bind(&c.data)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        anyhow::Ok(())
    }};
}

fn q_mark(_: usize) -> String {
    "?".to_owned()
}

fn dollar(n: usize) -> String {
    format!("${n}")
}

/// One transaction per issue: sequentially on one connection when
/// `concurrency` is 1, else from that many tasks sharing the pool.
async fn raw_loop(
    db: &Concrete,
    queue_id: i64,
    s: &Sample,
    concurrency: usize,
    secs: u64,
) -> anyhow::Result<Figures> {
    let (lats, elapsed, cpu) = load(concurrency, secs, |_, deadline| {
        let db = db.clone();
        let s = s.clone();
        async move {
            let mut lat = Vec::new();
            // Inserts on `$conn` until the deadline, timing each: the
            // insert is a macro (per driver), so the loop is one too.
            macro_rules! timed_inserts {
                ($conn:ident, $p:ident) => {
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        raw_insert!($conn, &s, queue_id, $p)?;
                        lat.push(micros(t.elapsed()));
                    }
                };
            }
            match &db {
                // One connection held throughout, or (as the store does)
                // one taken from the pool per transaction: more tasks than
                // connections then queue for them instead of timing out.
                Concrete::Sqlite(store) if concurrency == 1 => {
                    let mut conn = store.pool().acquire().await?;
                    timed_inserts!(conn, q_mark);
                }
                Concrete::Sqlite(store) => {
                    let pool = store.pool();
                    timed_inserts!(pool, q_mark);
                }
                Concrete::Postgres(store) if concurrency == 1 => {
                    let mut conn = store.pool().acquire().await?;
                    timed_inserts!(conn, dollar);
                }
                Concrete::Postgres(store) => {
                    let pool = store.pool();
                    timed_inserts!(pool, dollar);
                }
            }
            anyhow::Ok(lat)
        }
    })
    .await?;
    Ok(figures(lats.concat(), elapsed, cpu))
}

// ---------------------------------------------------------------- the run

async fn run_backend(
    args: &Args,
    backend: Backend,
    dir: &std::path::Path,
    sampler: &RustcSampler,
) -> anyhow::Result<Report> {
    let pg = args.postgres_url.as_deref();
    let http_db = Db::create(backend, dir, "http", pg).await?;
    let raw_db = match Db::create(backend, dir, "raw", pg).await {
        Ok(d) => d,
        Err(e) => {
            http_db.drop_db().await;
            return Err(e);
        }
    };
    let r = run_on(args, backend, &http_db.dsn, &raw_db.dsn, sampler).await;
    http_db.drop_db().await;
    raw_db.drop_db().await;
    r
}

async fn run_on(
    args: &Args,
    backend: Backend,
    http_dsn: &str,
    raw_dsn: &str,
    sampler: &RustcSampler,
) -> anyhow::Result<Report> {
    let name = backend.name();
    let (_, store) = open(http_dsn).await?;
    let server = start_server(store.clone(), http_dsn).await?;
    let http = client(args.concurrency)?;
    let base = server.base.clone();

    if args.count_sql {
        count_sql(&http, &base, name).await?;
        server.stop().await?;
        return Ok(Report::default());
    }

    let mut report = Report::default();
    eprintln!("[{name}] warm-up: {} s of creates", args.warmup);
    let (_, mut keys, _, _) = create_load(&http, &base, args.concurrency, args.warmup).await?;

    eprintln!(
        "[{name}] creates: {} clients, {} s",
        args.concurrency, args.duration
    );
    sampler.reset();
    let (lat, k, elapsed, cpu) = create_load(&http, &base, args.concurrency, args.duration).await?;
    report.creates = figures(lat, elapsed, cpu);
    keys.extend(k);
    check_keys(&keys)?;
    let disturbed_c = sampler.seen();

    let created = keys.len();
    if let Some(n) = args.read_set {
        keys.truncate(n.max(1));
    }
    eprintln!(
        "[{name}] reads: {} clients, {} s over {} of the {created} issues",
        args.concurrency,
        args.duration,
        keys.len()
    );
    sampler.reset();
    let sample_key = keys[keys.len() / 2].clone();
    let (lat, elapsed, cpu) = read_load(
        &http,
        &base,
        args.concurrency,
        args.duration,
        Arc::new(keys),
    )
    .await?;
    report.reads = figures(lat, elapsed, cpu);
    let disturbed_r = sampler.seen();
    let s = sample(store.as_ref(), &sample_key).await?;
    drop(http);
    server.stop().await?;
    drop(store);

    let (raw, raw_store) = open(raw_dsn).await?;
    let org = bench_org(raw_store.as_ref()).await?;
    let queue = raw_store
        .queue_by_key(org.id, QUEUE)
        .await?
        .context("the bench queue")?;
    let mut s = s;
    s.issue.org = org.id;
    s.issue.queue_id = queue.id;
    eprintln!(
        "[{name}] raw insert loop: 1 connection, {} s",
        args.raw_duration
    );
    sampler.reset();
    report.raw_seq = raw_loop(&raw, queue.id, &s, 1, args.raw_duration).await?;
    eprintln!(
        "[{name}] raw insert loop: {} tasks over the pool, {} s",
        args.concurrency, args.raw_duration
    );
    report.raw_conc = raw_loop(&raw, queue.id, &s, args.concurrency, args.raw_duration).await?;
    let disturbed_raw = sampler.seen();
    raw.close().await;
    for (what, seen) in [
        ("creates", disturbed_c),
        ("reads", disturbed_r),
        ("raw loops", disturbed_raw),
    ] {
        if seen {
            eprintln!("[{name}] WARNING: a rustc ran during the {what}: figures disturbed");
        }
    }
    Ok(report)
}

/// Keys are `QUEUE-N` without gaps or duplicates, or the figures mean little.
fn check_keys(keys: &[String]) -> anyhow::Result<()> {
    let mut n: Vec<u64> = keys
        .iter()
        .map(|k| {
            k.rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    n.sort_unstable();
    let expected: Vec<u64> = (1..=n.len() as u64).collect();
    if n != expected {
        bail!("created keys are not 1..={} without gaps", n.len());
    }
    Ok(())
}

// ---------------------------------------------------------------- profiling aids

static SQL_STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Counts sqlx's per-statement events (target `sqlx::query`).
struct CountSql;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountSql {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if e.metadata().target().starts_with("sqlx::query") {
            SQL_STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn count_sql(http: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<()> {
    const N: u64 = 50;
    let mut keys = Vec::new();
    let before = SQL_STATEMENTS.load(Ordering::Relaxed);
    for n in 0..N {
        let r = http
            .post(format!("{base}/v2/issues"))
            .body(create_body(n))
            .send()
            .await?;
        if r.status() != reqwest::StatusCode::CREATED {
            bail!("POST /v2/issues answered {}", r.status());
        }
        keys.push(r.json::<Created>().await?.key);
    }
    let creates = SQL_STATEMENTS.load(Ordering::Relaxed) - before;
    if creates == 0 {
        // The store turned sqlx's statement events off: a count of 0 would
        // read as free creates.
        bail!("no SQL statement was counted: the store's statement events are off");
    }
    let before = SQL_STATEMENTS.load(Ordering::Relaxed);
    for key in &keys {
        let r = http.get(format!("{base}/v2/issues/{key}")).send().await?;
        if r.status() != reqwest::StatusCode::OK {
            bail!("GET answered {}", r.status());
        }
    }
    let reads = SQL_STATEMENTS.load(Ordering::Relaxed) - before;
    println!(
        "{name}: SQL statements per create {:.1}, per read {:.1} (incl. BEGIN/COMMIT)",
        creates as f64 / N as f64,
        reads as f64 / N as f64
    );
    Ok(())
}

/// Notes whether a rustc ran during a phase: on a shared 2-core machine a
/// neighbour's compile moves the figures by tens of percent.
struct RustcSampler {
    seen: Arc<AtomicBool>,
}

impl RustcSampler {
    fn start() -> Self {
        let seen = Arc::new(AtomicBool::new(false));
        let flag = seen.clone();
        std::thread::spawn(move || loop {
            if rustc_running() {
                flag.store(true, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(500));
        });
        Self { seen }
    }
    fn reset(&self) {
        self.seen.store(false, Ordering::Relaxed);
    }
    fn seen(&self) -> bool {
        self.seen.load(Ordering::Relaxed)
    }
}

fn rustc_running() -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten()
        .any(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "rustc"))
}

fn print_table(rows: &[(Backend, Report)], args: &Args) {
    println!();
    println!(
        "issue-bench: {} clients, {} s per phase ({} s warm-up), raw loops {} s, {} cores",
        args.concurrency,
        args.duration,
        args.warmup,
        args.raw_duration,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:>9} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7} {:>9} {:>9} {:>7} {:>6}",
        "backend",
        "creates/s",
        "p50 ms",
        "p99 ms",
        "CPU µs",
        "reads/s",
        "p50 ms",
        "p99 ms",
        "CPU µs",
        "raw1 /s",
        "rawN /s",
        "CPU µs",
        "ratio"
    );
    for (b, r) in rows {
        let raw = if r.raw_seq.per_sec >= r.raw_conc.per_sec {
            r.raw_seq
        } else {
            r.raw_conc
        };
        println!(
            "{:<9} {:>9.0} {:>7.2} {:>7.2} {:>7.0} {:>9.0} {:>7.2} {:>7.2} {:>7.0} {:>9.0} {:>9.0} {:>7.0} {:>6.2}",
            b.name(),
            r.creates.per_sec,
            r.creates.p50_ms,
            r.creates.p99_ms,
            r.creates.cpu_us,
            r.reads.per_sec,
            r.reads.p50_ms,
            r.reads.p99_ms,
            r.reads.cpu_us,
            r.raw_seq.per_sec,
            r.raw_conc.per_sec,
            raw.cpu_us,
            r.creates.per_sec / r.raw_best()
        );
    }
    println!(
        "raw1 = raw insert loop on 1 connection, rawN = {} tasks over the store's pool \
         (CPU µs: the better one); CPU µs = process CPU (server, clients, driver threads) per op",
        args.concurrency
    );
    println!(
        "ratio = creates/s through HTTP / the better raw loop (same rows, same sqlx pool settings)"
    );
    // Issue #16's create targets: creates through HTTP at least as fast as
    // the better raw loop on every backend, and 5 000/s on SQLite.
    for (b, r) in rows {
        let ratio = r.creates.per_sec / r.raw_best();
        print!(
            "{} targets: creates/raw >= 1.0: {} ({ratio:.2})",
            b.name(),
            met(ratio >= 1.0)
        );
        if *b == Backend::Sqlite {
            print!(
                "; creates/s >= 5000: {} ({:.0})",
                met(r.creates.per_sec >= 5000.0),
                r.creates.per_sec
            );
        }
        println!();
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// The shipped server's allocator (crates/trackerd/src/main.rs): the server
/// measured here runs in this process, and with the C library's allocator it
/// was not the server that ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.concurrency == 0 || args.duration == 0 {
        bail!("--concurrency and --duration must be positive");
    }
    if args.count_sql {
        use tracing_subscriber::prelude::*;
        tracing_subscriber::registry()
            .with(
                CountSql.with_filter(
                    tracing_subscriber::filter::Targets::new()
                        .with_target("sqlx::query", tracing::Level::TRACE),
                ),
            )
            .init();
    }
    let backends = backends("issue-bench", args.backend, &mut args.postgres_url)?;
    let dir = tempfile::tempdir()?;
    let sampler = RustcSampler::start();
    let mut rows = Vec::new();
    for b in backends {
        let r = run_backend(&args, b, dir.path(), &sampler)
            .await
            .with_context(|| format!("benchmarking {}", b.name()))?;
        rows.push((b, r));
    }
    if !args.count_sql {
        print_table(&rows, &args);
    }
    Ok(())
}
