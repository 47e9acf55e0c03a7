//! Groups, queue grants and issue access lists.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Transaction;
use tracker_domain::permissions::Grants;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

const INSERT_MEMBER: &str =
    "INSERT INTO group_members (group_id, uid) VALUES ($1, $2) ON CONFLICT DO NOTHING";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Gives a queue without grants the defaults every new queue gets.
    pub(crate) async fn ensure_default_grants(
        tx: &mut Transaction<'_, D>,
        queue_id: i64,
    ) -> Result<()> {
        let n: i64 = Self::scalar_on(
            &mut **tx,
            "SELECT COUNT(*) FROM queue_grants WHERE queue_id = $1",
            (queue_id,),
        )
        .await?;
        if n == 0 {
            Self::insert_grants(tx, queue_id, &Grants::queue_defaults()).await?;
        }
        Ok(())
    }

    async fn insert_grants(
        tx: &mut Transaction<'_, D>,
        queue_id: i64,
        grants: &Grants,
    ) -> Result<()> {
        for g in &grants.0 {
            let (perm, kind, subject) = encode_grant(g);
            Self::exec_on(
                &mut **tx,
                "INSERT INTO queue_grants (queue_id, permission, subject_kind, subject) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                (queue_id, perm, kind, subject),
            )
            .await?;
        }
        Ok(())
    }

    async fn members(&self, group: i64) -> Result<Vec<i64>> {
        self.scalars(
            "SELECT uid FROM group_members WHERE group_id = $1 ORDER BY uid",
            (group,),
        )
        .await
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> PermissionStore for SqlStore<D> {
    async fn create_group(
        &self,
        org: i64,
        name: &str,
        uids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<GroupRecord> {
        let mut tx = self.begin().await?;
        let id: i64 = Self::scalar_on(
            &mut *tx,
            "INSERT INTO groups (org, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            (org, name, at),
        )
        .await?;
        Self::insert_each::<i64>(&mut tx, INSERT_MEMBER, id, uids).await?;
        tx.commit().await.map_err(db)?;
        self.group(org, id)
            .await?
            .ok_or(StoreError::NotFound("group"))
    }

    async fn list_groups(&self, org: i64) -> Result<Vec<GroupRecord>> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = self
            .fetch_all(
                "SELECT id, name, created_at FROM groups WHERE org = $1 ORDER BY id",
                (org,),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, name, created_at) in rows {
            out.push(GroupRecord {
                id,
                org,
                name,
                created_at,
                members: self.members(id).await?,
            });
        }
        Ok(out)
    }

    async fn group(&self, org: i64, id: i64) -> Result<Option<GroupRecord>> {
        let row: Option<(String, DateTime<Utc>)> = self
            .fetch_optional(
                "SELECT name, created_at FROM groups WHERE org = $1 AND id = $2",
                (org, id),
            )
            .await?;
        match row {
            Some((name, created_at)) => Ok(Some(GroupRecord {
                id,
                org,
                name,
                created_at,
                members: self.members(id).await?,
            })),
            None => Ok(None),
        }
    }

    async fn set_group_members(&self, org: i64, id: i64, uids: &[i64]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let exists: Option<i64> = Self::optional_scalar_on(
            &mut *tx,
            "SELECT id FROM groups WHERE org = $1 AND id = $2",
            (org, id),
        )
        .await?;
        if exists.is_none() {
            return Ok(false);
        }
        Self::exec_on(
            &mut *tx,
            "DELETE FROM group_members WHERE group_id = $1",
            (id,),
        )
        .await?;
        Self::insert_each::<i64>(&mut tx, INSERT_MEMBER, id, uids).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn groups_of(&self, org: i64, uid: i64) -> Result<Vec<i64>> {
        self.scalars(
            "SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.id \
             WHERE g.org = $1 AND m.uid = $2 ORDER BY g.id",
            (org, uid),
        )
        .await
    }

    async fn queue_grants(&self, queue_id: i64) -> Result<(Grants, i64)> {
        let version: i64 = self
            .optional_scalar(
                "SELECT grants_version FROM queues WHERE id = $1",
                (queue_id,),
            )
            .await?
            .ok_or(StoreError::NotFound("queue"))?;
        let rows: Vec<(String, String, String)> = self
            .fetch_all(
                "SELECT permission, subject_kind, subject FROM queue_grants WHERE queue_id = $1 \
             ORDER BY permission, subject_kind, subject",
                (queue_id,),
            )
            .await?;
        let grants = rows
            .iter()
            .map(|(p, k, s)| decode_grant(p, k, s))
            .collect::<Result<Vec<_>>>()?;
        Ok((Grants(grants), version))
    }

    async fn set_queue_grants(
        &self,
        queue_id: i64,
        grants: &Grants,
        version: i64,
    ) -> Result<WriteOutcome> {
        let mut tx = self.begin().await?;
        let bumped = Self::exec_on(
            &mut *tx,
            "UPDATE queues SET grants_version = grants_version + 1 \
             WHERE id = $1 AND grants_version = $2",
            (queue_id, version),
        )
        .await?;
        if bumped == 0 {
            return Ok(WriteOutcome::VersionConflict);
        }
        Self::exec_on(
            &mut *tx,
            "DELETE FROM queue_grants WHERE queue_id = $1",
            (queue_id,),
        )
        .await?;
        Self::insert_grants(&mut tx, queue_id, grants).await?;
        tx.commit().await.map_err(db)?;
        Ok(WriteOutcome::Written)
    }

    async fn issue_access(&self, issue_pk: i64) -> Result<Vec<i64>> {
        self.scalars(
            "SELECT uid FROM issue_access WHERE issue_pk = $1 ORDER BY uid",
            (issue_pk,),
        )
        .await
    }

    async fn set_issue_access(&self, issue_pk: i64, uids: &[i64]) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::exec_on(
            &mut *tx,
            "DELETE FROM issue_access WHERE issue_pk = $1",
            (issue_pk,),
        )
        .await?;
        let sql = "INSERT INTO issue_access (issue_pk, uid) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        Self::insert_each::<i64>(&mut tx, sql, issue_pk, uids).await?;
        tx.commit().await.map_err(db)
    }
}
