//! Components and versions of queues.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const COMPONENT_COLS: &str =
    "pk, org, queue_id, name, description, lead_uid, assign_auto, archived, version";
const VERSION_COLS: &str = "pk, org, queue_id, name, description, start_date, due_date, \
    released, archived, version";

#[sql_bounds]
#[async_trait]
impl<D: Engine> CatalogStore for SqlStore<D> {
    async fn create_component(&self, c: &ComponentRecord) -> Result<ComponentRecord> {
        // The stored record comes back: the given one with its pk, at
        // version 1.
        self.one::<ComponentRecord, _>(
            &format!(
                "INSERT INTO components (org, queue_id, name, description, lead_uid, \
                   assign_auto, archived, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
                 RETURNING {COMPONENT_COLS}"
            ),
            (
                c.org,
                c.queue_id,
                &c.name,
                &c.description,
                c.lead_uid,
                c.assign_auto,
                c.archived,
            ),
        )
        .await
    }

    async fn component(&self, org: i64, pk: i64) -> Result<Option<ComponentRecord>> {
        self.by_pk("components", COMPONENT_COLS, org, pk).await
    }

    async fn list_components(
        &self,
        org: i64,
        queue_id: Option<i64>,
    ) -> Result<Vec<ComponentRecord>> {
        self.list_under("components", COMPONENT_COLS, org, ("queue_id", queue_id))
            .await
    }

    async fn update_component(&self, c: &ComponentRecord) -> Result<WriteOutcome> {
        self.update_versioned(
            "UPDATE components SET name = $1, description = $2, lead_uid = $3, \
               assign_auto = $4, archived = $5, version = version + 1 \
             WHERE org = $6 AND pk = $7 AND version = $8",
            (
                &c.name,
                &c.description,
                c.lead_uid,
                c.assign_auto,
                c.archived,
                c.org,
                c.pk,
                c.version,
            ),
        )
        .await
    }

    async fn delete_component(&self, org: i64, pk: i64) -> Result<DeleteOutcome> {
        let mut tx = self.begin().await?;
        let used: i64 = Self::scalar_on(
            &mut *tx,
            "SELECT count(*) FROM issue_components WHERE component_pk = $1",
            (pk,),
        )
        .await?;
        if used > 0 {
            return Ok(DeleteOutcome::InUse(used));
        }
        let r = Self::delete_by_pk_and_commit(tx, "components", org, pk).await?;
        Ok(if r == 0 {
            DeleteOutcome::NotFound
        } else {
            DeleteOutcome::Deleted
        })
    }

    async fn create_version(&self, v: &VersionRecord) -> Result<VersionRecord> {
        let sql = format!(
            "INSERT INTO versions (org, queue_id, name, description, start_date, due_date, \
               released, archived, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1) \
             RETURNING {VERSION_COLS}"
        );
        let binds = (
            v.org,
            v.queue_id,
            &v.name,
            &v.description,
            &v.start_date,
            &v.due_date,
            v.released,
            v.archived,
        );
        self.one::<VersionRecord, _>(&sql, binds).await
    }

    async fn version(&self, org: i64, pk: i64) -> Result<Option<VersionRecord>> {
        self.by_pk("versions", VERSION_COLS, org, pk).await
    }

    async fn list_versions(&self, org: i64, queue_id: Option<i64>) -> Result<Vec<VersionRecord>> {
        self.list_under("versions", VERSION_COLS, org, ("queue_id", queue_id))
            .await
    }

    async fn update_version(&self, v: &VersionRecord) -> Result<WriteOutcome> {
        self.update_versioned(
            "UPDATE versions SET name = $1, description = $2, start_date = $3, due_date = $4, \
               released = $5, archived = $6, version = version + 1 \
             WHERE org = $7 AND pk = $8 AND version = $9",
            (
                &v.name,
                &v.description,
                &v.start_date,
                &v.due_date,
                v.released,
                v.archived,
                v.org,
                v.pk,
                v.version,
            ),
        )
        .await
    }
}
