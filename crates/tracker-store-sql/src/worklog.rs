//! Records of time spent: written inside an issue's write
//! ([`IssueStore::write_issue`]), read here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Encode, Executor, FromRow, IntoArguments, Transaction, Type};
use tracker_store::*;

use crate::{db, Engine, SqlStore, Value};

const COLS: &str = "pk, org, issue_pk, comment, start_at, seconds, created_by, updated_by, \
    created_at, updated_at, version";

#[derive(FromRow)]
struct WorklogRow {
    pk: i64,
    org: i64,
    issue_pk: i64,
    comment: String,
    start_at: DateTime<Utc>,
    seconds: i64,
    created_by: i64,
    updated_by: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl From<WorklogRow> for WorklogRecord {
    fn from(r: WorklogRow) -> Self {
        WorklogRecord {
            pk: r.pk,
            org: r.org,
            issue_pk: r.issue_pk,
            comment: r.comment,
            start: r.start_at,
            seconds: r.seconds,
            created_by: r.created_by,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

impl<D> SqlStore<D>
where
    D: Engine,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    i64: Value<D>,
    String: Value<D>,
    DateTime<Utc>: Value<D>,
    Option<DateTime<Utc>>: Value<D>,
    Option<i64>: Value<D>,
    usize: ColumnIndex<D::Row>,
    for<'n> &'n str: ColumnIndex<D::Row>,
{
    /// Applies a record's change inside the issue's transaction.
    pub(crate) async fn write_worklog(
        tx: &mut Transaction<'_, D>,
        issue_pk: i64,
        w: &WorklogWrite,
    ) -> Result<()> {
        match w {
            WorklogWrite::Insert(r) => sqlx::query(
                "INSERT INTO worklog (org, issue_pk, comment, start_at, seconds, created_by, \
                   updated_by, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)",
            )
            .bind(r.org)
            .bind(issue_pk)
            .bind(&r.comment)
            .bind(r.start)
            .bind(r.seconds)
            .bind(r.created_by)
            .bind(r.updated_by)
            .bind(r.created_at)
            .bind(r.updated_at),
            WorklogWrite::Update(r) => sqlx::query(
                "UPDATE worklog SET comment = $1, start_at = $2, seconds = $3, updated_by = $4, \
                   updated_at = $5, version = version + 1 WHERE pk = $6 AND issue_pk = $7",
            )
            .bind(&r.comment)
            .bind(r.start)
            .bind(r.seconds)
            .bind(r.updated_by)
            .bind(r.updated_at)
            .bind(r.pk)
            .bind(issue_pk),
            WorklogWrite::Delete(pk) => {
                sqlx::query("DELETE FROM worklog WHERE pk = $1 AND issue_pk = $2")
                    .bind(*pk)
                    .bind(issue_pk)
            }
        }
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl<D> WorklogStore for SqlStore<D>
where
    D: Engine,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    i64: Value<D>,
    String: Value<D>,
    DateTime<Utc>: Value<D>,
    Option<DateTime<Utc>>: Value<D>,
    Option<i64>: Value<D>,
    usize: ColumnIndex<D::Row>,
    for<'n> &'n str: ColumnIndex<D::Row>,
{
    async fn list_worklog(&self, issue_pk: i64) -> Result<Vec<WorklogRecord>> {
        let rows = sqlx::query_as::<_, WorklogRow>(&format!(
            "SELECT {COLS} FROM worklog WHERE issue_pk = $1 ORDER BY pk"
        ))
        .bind(issue_pk)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn worklog(&self, issue_pk: i64, pk: i64) -> Result<Option<WorklogRecord>> {
        let row = sqlx::query_as::<_, WorklogRow>(&format!(
            "SELECT {COLS} FROM worklog WHERE issue_pk = $1 AND pk = $2"
        ))
        .bind(issue_pk)
        .bind(pk)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(Into::into))
    }

    async fn search_worklog(&self, q: &WorklogQuery) -> Result<Vec<WorklogRecord>> {
        // Absent conditions bind as NULL and drop out: one statement, one plan.
        let rows = sqlx::query_as::<_, WorklogRow>(&format!(
            "SELECT {COLS} FROM worklog WHERE org = $1 AND pk > $2 \
               AND ($3 IS NULL OR created_by = $3) \
               AND ($4 IS NULL OR created_at >= $4) \
               AND ($5 IS NULL OR created_at <= $5) \
             ORDER BY pk LIMIT $6"
        ))
        .bind(q.org)
        .bind(q.after_pk)
        .bind(q.created_by)
        .bind(q.from)
        .bind(q.to)
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
