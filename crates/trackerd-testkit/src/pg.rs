//! PostgreSQL databases made for one test (or one benchmark run) and dropped
//! after it, and whether the suite may skip its PostgreSQL half.

use anyhow::Context;
use sqlx::Connection;

/// The PostgreSQL server the suite may use, e.g.
/// `postgres://user:pass@127.0.0.1:5432/postgres` (a role with CREATEDB).
pub const POSTGRES_URL_VAR: &str = "TRACKERD_TEST_POSTGRES_URL";
/// Set to `1` (as CI does), a missing [`POSTGRES_URL_VAR`] fails the
/// PostgreSQL tests instead of skipping them: a skipped half is no pass.
pub const REQUIRE_POSTGRES_VAR: &str = "TRACKERD_TEST_REQUIRE_POSTGRES";

/// The value of [`POSTGRES_URL_VAR`], when set and not empty.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|s| !s.is_empty())
}

/// Whether [`REQUIRE_POSTGRES_VAR`] asks for PostgreSQL (set, not empty,
/// not `0`).
pub fn postgres_required() -> bool {
    std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The server URL for a PostgreSQL test, or `None` to skip it, loudly.
///
/// # Panics
/// When PostgreSQL is required ([`REQUIRE_POSTGRES_VAR`]) and not configured.
pub fn postgres_url_or_skip() -> Option<String> {
    if let Some(url) = postgres_url() {
        return Some(url);
    }
    assert!(
        !postgres_required(),
        "{REQUIRE_POSTGRES_VAR} is set but {POSTGRES_URL_VAR} is not: the PostgreSQL half of \
         the suite may not be skipped here. Set {POSTGRES_URL_VAR}=postgres://user:pass@host:port/postgres \
         (a role with CREATEDB), or unset {REQUIRE_POSTGRES_VAR}."
    );
    eprintln!("SKIPPED on PostgreSQL: {POSTGRES_URL_VAR} is not set");
    None
}

/// `len` random lowercase letters, for database names.
pub fn rand_suffix(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| (b'a' + rng.gen_range(0..26)) as char)
        .collect()
}

/// The URL of database `name` on the server of `admin_url`.
pub fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin_url).context("the PostgreSQL URL")?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// `CREATE DATABASE name` on the server of `admin_url` (a role with
/// CREATEDB).
pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("creating database {name} (needs CREATEDB)"))?;
    conn.close().await.ok();
    Ok(())
}

/// `DROP DATABASE IF EXISTS name WITH (FORCE)`: FORCE ends the connections
/// a pool still holds.
pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    Ok(())
}

/// A database created for one test or run, dropped when this is dropped (or
/// by [`PgDatabase::drop_database`], which reports failures).
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl PgDatabase {
    /// Creates database `name` on the server of `admin_url`.
    pub async fn create(admin_url: &str, name: &str) -> anyhow::Result<PgDatabase> {
        let url = database_url(admin_url, name)?;
        create_database(admin_url, name).await?;
        Ok(PgDatabase {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url,
            dropped: false,
        })
    }

    /// A test's database: `trackerd_t_` and 12 random letters (the name
    /// `scripts/test` clears after interrupted runs).
    pub async fn for_test(admin_url: &str) -> anyhow::Result<PgDatabase> {
        Self::create(admin_url, &format!("trackerd_t_{}", rand_suffix(12))).await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now.
    pub async fn drop_database(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Each PostgreSQL test has its own database: drop it, or a run
        // leaves hundreds behind. On a thread of its own: this may run on
        // (or outside) any runtime.
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(drop_database(&admin, &name)).ok()
        })
        .join();
    }
}
