//! Records of time spent: written inside an issue's write
//! ([`IssueStore::write_issue`]), read here.

use async_trait::async_trait;
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const SELECT: &str = "SELECT pk, org, issue_pk, comment, start_at AS start, seconds, created_by, \
    updated_by, created_at, updated_at, version FROM worklog";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Applies a record's change inside the issue's transaction.
    pub(crate) async fn write_worklog(
        tx: &mut Transaction<'_, D>,
        issue_pk: i64,
        w: &WorklogWrite,
    ) -> Result<()> {
        match w {
            WorklogWrite::Insert(r) => {
                let sql = "INSERT INTO worklog (org, issue_pk, comment, start_at, seconds, \
                   created_by, updated_by, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)";
                let binds = (
                    r.org,
                    issue_pk,
                    &r.comment,
                    r.start,
                    r.seconds,
                    r.created_by,
                    r.updated_by,
                    r.created_at,
                    r.updated_at,
                );
                Self::exec_on(&mut **tx, sql, binds).await?
            }
            WorklogWrite::Update(r) => {
                let sql = "UPDATE worklog SET comment = $1, start_at = $2, seconds = $3, \
                   updated_by = $4, updated_at = $5, version = version + 1 \
                   WHERE pk = $6 AND issue_pk = $7";
                let binds = (
                    &r.comment,
                    r.start,
                    r.seconds,
                    r.updated_by,
                    r.updated_at,
                    r.pk,
                    issue_pk,
                );
                Self::exec_on(&mut **tx, sql, binds).await?
            }
            WorklogWrite::Delete(pk) => {
                Self::delete_owned(tx, "worklog", "issue_pk", *pk, issue_pk).await?
            }
        };
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> WorklogStore for SqlStore<D> {
    async fn list_worklog(&self, issue_pk: i64) -> Result<Vec<WorklogRecord>> {
        let sql = format!("{SELECT} WHERE issue_pk = $1 ORDER BY pk");
        self.find_all::<WorklogRecord, _>(&sql, (issue_pk,)).await
    }

    async fn worklog(&self, issue_pk: i64, pk: i64) -> Result<Option<WorklogRecord>> {
        let sql = format!("{SELECT} WHERE issue_pk = $1 AND pk = $2");
        self.find::<WorklogRecord, _>(&sql, (issue_pk, pk)).await
    }

    async fn search_worklog(&self, q: &WorklogQuery) -> Result<Vec<WorklogRecord>> {
        // Absent conditions bind as NULL and drop out: one statement, one plan.
        let sql = format!(
            "{SELECT} WHERE org = $1 AND pk > $2 \
               AND ($3 IS NULL OR created_by = $3) \
               AND ($4 IS NULL OR created_at >= $4) \
               AND ($5 IS NULL OR created_at <= $5) \
             ORDER BY pk LIMIT $6"
        );
        let binds = (q.org, q.after_pk, q.created_by, q.from, q.to, q.limit);
        self.find_all::<WorklogRecord, _>(&sql, binds).await
    }
}
