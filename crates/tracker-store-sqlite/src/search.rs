//! Issue search on SQLite: the shared renderer's SQL over the indexes and
//! the FTS5 table of migration 0005.

use async_trait::async_trait;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;
use tracker_domain::permissions::Grants;
use tracker_store::*;
use tracker_store_sql::search::{self, Dialect, Sql};
use tracker_store_sql::{IssueRow, QueueRow, UserRow};

use crate::{db, SqliteStore, QUEUE_COLS, USER_COLS};

fn bind<'q, O>(
    mut q: sqlx::query::QueryScalar<'q, Sqlite, O, SqliteArguments<'q>>,
    sql: &'q Sql,
) -> sqlx::query::QueryScalar<'q, Sqlite, O, SqliteArguments<'q>> {
    for v in &sql.binds {
        q = match v {
            SqlValue::Int(n) => q.bind(*n),
            SqlValue::Float(f) => q.bind(*f),
            SqlValue::Text(s) => q.bind(s.as_str()),
            SqlValue::Time(t) => q.bind(*t),
        };
    }
    q
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search_pks(
        &self,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
    ) -> Result<Vec<i64>> {
        let sql = search::select_pks(Dialect::Sqlite, s, offset, limit);
        bind(sqlx::query_scalar(&sql.text), &sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn search_count(&self, s: &IssueSearch) -> Result<i64> {
        let sql = search::count(Dialect::Sqlite, s);
        bind(sqlx::query_scalar(&sql.text), &sql)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn issues_by_pks(&self, org: i64, pks: &[i64]) -> Result<Vec<IssueRecord>> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            // `+i.org`: the rows are found by key; org only checks them.
            "{} WHERE i.pk IN ({}) AND +i.org = ?",
            crate::issues::ISSUE_SELECT,
            tracker_store_sql::join_ids(pks)
        );
        let rows: Vec<IssueRow> = sqlx::query_as(&sql)
            .bind(org)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(tracker_store_sql::in_order(
            pks,
            rows.into_iter().map(IssueRecord::from),
        ))
    }

    async fn queues_with_grants(&self, org: i64) -> Result<Vec<(QueueRecord, Grants)>> {
        let queues: Vec<QueueRow> = sqlx::query_as(&format!(
            "SELECT {QUEUE_COLS} FROM queues WHERE org = ? ORDER BY id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let grants: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT g.queue_id, g.permission, g.subject_kind, g.subject FROM queue_grants g \
             JOIN queues q ON q.id = g.queue_id WHERE q.org = ?",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        tracker_store_sql::with_grants(queues, grants)
    }

    async fn users_by_uids(&self, uids: &[i64]) -> Result<Vec<User>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLS} FROM users WHERE uid IN ({})",
            tracker_store_sql::join_ids(uids)
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn comment_texts(&self, pks: &[i64]) -> Result<Vec<(i64, String)>> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as(&format!(
            "SELECT issue_pk, text FROM comments WHERE issue_pk IN ({}) ORDER BY pk",
            tracker_store_sql::join_ids(pks)
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)
    }
}
