//! Remote links (written inside an issue's write, [`IssueStore::write_issue`])
//! and the organization's external applications.

use async_trait::async_trait;
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const LINK_SELECT: &str = "SELECT pk, org, issue_pk, type_id, direction, application, object_key, \
    created_by, created_at FROM remote_links";

const APP_SELECT: &str = "SELECT org, id, app_type, name, created_at FROM applications";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Applies a link's change inside the issue's transaction.
    pub(crate) async fn write_remote_link(
        tx: &mut Transaction<'_, D>,
        issue_pk: i64,
        w: &RemoteLinkWrite,
    ) -> Result<()> {
        match w {
            RemoteLinkWrite::Insert(l) => {
                let sql = "INSERT INTO remote_links (org, issue_pk, type_id, direction, \
                   application, object_key, created_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
                let binds = (
                    l.org,
                    issue_pk,
                    &l.type_id,
                    &l.direction,
                    &l.application,
                    &l.object_key,
                    l.created_by,
                    l.created_at,
                );
                Self::exec_on(&mut **tx, sql, binds).await?
            }
            RemoteLinkWrite::Delete(pk) => {
                Self::delete_owned(tx, "remote_links", "issue_pk", *pk, issue_pk).await?
            }
        };
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> RemoteLinkStore for SqlStore<D> {
    async fn list_remote_links(&self, issue_pk: i64) -> Result<Vec<RemoteLinkRecord>> {
        let sql = format!("{LINK_SELECT} WHERE issue_pk = $1 ORDER BY pk");
        self.find_all::<RemoteLinkRecord, _>(&sql, (issue_pk,))
            .await
    }

    async fn remote_link(&self, issue_pk: i64, pk: i64) -> Result<Option<RemoteLinkRecord>> {
        let sql = format!("{LINK_SELECT} WHERE issue_pk = $1 AND pk = $2");
        self.find::<RemoteLinkRecord, _>(&sql, (issue_pk, pk)).await
    }

    async fn list_applications(&self, org: i64) -> Result<Vec<ApplicationRecord>> {
        let sql = format!("{APP_SELECT} WHERE org = $1 ORDER BY id");
        self.find_all::<ApplicationRecord, _>(&sql, (org,)).await
    }

    async fn application(&self, org: i64, id: &str) -> Result<Option<ApplicationRecord>> {
        let sql = format!("{APP_SELECT} WHERE org = $1 AND id = $2");
        self.find::<ApplicationRecord, _>(&sql, (org, id)).await
    }

    async fn put_application(&self, app: &ApplicationRecord) -> Result<ApplicationRecord> {
        // The first registration's time is kept: seeds are applied again and again.
        let sql = "INSERT INTO applications (org, id, app_type, name, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org, id) DO UPDATE SET app_type = excluded.app_type, name = excluded.name \
             RETURNING org, id, app_type, name, created_at";
        let binds = (
            app.org,
            app.id.as_str(),
            app.app_type.as_str(),
            app.name.as_str(),
            app.created_at,
        );
        self.find::<ApplicationRecord, _>(sql, binds)
            .await?
            .ok_or(StoreError::NotFound("application"))
    }

    async fn delete_application(&self, org: i64, id: &str) -> Result<bool> {
        let r = self
            .exec(
                "DELETE FROM applications WHERE org = $1 AND id = $2",
                (org, id),
            )
            .await?;
        Ok(r > 0)
    }
}
