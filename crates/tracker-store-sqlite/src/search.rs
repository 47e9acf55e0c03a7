//! Search candidates. Each issue is read back through
//! [`IssueStore::issue_by_pk`] so that one mapping of rows to records
//! serves every read; the search work for large organizations (SQL
//! translation of queries, indexes) replaces this wholesale.

use async_trait::async_trait;
use tracker_store::*;

use crate::{db, SqliteStore};

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search_candidates(
        &self,
        org: i64,
        queue: Option<i64>,
        keys: Option<&[String]>,
    ) -> Result<Vec<IssueRecord>> {
        let mut out = Vec::new();
        if let Some(keys) = keys {
            for key in keys {
                if let Some(issue) = self.issue_by_key_or_id(org, key).await? {
                    if queue.is_none_or(|q| q == issue.queue_id)
                        && !out.iter().any(|i: &IssueRecord| i.pk == issue.pk)
                    {
                        out.push(issue);
                    }
                }
            }
            out.sort_by_key(|i| i.pk);
            return Ok(out);
        }
        let pks: Vec<i64> = sqlx::query_scalar(
            "SELECT pk FROM issues WHERE org = ?1 AND (?2 IS NULL OR queue_id = ?2) ORDER BY pk",
        )
        .bind(org)
        .bind(queue)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        for pk in pks {
            if let Some(issue) = self.issue_by_pk(org, pk).await? {
                out.push(issue);
            }
        }
        Ok(out)
    }
}
