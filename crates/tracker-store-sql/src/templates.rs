//! Issue and comment templates.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const COLS: &str = "pk, org, kind, queue_id, name, description, body, version, created_by, \
    created_at, updated_at";

#[sql_bounds]
#[async_trait]
impl<D: Engine> TemplateStore for SqlStore<D> {
    async fn list_templates(
        &self,
        org: i64,
        kind: &str,
        queue: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TemplateRecord>, i64)> {
        // A queue's list holds its own templates and the organization's.
        let filter = "org = $1 AND kind = $2 AND ($3 IS NULL OR queue_id IS NULL OR queue_id = $3)";
        let sql =
            format!("SELECT {COLS} FROM templates WHERE {filter} ORDER BY pk LIMIT $4 OFFSET $5");
        let rows = self
            .find_all::<TemplateRecord, _>(&sql, (org, kind, queue, limit, offset))
            .await?;
        let total: i64 = self
            .scalar(
                &format!("SELECT COUNT(*) FROM templates WHERE {filter}"),
                (org, kind, queue),
            )
            .await?;
        Ok((rows, total))
    }

    async fn queue_templates(
        &self,
        org: i64,
        kind: &str,
        queue: i64,
    ) -> Result<Vec<TemplateRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM templates WHERE org = $1 AND kind = $2 AND queue_id = $3 ORDER BY pk"
        );
        self.find_all::<TemplateRecord, _>(&sql, (org, kind, queue))
            .await
    }

    async fn template(&self, org: i64, kind: &str, pk: i64) -> Result<Option<TemplateRecord>> {
        let sql = format!("SELECT {COLS} FROM templates WHERE org = $1 AND kind = $2 AND pk = $3");
        self.find::<TemplateRecord, _>(&sql, (org, kind, pk)).await
    }

    async fn create_template(&self, t: &TemplateRecord) -> Result<TemplateRecord> {
        let pk: i64 = self
            .scalar(
                "INSERT INTO templates (org, kind, queue_id, name, description, body, version, \
               created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9) RETURNING pk",
                (
                    t.org,
                    &t.kind,
                    t.queue_id,
                    &t.name,
                    &t.description,
                    &t.body,
                    t.created_by,
                    t.created_at,
                    t.updated_at,
                ),
            )
            .await?;
        self.template(t.org, &t.kind, pk)
            .await?
            .ok_or(StoreError::NotFound("template"))
    }

    async fn update_template(&self, t: &TemplateRecord) -> Result<Option<TemplateRecord>> {
        let r = self
            .exec(
                "UPDATE templates SET queue_id = $1, name = $2, description = $3, body = $4, \
               updated_at = $5, version = version + 1 \
             WHERE org = $6 AND kind = $7 AND pk = $8 AND version = $9",
                (
                    t.queue_id,
                    &t.name,
                    &t.description,
                    &t.body,
                    t.updated_at,
                    t.org,
                    &t.kind,
                    t.pk,
                    t.version,
                ),
            )
            .await?;
        if r == 0 {
            return Ok(None);
        }
        self.template(t.org, &t.kind, t.pk).await
    }

    async fn delete_template(&self, org: i64, kind: &str, pk: i64) -> Result<bool> {
        let r = self
            .exec(
                "DELETE FROM templates WHERE org = $1 AND kind = $2 AND pk = $3",
                (org, kind, pk),
            )
            .await?;
        Ok(r > 0)
    }
}
