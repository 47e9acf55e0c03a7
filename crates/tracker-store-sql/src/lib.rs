//! trackerd's SQL store, on SQLite (embedded, one file) or PostgreSQL
//! (several nodes sharing one database). Every statement is written once,
//! in generic code over [`Engine`]; what differs between the engines is in
//! [`Dialect`] and the per-engine connect and migrate (`engine.rs`), and
//! the migrations stay per engine (`migrations/sqlite`,
//! `migrations/postgres`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::query::{Query, QueryAs};
use sqlx::{Decode, Encode, FromRow, Pool, Type};
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

mod access;
mod attachments;
mod automation;
mod catalog;
mod creates;
mod emulator;
mod engine;
mod entities;
mod federation;
mod fields;
mod handoff;
mod issues;
mod jobs;
mod oauth;
mod permissions;
mod remote_links;
mod rows;
mod scrolls;
pub mod search;
mod sprints;
mod stamps;
mod templates;
mod worklog;

pub use access::queue_by_id_sql;
pub use engine::{Cancellable, Dialect, Engine, UNSTAMPED_TABLES};
pub use issues::issue_by_key_sql;
pub use rows::*;

/// The store on SQLite.
pub type SqliteStore = SqlStore<sqlx::Sqlite>;
/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<sqlx::Postgres>;

/// A value the store binds and reads on engine `D`. With `i64: Value<D>` in
/// a `where` clause the compiler knows all three of sqlx's traits for it.
pub trait Value<D: sqlx::Database>:
    for<'q> Encode<'q, D> + for<'r> Decode<'r, D> + Type<D> + Send
{
}

impl<D: sqlx::Database, T> Value<D> for T where
    T: for<'q> Encode<'q, D> + for<'r> Decode<'r, D> + Type<D> + Send
{
}

/// A value a statement binds on engine `D` (a bound on the value itself, so
/// it carries sqlx's traits along, unlike one on the engine).
pub trait Bind<'q, D: sqlx::Database>: 'q + Encode<'q, D> + Type<D> + Send {}

impl<'q, D: sqlx::Database, V: 'q + Encode<'q, D> + Type<D> + Send> Bind<'q, D> for V {}

/// The values of a statement's placeholders, in order: a tuple of [`Bind`]s.
pub trait Binds<'q, D: sqlx::Database>: Send {
    fn bind_to<R>(
        self,
        q: QueryAs<'q, D, R, D::Arguments<'q>>,
    ) -> QueryAs<'q, D, R, D::Arguments<'q>>;

    fn bind_query(self, q: Query<'q, D, D::Arguments<'q>>) -> Query<'q, D, D::Arguments<'q>>;
}

macro_rules! binds {
    ($($v:ident),+) => {
        impl<'q, D: sqlx::Database, $($v: Bind<'q, D>),+> Binds<'q, D> for ($($v,)+) {
            #[allow(non_snake_case)]
            fn bind_to<R>(
                self,
                q: QueryAs<'q, D, R, D::Arguments<'q>>,
            ) -> QueryAs<'q, D, R, D::Arguments<'q>> {
                let ($($v,)+) = self;
                q$(.bind($v))+
            }

            #[allow(non_snake_case)]
            fn bind_query(
                self,
                q: Query<'q, D, D::Arguments<'q>>,
            ) -> Query<'q, D, D::Arguments<'q>> {
                let ($($v,)+) = self;
                q$(.bind($v))+
            }
        }
    };
}

/// A statement without placeholders.
impl<'q, D: sqlx::Database> Binds<'q, D> for () {
    fn bind_to<R>(
        self,
        q: QueryAs<'q, D, R, D::Arguments<'q>>,
    ) -> QueryAs<'q, D, R, D::Arguments<'q>> {
        q
    }

    fn bind_query(self, q: Query<'q, D, D::Arguments<'q>>) -> Query<'q, D, D::Arguments<'q>> {
        q
    }
}

/// Two lists of values, the second's after the first's: the columns
/// several statements write are listed once, and each statement adds its
/// own around them.
pub struct Then<A, B>(pub A, pub B);

impl<'q, D: sqlx::Database, A: Binds<'q, D>, B: Binds<'q, D>> Binds<'q, D> for Then<A, B> {
    fn bind_to<R>(
        self,
        q: QueryAs<'q, D, R, D::Arguments<'q>>,
    ) -> QueryAs<'q, D, R, D::Arguments<'q>> {
        self.1.bind_to(self.0.bind_to(q))
    }

    fn bind_query(self, q: Query<'q, D, D::Arguments<'q>>) -> Query<'q, D, D::Arguments<'q>> {
        self.1.bind_query(self.0.bind_query(q))
    }
}

/// Rows of values, one after another: a multi-row `VALUES` list (see
/// [`rows_sql`]).
impl<'q, D: sqlx::Database, T: Binds<'q, D>> Binds<'q, D> for Vec<T> {
    fn bind_to<R>(
        self,
        q: QueryAs<'q, D, R, D::Arguments<'q>>,
    ) -> QueryAs<'q, D, R, D::Arguments<'q>> {
        self.into_iter().fold(q, |q, row| row.bind_to(q))
    }

    fn bind_query(self, q: Query<'q, D, D::Arguments<'q>>) -> Query<'q, D, D::Arguments<'q>> {
        self.into_iter().fold(q, |q, row| row.bind_query(q))
    }
}

/// `rows` copies of `row`, a parenthesized list in which each `?` is a
/// placeholder, numbered on across the copies on PostgreSQL:
/// `rows_sql(Postgres, "(?, ?, 1)", 2)` is `($1, $2, 1), ($3, $4, 1)`. A
/// multi-row `VALUES` list for a [`Vec`] of binds: many rows in one
/// statement, one round trip. The statement must have no other
/// placeholders.
///
/// SQLite keeps the bare `?`, bound in order: sqlx binds a named
/// placeholder (`$7`) by asking SQLite its name, a walk of the statement's
/// list of names, so a batch of 32 creates (768 placeholders) bound in
/// quadratic time (`sqlite3_bind_parameter_name` was 3 % of the CPU of
/// creates).
pub(crate) fn rows_sql(d: Dialect, row: &str, rows: usize) -> String {
    let mut sql = String::with_capacity(rows * (row.len() + 8));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        if d == Dialect::Sqlite {
            sql.push_str(row);
            continue;
        }
        for c in row.chars() {
            if c == '?' {
                n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push(c);
            }
        }
    }
    sql
}

// No `D`: it names the engine; no `R`: it names the row of `bind_to`.
binds!(A);
binds!(A, B);
binds!(A, B, C);
binds!(A, B, C, E);
binds!(A, B, C, E, F);
binds!(A, B, C, E, F, G);
binds!(A, B, C, E, F, G, H);
binds!(A, B, C, E, F, G, H, I);
binds!(A, B, C, E, F, G, H, I, J);
binds!(A, B, C, E, F, G, H, I, J, K);
binds!(A, B, C, E, F, G, H, I, J, K, L);
binds!(A, B, C, E, F, G, H, I, J, K, L, M);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U, V);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U, V, W);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U, V, W, X);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U, V, W, X, Y);
binds!(A, B, C, E, F, G, H, I, J, K, L, M, N, O, P, Q, S, T, U, V, W, X, Y, Z);

/// The fewest creates after which a store retakes the planner's statistics.
const FIRST_ANALYSIS: u64 = 1024;

/// The store over one engine's pool. Its trait impls are generic over the
/// engine; `#[sql_bounds]` (tracker-store-sql-macros) gives each the bounds
/// sqlx must know of it, which Rust does not carry along with `D: Engine`.
#[derive(Debug)]
pub struct SqlStore<D: Engine> {
    pool: Pool<D>,
    /// Issues created through this store since it opened; statistics are
    /// refreshed as it grows where the engine needs it (see
    /// [`SqlStore::issue_created`]).
    created: Arc<AtomicU64>,
    /// The count of `created` at which statistics are first retaken: 1 024,
    /// or the issues the database held when it was opened and migrated,
    /// rounded up to a power of two (see [`SqlStore::issue_created`]).
    analysis_from: Arc<AtomicU64>,
    /// Issue creates waiting for their batch (src/creates.rs).
    creates: Arc<creates::Creates>,
    /// Data stamp reads waiting for the next shared statement (src/stamps.rs).
    stamps: Arc<stamps::Stamps>,
}

impl<D: Engine> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            created: self.created.clone(),
            analysis_from: self.analysis_from.clone(),
            creates: self.creates.clone(),
            stamps: self.stamps.clone(),
        }
    }
}

impl<D: Engine> SqlStore<D> {
    /// Opens the database a DSN names (`sqlite://PATH`, `postgres://…`).
    pub async fn connect(dsn: &str) -> Result<Self> {
        Ok(Self {
            pool: D::connect(dsn).await?,
            created: Default::default(),
            analysis_from: Arc::new(AtomicU64::new(FIRST_ANALYSIS)),
            creates: Default::default(),
            stamps: Default::default(),
        })
    }

    pub fn pool(&self) -> &Pool<D> {
        &self.pool
    }
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Starts a write transaction as the engine wants it (see
    /// [`Dialect::begin_write`] and [`begin`]).
    ///
    /// On SQLite its first statement reads the schema. A connection learns
    /// of another connection's schema change (an emulator snapshot's
    /// tables, the planner's statistics) at its next statement; when that
    /// was an issue write, whose triggers reach into the FTS5 table, it
    /// sometimes failed with "no such table: issues" (the emulator's
    /// restore test: 5–9 failures in 150 runs; with this read first, 0 in
    /// 150 twice). FTS5 preparing statements of its own mid-step, while
    /// the connection's schema is being replaced, is the likely reason.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, D>> {
        let mut tx = begin(&self.pool, D::DIALECT.begin_write()).await?;
        if D::DIALECT == Dialect::Sqlite {
            Self::exec_on(&mut *tx, "SELECT 1 FROM sqlite_master LIMIT 0", ()).await?;
        }
        Ok(tx)
    }
    // The statement helpers: each binds a tuple of values to `sql` and runs
    // it on `on`, the pool or a transaction (`&mut *tx`), so that a query
    // is one call and not a chain of `bind`s, a fetch and an error mapping.

    /// Runs a statement that returns no rows; how many rows it changed.
    async fn exec_on<'c, 'q>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<u64> {
        let done = binds
            .bind_query(sqlx::query(sql))
            .execute(on)
            .await
            .map_err(db)?;
        Ok(D::rows_affected(&done))
    }

    /// The row a statement returns (an `INSERT … RETURNING`, say).
    async fn fetch_one_on<'c, 'q, R>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<R>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        binds
            .bind_to(sqlx::query_as::<_, R>(sql))
            .fetch_one(on)
            .await
            .map_err(db)
    }

    /// The row a statement finds, if any.
    async fn fetch_optional_on<'c, 'q, R>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Option<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        binds
            .bind_to(sqlx::query_as::<_, R>(sql))
            .fetch_optional(on)
            .await
            .map_err(db)
    }

    /// Every row a statement finds, in its order.
    async fn fetch_all_on<'c, 'q, R>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Vec<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        binds
            .bind_to(sqlx::query_as::<_, R>(sql))
            .fetch_all(on)
            .await
            .map_err(db)
    }

    /// The one value a statement returns (a count, a `RETURNING id`).
    async fn scalar_on<'c, 'q, T>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<T>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let (value,) = Self::fetch_one_on::<(T,)>(on, sql, binds).await?;
        Ok(value)
    }

    /// The value of the first column of the row a statement finds, if any.
    async fn optional_scalar_on<'c, 'q, T>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Option<T>>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let row = Self::fetch_optional_on::<(T,)>(on, sql, binds).await?;
        Ok(row.map(|(value,)| value))
    }

    /// The first column of every row a statement finds, in its order.
    async fn scalars_on<'c, 'q, T>(
        on: impl sqlx::Executor<'c, Database = D>,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Vec<T>>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let rows = Self::fetch_all_on::<(T,)>(on, sql, binds).await?;
        Ok(rows.into_iter().map(|(value,)| value).collect())
    }

    /// Inserts one `(owner, item)` row per item: `sql` is an `INSERT … VALUES
    /// ($1, $2) ON CONFLICT DO NOTHING` into a table of an owner's set
    /// (followers, members, tags), so an item given twice is stored once.
    /// Callers name `V`: left to inference, the `&str` bounds of
    /// `#[sql_bounds]` would be taken for it.
    async fn insert_each<V>(
        tx: &mut sqlx::Transaction<'_, D>,
        sql: &str,
        owner: i64,
        items: &[V],
    ) -> Result<()>
    where
        V: Sync,
        for<'v> &'v V: Bind<'v, D>,
    {
        for item in items {
            Self::exec_on(&mut **tx, sql, (owner, item)).await?;
        }
        Ok(())
    }

    /// Inserts `rows` into `into` (a table and its columns, as in `INSERT
    /// INTO`), each row written as `row` (its placeholders as `?`), many rows
    /// to a statement and duplicates of a row kept once (`ON CONFLICT DO
    /// NOTHING`): the sets of issues in few round trips.
    async fn insert_rows<R>(
        tx: &mut sqlx::Transaction<'_, D>,
        into: &str,
        row: &str,
        rows: Vec<R>,
    ) -> Result<()>
    where
        R: for<'q> Binds<'q, D> + Clone + Sync + 'static,
    {
        // At most a few placeholders a row: far below both engines' limits
        // on bound values.
        const ROWS_PER_INSERT: usize = 500;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO {into} VALUES {} ON CONFLICT DO NOTHING",
                rows_sql(D::DIALECT, row, chunk.len())
            );
            Self::exec_on(&mut **tx, &sql, chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Inserts `(owner, n, item n)` rows, numbered from 0, into `into` (a
    /// table and those three columns), many rows to a statement: a long list
    /// (a job's targets, a scroll's pages) in few round trips.
    async fn insert_numbered<O, V>(
        tx: &mut sqlx::Transaction<'_, D>,
        into: &str,
        owner: O,
        items: impl IntoIterator<Item = V> + Send,
    ) -> Result<()>
    where
        O: Value<D> + Clone + Sync + 'static,
        V: Value<D> + 'static,
    {
        // Two placeholders a row: far below both engines' limits on bound
        // values.
        const ROWS_PER_INSERT: usize = 500;
        let mut items = items.into_iter().peekable();
        let mut n: i64 = 0;
        while items.peek().is_some() {
            let batch: Vec<V> = items.by_ref().take(ROWS_PER_INSERT).collect();
            let values: Vec<String> = (0..batch.len())
                .map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!("INSERT INTO {into} VALUES {}", values.join(", "));
            let mut q = sqlx::query(&sql).bind(owner.clone());
            for item in batch {
                q = q.bind(n).bind(item);
                n += 1;
            }
            q.execute(&mut **tx).await.map_err(db)?;
        }
        Ok(())
    }

    /// Deletes row `pk` of `table` only if it belongs to `parent` (its
    /// `parent_col`): a write removes rows of its own issue or entity, never
    /// another's by a guessed pk.
    async fn delete_owned(
        tx: &mut sqlx::Transaction<'_, D>,
        table: &str,
        parent_col: &str,
        pk: i64,
        parent: i64,
    ) -> Result<u64> {
        let sql = format!("DELETE FROM {table} WHERE pk = $1 AND {parent_col} = $2");
        Self::exec_on(&mut **tx, &sql, (pk, parent)).await
    }

    /// Moves the authentication epoch, after a change that can take rights
    /// away (a revoked token, a changed role): every node drops its cached
    /// authentications.
    async fn bump_epoch_on<'c>(on: impl sqlx::Executor<'c, Database = D>) -> Result<()> {
        Self::exec_on(
            on,
            "UPDATE auth_epoch SET value = value + 1 WHERE id = 1",
            (),
        )
        .await?;
        Ok(())
    }

    /// Commits a change that can take rights away, moving the epoch in the
    /// same transaction (see [`Self::bump_epoch_on`]).
    async fn commit_bumping_epoch(mut tx: sqlx::Transaction<'static, D>) -> Result<()> {
        Self::bump_epoch_on(&mut *tx).await?;
        tx.commit().await.map_err(db)
    }

    /// Deletes the record of `table` with this pk if it is in organization
    /// `org`, and commits `tx`: how many rows went.
    async fn delete_by_pk_and_commit(
        mut tx: sqlx::Transaction<'static, D>,
        table: &str,
        org: i64,
        pk: i64,
    ) -> Result<u64> {
        let sql = format!("DELETE FROM {table} WHERE org = $1 AND pk = $2");
        let n = Self::exec_on(&mut *tx, &sql, (org, pk)).await?;
        tx.commit().await.map_err(db)?;
        Ok(n)
    }

    /// The record of `table` (columns `cols`) with this pk, if it is in
    /// organization `org`: the lookup of every record kept by pk.
    async fn by_pk<R>(&self, table: &str, cols: &str, org: i64, pk: i64) -> Result<Option<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let sql = format!("SELECT {cols} FROM {table} WHERE org = $1 AND pk = $2");
        self.find::<R, R>(&sql, (org, pk)).await
    }

    /// The records of `table` in `org` in pk order: all, or those whose
    /// `parent` column (a queue, a board) is the given one.
    async fn list_under<R>(
        &self,
        table: &str,
        cols: &str,
        org: i64,
        (parent, pk): (&str, Option<i64>),
    ) -> Result<Vec<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let sql = format!(
            "SELECT {cols} FROM {table} WHERE org = $1 AND ($2 IS NULL OR {parent} = $2) \
             ORDER BY pk"
        );
        self.find_all::<R, R>(&sql, (org, pk)).await
    }

    /// A page of the comments in `table` (columns `cols`) under the issue or
    /// entity `under` names (its column and pk): those after `after_pk`, in
    /// pk order.
    async fn comments_after<R, T>(
        &self,
        table: &str,
        cols: &str,
        (parent_col, parent): (&str, i64),
        after_pk: Option<i64>,
        limit: i64,
    ) -> Result<Vec<T>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
        T: TryFrom<R>,
        StoreError: From<T::Error>,
    {
        let sql = format!(
            "SELECT {cols} FROM {table} WHERE {parent_col} = $1 AND pk > $2 ORDER BY pk LIMIT $3"
        );
        self.find_all::<R, T>(&sql, (parent, after_pk.unwrap_or(0), limit))
            .await
    }

    /// Runs an update conditioned on the record's version (see [`outcome`]).
    async fn update_versioned<'q>(
        &self,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<WriteOutcome> {
        Ok(outcome(self.exec(sql, binds).await?))
    }

    /// [`Self::exec_on`] the pool.
    async fn exec<'q>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<u64> {
        Self::exec_on(&self.pool, sql, binds).await
    }

    /// [`Self::fetch_one_on`] the pool.
    async fn fetch_one<'q, R>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<R>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::fetch_one_on(&self.pool, sql, binds).await
    }

    /// [`Self::fetch_optional_on`] the pool.
    async fn fetch_optional<'q, R>(
        &self,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Option<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::fetch_optional_on(&self.pool, sql, binds).await
    }

    /// [`Self::fetch_all_on`] the pool.
    async fn fetch_all<'q, R>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<Vec<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::fetch_all_on(&self.pool, sql, binds).await
    }

    /// [`Self::scalar_on`] the pool.
    async fn scalar<'q, T>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<T>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::scalar_on(&self.pool, sql, binds).await
    }

    /// [`Self::optional_scalar_on`] the pool.
    async fn optional_scalar<'q, T>(
        &self,
        sql: &'q str,
        binds: impl Binds<'q, D>,
    ) -> Result<Option<T>>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::optional_scalar_on(&self.pool, sql, binds).await
    }

    /// [`Self::scalars_on`] the pool.
    async fn scalars<'q, T>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<Vec<T>>
    where
        (T,): for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        Self::scalars_on(&self.pool, sql, binds).await
    }

    /// The record a statement returns (an `INSERT … RETURNING`, say); `R`
    /// is the row it reads.
    async fn one<'q, R, T>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<T>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
        T: TryFrom<R>,
        StoreError: From<T::Error>,
    {
        let row: R = self.fetch_one(sql, binds).await?;
        Ok(T::try_from(row)?)
    }

    /// The record a statement finds, if any; `R` is the row it reads.
    async fn find<'q, R, T>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<Option<T>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
        T: TryFrom<R>,
        StoreError: From<T::Error>,
    {
        let row: Option<R> = self.fetch_optional(sql, binds).await?;
        Ok(row.map(T::try_from).transpose()?)
    }

    /// Leases pending rows in one transaction: `sql` is an
    /// `UPDATE … SET lease_owner = $1, lease_until_ms = $2 WHERE pk IN
    /// (SELECT … lease_until_ms <= $3 … LIMIT $4{skip_locked}) RETURNING …`,
    /// whose `{skip_locked}` is filled here, so nodes claiming together take
    /// different rows on PostgreSQL. The rows come back in `RETURNING`'s
    /// order, which neither engine promises: callers sort them.
    async fn claim_leases<R>(
        &self,
        sql: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<R>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
    {
        let sql = sql.replace("{skip_locked}", D::DIALECT.skip_locked());
        let mut tx = self.begin().await?;
        let rows: Vec<R> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(until_ms)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(rows)
    }

    /// Every record a statement finds, in its order.
    async fn find_all<'q, R, T>(&self, sql: &'q str, binds: impl Binds<'q, D>) -> Result<Vec<T>>
    where
        R: for<'r> FromRow<'r, D::Row> + Send + Unpin,
        T: TryFrom<R>,
        StoreError: From<T::Error>,
    {
        let rows: Vec<R> = self.fetch_all(sql, binds).await?;
        Ok(rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?)
    }

    /// After the migrations: statistics are next retaken once this store's
    /// creates have doubled the issues it found (the migrations took them
    /// at start if they no longer described the file). Counted from 1 024
    /// alone, a server restarted on a million issues retook every
    /// table's statistics at its 1 024th create, for the same numbers.
    pub(crate) async fn count_issues_for_statistics(&self) -> Result<()> {
        let issues: i64 = self
            .scalar(
                "SELECT CAST(COALESCE(SUM(issues), 0) AS BIGINT) FROM issue_counts",
                (),
            )
            .await?;
        let from = u64::try_from(issues)
            .unwrap_or(0)
            .max(FIRST_ANALYSIS)
            .next_power_of_two();
        self.analysis_from.store(from, Ordering::Relaxed);
        Ok(())
    }

    /// Counts a created issue; at 1 024, 2 048, 4 096 … creations (from
    /// the issues found at start, [`Self::count_issues_for_statistics`]) the
    /// planner's statistics are taken again (see [`Engine::analyze`]), so
    /// a server started on an empty database gets good plans as it grows,
    /// without a restart. Only as the count doubles: SQLite's statistics are
    /// taken over every row (see engine.rs), seconds at a million, so they
    /// are taken in a task of their own: the create that crossed the mark
    /// (and the batch of creates behind it) is not held for them. On SQLite
    /// they are taken an index at a time ([`engine::sqlite_analyze_each`]):
    /// each statement holds the write lock, which every write waits for.
    async fn issue_created(&self) {
        let n = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.analysis_from.load(Ordering::Relaxed) && n.is_power_of_two() {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                if let Err(e) = D::analyze(&pool).await {
                    tracing::warn!(error = %e, "refreshing {} statistics failed", D::DIALECT.name());
                }
            });
        }
    }
}

/// What an update conditioned on the record's version did: no row changed
/// means someone else changed the record first.
pub(crate) fn outcome(rows: u64) -> WriteOutcome {
    if rows == 0 {
        WriteOutcome::VersionConflict
    } else {
        WriteOutcome::Written
    }
}

/// Separates list items packed into one column (ASCII unit separator).
pub const SEP: char = '\u{1f}';

/// Maps a driver error to the store's: constraint violations keep their meaning.
pub fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Invalid(d.message().to_owned())
        }
        _ => StoreError::Database(Box::new(e)),
    }
}

/// Starts a transaction (with `statement`, e.g. SQLite's `BEGIN IMMEDIATE`,
/// or the driver's plain `BEGIN`) in a task of its own, so that it cannot be
/// cut in half.
///
/// A request whose client hangs up is dropped wherever it is waiting. If
/// that is inside sqlx's `begin` after the database has started the
/// transaction but before sqlx has handed out the `Transaction` (SQLite with
/// a custom `BEGIN` awaits its connection handle in between), the connection
/// goes back to the pool with the transaction still open: it holds SQLite's
/// write lock and fails every later `begin` ("non-zero transaction depth"),
/// so all writes fail until restart. Run in a spawned task, `begin` always
/// finishes; if its caller is gone by then, the finished `Transaction` is
/// dropped and rolls back as any other.
pub async fn begin<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    statement: Option<&'static str>,
) -> Result<sqlx::Transaction<'static, DB>> {
    let pool = pool.clone();
    let started = tokio::spawn(async move {
        match statement {
            Some(s) => pool.begin_with(s).await,
            None => pool.begin().await,
        }
    })
    .await
    .map_err(|e| StoreError::Database(Box::new(e)))?;
    started.map_err(db)
}

pub fn split(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(SEP)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Ids packed into one column by [`join_ids`].
pub fn split_ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|x| x.parse().ok()).collect()
}

/// Packs ids into one column.
pub fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Records in the order of `pks` (rows come back in any order); pks without
/// a row are left out.
pub fn in_order(pks: &[i64], records: impl IntoIterator<Item = IssueRecord>) -> Vec<IssueRecord> {
    let mut by_pk: std::collections::HashMap<i64, IssueRecord> =
        records.into_iter().map(|r| (r.pk, r)).collect();
    pks.iter().filter_map(|pk| by_pk.remove(pk)).collect()
}

/// Queues paired with their grants from `(queue_id, permission, kind, subject)` rows.
pub fn with_grants(
    queues: Vec<QueueRecord>,
    grants: Vec<(i64, String, String, String)>,
) -> Result<Vec<(QueueRecord, tracker_domain::permissions::Grants)>> {
    let mut by_queue: std::collections::HashMap<i64, Vec<_>> = std::collections::HashMap::new();
    for (q, p, k, s) in &grants {
        by_queue.entry(*q).or_default().push(decode_grant(p, k, s)?);
    }
    Ok(queues
        .into_iter()
        .map(|q| {
            let mut g = by_queue.remove(&q.id).unwrap_or_default();
            g.sort();
            (q, tracker_domain::permissions::Grants(g))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANALYZE_FOR_TESTS: &str = "ANALYZE issues;";

    async fn stat_rows(store: &SqliteStore) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'issues'")
            .fetch_one(&store.pool)
            .await
            .unwrap_or(0)
    }

    /// Waits (up to 10 s) for the statistics a create's task takes: at
    /// least `rows` rows of the issues'.
    async fn wait_for_stat_rows(store: &SqliteStore, rows: i64) {
        for _ in 0..200 {
            if stat_rows(store).await >= rows {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits for a pass a create started to end: it takes an index at a
    /// time and the issues' come last, so their first row does not mean
    /// the pass is over.
    async fn wait_for_every_issue_index(store: &SqliteStore) {
        let indexes: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'issues'",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        assert!(indexes > 20, "{indexes}");
        wait_for_stat_rows(store, indexes).await;
        assert_eq!(stat_rows(store).await, indexes, "the pass did not end");
    }

    /// A fresh SQLite store with one organization, user and queue, and a
    /// create in that queue to copy (ids left to the caller).
    async fn fixture() -> (tempfile::TempDir, SqliteStore, NewIssue) {
        let dir = tempfile::tempdir().unwrap();
        let dsn = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = SqliteStore::connect(&dsn).await.unwrap();
        store.migrate().await.unwrap();
        let now = chrono::Utc::now();
        let org = store
            .create_organization(&NewOrganization {
                org_id: "1".into(),
                cloud_id: None,
                name: "o".into(),
                created_at: now,
            })
            .await
            .unwrap();
        let user = store
            .create_user(&NewUser {
                login: "u".into(),
                cloud_uid: "c".into(),
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                password_hash: None,
                created_at: now,
            })
            .await
            .unwrap();
        let queue = store
            .create_queue(
                org.id,
                &NewQueue {
                    key: "Q".into(),
                    name: "q".into(),
                    description: None,
                    lead_uid: user.uid,
                    default_type: "task".into(),
                    default_priority: "normal".into(),
                    created_at: now,
                    issue_types: String::new(),
                },
            )
            .await
            .unwrap();
        // The queue's defaults are the issue's type and priority.
        let issue = IssueRecord {
            summary: "s".into(),
            ..IssueRecord::fresh("0".repeat(24), org.id, &queue, user.uid, now, None)
        };
        let changelog = NewChangelog {
            id: String::new(),
            kind: "IssueCreated".into(),
            updated_by: user.uid,
            updated_at: now,
            fields: "[]".into(),
            data: "{}".into(),
        };
        let new = NewIssue {
            issue,
            changelog,
            attachments: None,
        };
        (dir, store, new)
    }

    fn numbered(template: &NewIssue, n: usize) -> NewIssue {
        let mut new = template.clone();
        new.issue.id = format!("{n:024x}");
        new.changelog.id = format!("{n:024x}");
        new
    }

    #[test]
    fn a_multi_row_values_list_numbers_its_placeholders_across_the_rows() {
        let pg = Dialect::Postgres;
        assert_eq!(rows_sql(pg, "(?, ?, 1)", 2), "($1, $2, 1), ($3, $4, 1)");
        assert_eq!(rows_sql(pg, "(?)", 1), "($1)");
        // SQLite binds bare placeholders in order.
        let lite = Dialect::Sqlite;
        assert_eq!(rows_sql(lite, "(?, ?, 1)", 2), "(?, ?, 1), (?, ?, 1)");
    }

    #[tokio::test]
    async fn statistics_are_taken_again_as_issues_are_created() {
        let (_dir, store, template) = fixture().await;
        for n in 1..=1024 {
            let new = numbered(&template, n);
            store.create_issue(&new).await.unwrap();
            if n == 1023 {
                assert_eq!(
                    stat_rows(&store).await,
                    0,
                    "none yet: the tables were empty"
                );
            }
        }
        // Taken in a task of its own, an index at a time.
        wait_for_every_issue_index(&store).await;
    }

    #[test]
    fn sqlite_statistics_taken_while_serving_are_a_statement_per_index() {
        let names = ["issues_by_org_key".to_owned(), "odd\"name".to_owned()];
        assert_eq!(
            engine::sqlite_analyze_each(&names),
            "PRAGMA analysis_limit = 0; ANALYZE \"issues_by_org_key\"; ANALYZE \"odd\"\"name\";"
        );
    }

    /// A restart does not pay for a full pass when the file's statistics
    /// still describe it, and does when the issues have since doubled.
    #[tokio::test]
    async fn statistics_are_taken_at_start_only_when_missing_or_outgrown() {
        let (dir, store, template) = fixture().await;
        for n in 1..=40 {
            store.create_issue(&numbered(&template, n)).await.unwrap();
        }
        sqlx::raw_sql(ANALYZE_FOR_TESTS)
            .execute(&store.pool)
            .await
            .unwrap();
        // A mark no ANALYZE would write: it survives only if none ran.
        let mark = "40 1";
        let marked = sqlx::query("UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = 'issues'")
            .bind(mark)
            .execute(&store.pool)
            .await
            .unwrap()
            .rows_affected();
        assert!(marked > 0);
        let dsn = format!("sqlite://{}", dir.path().join("t.db").display());
        let stats = |store: SqliteStore| async move {
            let rows: Vec<String> =
                sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'issues'")
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            rows
        };
        let again = SqliteStore::connect(&dsn).await.unwrap();
        again.migrate().await.unwrap();
        assert!(
            stats(again).await.iter().all(|s| s == mark),
            "kept: still current"
        );
        for n in 41..=90 {
            store.create_issue(&numbered(&template, n)).await.unwrap();
        }
        let grown = SqliteStore::connect(&dsn).await.unwrap();
        grown.migrate().await.unwrap();
        let after = stats(grown).await;
        assert!(after.iter().all(|s| s != mark), "taken again: {after:?}");
        assert!(after.iter().any(|s| s.starts_with("90 ")), "{after:?}");
    }

    /// Statistics are retaken as a store's creates double the issues it
    /// found when opened: a restart on a file whose statistics still
    /// describe it does not pay for a pass at its 1 024th create.
    #[tokio::test]
    async fn after_a_restart_statistics_wait_for_the_issues_found_to_double() {
        let (dir, store, template) = fixture().await;
        for n in 1..=1100 {
            store.create_issue(&numbered(&template, n)).await.unwrap();
        }
        wait_for_every_issue_index(&store).await;
        let dsn = format!("sqlite://{}", dir.path().join("t.db").display());
        let again = SqliteStore::connect(&dsn).await.unwrap();
        again.migrate().await.unwrap();
        assert_eq!(again.analysis_from.load(Ordering::Relaxed), 2048);
        let mark = "1100 1";
        sqlx::query("UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = 'issues'")
            .bind(mark)
            .execute(&again.pool)
            .await
            .unwrap();
        for n in 1101..=2124 {
            again.create_issue(&numbered(&template, n)).await.unwrap();
        }
        // A pass would have started at the 1 024th create: give it time.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let stats: Vec<String> =
            sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'issues'")
                .fetch_all(&again.pool)
                .await
                .unwrap();
        assert!(stats.iter().all(|s| s == mark), "retaken: {stats:?}");
    }

    /// Creates issued together are queued before the batch task first runs
    /// (one thread: it runs only once they all wait), so they share
    /// transactions; the one whose `unique` is taken in the middle fails
    /// alone and the others keep gapless keys.
    #[tokio::test]
    async fn creates_issued_together_share_transactions_and_a_failing_one_fails_alone() {
        let (_dir, store, template) = fixture().await;
        let mut news: Vec<NewIssue> = (1..=40).map(|n| numbered(&template, n)).collect();
        news[9].issue.unique = Some("same".into());
        news[20].issue.unique = Some("same".into());
        let before = store.creates.transactions();
        let results =
            futures_util::future::join_all(news.iter().map(|n| store.create_issue(n))).await;
        let batches = store.creates.transactions() - before;
        assert!(batches < 10, "{batches} transactions for 40 creates");
        assert!(
            matches!(results[20], Err(StoreError::Conflict(_))),
            "{:?}",
            results[20]
        );
        let mut keys: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 20)
            .map(|(_, r)| r.as_ref().unwrap().key.clone())
            .collect();
        keys.sort_by_key(|k| k[2..].parse::<u32>().unwrap());
        let expected: Vec<String> = (1..=39).map(|n| format!("Q-{n}")).collect();
        assert_eq!(keys, expected);
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM issues")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(rows, 39);
        let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM changelog")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(entries, 39, "the failed create left no changelog row");
    }

    /// Stamp reads asked together share a statement or two, and one asked
    /// after a commit returns to the database.
    #[tokio::test]
    async fn data_stamps_asked_together_share_statements_and_one_asked_after_a_commit_moves() {
        let (_dir, store, template) = fixture().await;
        let before = store.stamps.statements();
        let stamps = futures_util::future::join_all((0..50).map(|_| store.data_stamp())).await;
        let statements = store.stamps.statements() - before;
        assert!(
            statements <= 2,
            "{statements} statements for 50 stamp reads"
        );
        let first = stamps[0].as_ref().unwrap().clone();
        assert!(stamps.iter().all(|s| s.as_ref().unwrap() == &first));
        store.create_issue(&numbered(&template, 1)).await.unwrap();
        let after = store.data_stamp().await.unwrap();
        assert_ne!(after, first, "a stamp asked after a commit must show it");
        assert_eq!(after, store.read_data_stamp().await.unwrap());
    }
}
