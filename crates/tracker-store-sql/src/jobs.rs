//! Job leases, and background jobs and their items (see
//! `tracker_store::JobStore`). An
//! item that changes an issue is completed inside the issue's write
//! ([`SqlStore::complete_item`], called by `write_issue`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

const JOB_SELECT: &str = "SELECT j.pk, j.id, j.org, j.kind, j.created_by, j.created_at, \
    j.payload, j.total, \
    (SELECT count(*) FROM job_items d WHERE d.job_pk = j.pk AND d.state = 'done') AS done, \
    (SELECT count(*) FROM job_items f WHERE f.job_pk = j.pk AND f.state = 'failed') AS failed \
    FROM jobs j";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Marks a job item done inside an issue's write: false (and the caller
    /// rolls the write back) unless `done.owner` still holds it.
    pub(crate) async fn complete_item(
        tx: &mut Transaction<'_, D>,
        issue_pk: i64,
        done: &JobItemDone,
    ) -> Result<bool> {
        let r = Self::exec_on(
            &mut **tx,
            "UPDATE job_items SET state = 'done', issue_pk = $1, finished_at = $2, \
               lease_owner = NULL \
             WHERE pk = $3 AND state = 'pending' AND lease_owner = $4",
            (issue_pk, done.at, done.pk, &done.owner),
        )
        .await?;
        Ok(r == 1)
    }

    async fn job_where(
        &self,
        cond: &str,
        pk: i64,
        org: Option<(i64, &str)>,
    ) -> Result<Option<JobRecord>> {
        let sql = format!("{JOB_SELECT} WHERE {cond}");
        let q = sqlx::query_as::<_, JobRecord>(&sql);
        let q = match org {
            Some((org, id)) => q.bind(org).bind(id.to_owned()),
            None => q.bind(pk),
        };
        q.fetch_optional(&self.pool).await.map_err(db)
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> JobStore for SqlStore<D> {
    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        // Read first, and write only when the lease must change hands or
        // is past half its term: a loop that ticks every second would
        // otherwise commit a write every second, and on PostgreSQL every
        // commit moves the data stamp (`Dialect::data_stamp_sql`), which
        // empties every kept `GET /v2/issues/{key}` answer: half of an idle
        // server's issue reads missed the cache for it. Skipping the write
        // is safe: a lease read as `holder`'s until `expires_ms` cannot be
        // taken by another before then.
        let kept: Option<(String, i64)> = self
            .fetch_optional(
                "SELECT holder, expires_ms FROM job_leases WHERE name = $1",
                (name,),
            )
            .await?;
        match kept {
            Some((h, until)) if h == holder && until.saturating_sub(now_ms) > ttl_ms / 2 => {
                return Ok(true)
            }
            Some((h, until)) if h != holder && until > now_ms => return Ok(false),
            _ => {}
        }
        // One statement: the insert or the takeover happens only where the
        // lease is free, expired or the holder's own, so two nodes racing
        // cannot both get it.
        let got: Option<String> = self
            .optional_scalar(
                "INSERT INTO job_leases (name, holder, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
               expires_ms = excluded.expires_ms \
             WHERE job_leases.expires_ms <= $4 OR job_leases.holder = excluded.holder \
             RETURNING holder",
                (name, holder, now_ms.saturating_add(ttl_ms), now_ms),
            )
            .await?;
        Ok(got.is_some())
    }

    async fn create_job(&self, new: &NewJob) -> Result<JobRecord> {
        let mut tx = self.begin().await?;
        let spec = &new.spec;
        let pk: i64 = Self::scalar_on(
            &mut *tx,
            "INSERT INTO jobs (id, org, kind, created_by, created_at, payload, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING pk",
            (
                &spec.id,
                spec.org,
                &spec.kind,
                spec.created_by,
                spec.created_at,
                &spec.payload,
                new.targets.len() as i64,
            ),
        )
        .await?;
        let targets = new.targets.iter().cloned();
        Self::insert_numbered(&mut tx, "job_items (job_pk, seq, target)", pk, targets).await?;
        tx.commit().await.map_err(db)?;
        self.job_by_pk(pk).await?.ok_or(StoreError::NotFound("job"))
    }

    async fn job(&self, org: i64, id: &str) -> Result<Option<JobRecord>> {
        self.job_where("j.org = $1 AND j.id = $2", 0, Some((org, id)))
            .await
    }

    async fn job_by_pk(&self, pk: i64) -> Result<Option<JobRecord>> {
        self.job_where("j.pk = $1", pk, None).await
    }

    async fn failed_items(
        &self,
        job_pk: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<FailedItem>, i64)> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = self
            .fetch_all(
                "SELECT seq, target, issue_pk, error FROM job_items \
             WHERE job_pk = $1 AND state = 'failed' ORDER BY seq LIMIT $2 OFFSET $3",
                (job_pk, limit, offset),
            )
            .await?;
        let total: i64 = self
            .scalar(
                "SELECT count(*) FROM job_items WHERE job_pk = $1 AND state = 'failed'",
                (job_pk,),
            )
            .await?;
        let items = rows
            .into_iter()
            .map(|(seq, target, issue_pk, error)| FailedItem {
                seq,
                target,
                issue_pk,
                error: error.unwrap_or_default(),
            })
            .collect();
        Ok((items, total))
    }

    async fn claim_items(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedItem>> {
        let mut rows: Vec<(i64, i64, i64, String)> = self
            .claim_leases(
                "UPDATE job_items SET lease_owner = $1, lease_until_ms = $2 WHERE pk IN \
                   (SELECT pk FROM job_items WHERE state = 'pending' AND lease_until_ms <= $3 \
                    ORDER BY job_pk, seq LIMIT $4{skip_locked}) \
                 RETURNING pk, job_pk, seq, target",
                owner,
                now_ms,
                until_ms,
                limit,
            )
            .await?;
        rows.sort_unstable_by_key(|r| (r.1, r.2));
        Ok(rows
            .into_iter()
            .map(|(pk, job_pk, seq, target)| ClaimedItem {
                pk,
                job_pk,
                seq,
                target,
            })
            .collect())
    }

    async fn renew_items(&self, owner: &str, until_ms: i64) -> Result<()> {
        self.exec(
            "UPDATE job_items SET lease_until_ms = $1 WHERE lease_owner = $2 AND state = 'pending'",
            (until_ms, owner),
        )
        .await?;
        Ok(())
    }

    async fn release_items(&self, owner: &str) -> Result<()> {
        self.exec(
            "UPDATE job_items SET lease_owner = NULL, lease_until_ms = 0 \
             WHERE lease_owner = $1 AND state = 'pending'",
            (owner,),
        )
        .await?;
        Ok(())
    }

    async fn close_item(
        &self,
        item_pk: i64,
        owner: &str,
        issue_pk: Option<i64>,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let state = if error.is_some() { "failed" } else { "done" };
        let n = self
            .exec(
                "UPDATE job_items SET state = $1, issue_pk = $2, error = $3, \
                   finished_at = $4, lease_owner = NULL \
                 WHERE pk = $5 AND state = 'pending' AND lease_owner = $6",
                (
                    state,
                    issue_pk,
                    error.map(str::to_owned),
                    at,
                    item_pk,
                    owner,
                ),
            )
            .await?;
        Ok(n == 1)
    }
}
