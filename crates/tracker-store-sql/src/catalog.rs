//! Components and versions of queues.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Binds, Engine, SqlStore, Then};

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
            Then((c.org, c.queue_id), Self::component_columns(c)),
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
            Then(Self::component_columns(c), (c.org, c.pk, c.version)),
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
        let binds = Then((v.org, v.queue_id), Self::version_columns(v));
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
            Then(Self::version_columns(v), (v.org, v.pk, v.version)),
        )
        .await
    }
}

/// What a create and an update both write, after the create's
/// `(org, queue_id)` and before the update's `(org, pk, version)`.
#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    fn component_columns(c: &ComponentRecord) -> impl Binds<'_, D> {
        (
            &c.name,
            &c.description,
            c.lead_uid,
            c.assign_auto,
            c.archived,
        )
    }

    fn version_columns(v: &VersionRecord) -> impl Binds<'_, D> {
        (
            &v.name,
            &v.description,
            &v.start_date,
            &v.due_date,
            v.released,
            v.archived,
        )
    }
}
