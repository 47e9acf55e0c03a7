//! Global and local field definitions and field categories.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

const FIELD_COLS: &str = "org, id, queue_id, key, name_en, name_ru, description, category, \
    field_type, container, options, ord, readonly, visible, hidden, version";
const CATEGORY_COLS: &str = "org, id, name_en, name_ru, description, ord, version";

#[sql_bounds]
#[async_trait]
impl<D: Engine> FieldStore for SqlStore<D> {
    async fn create_field(&self, f: &FieldRecord) -> Result<FieldRecord> {
        sqlx::query(
            "INSERT INTO custom_fields (org, id, queue_id, key, name_en, name_ru, description, \
               category, field_type, container, options, ord, readonly, visible, hidden, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)",
        )
        .bind(f.org)
        .bind(&f.id)
        .bind(f.queue_id)
        .bind(&f.key)
        .bind(&f.name_en)
        .bind(&f.name_ru)
        .bind(&f.description)
        .bind(&f.category)
        .bind(&f.field_type)
        .bind(f.container)
        .bind(&f.options)
        .bind(f.ord)
        .bind(f.readonly)
        .bind(f.visible)
        .bind(f.hidden)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(FieldRecord {
            version: 1,
            ..f.clone()
        })
    }

    async fn field(&self, org: i64, id: &str) -> Result<Option<FieldRecord>> {
        let sql = format!("SELECT {FIELD_COLS} FROM custom_fields WHERE org = $1 AND id = $2");
        self.find::<FieldRecord, _>(&sql, (org, id)).await
    }

    async fn list_fields(&self, org: i64, queue_id: Option<i64>) -> Result<Vec<FieldRecord>> {
        let sql = match queue_id {
            None => format!(
                "SELECT {FIELD_COLS} FROM custom_fields WHERE org = $1 AND queue_id IS NULL \
                 ORDER BY ord, id"
            ),
            Some(q) => format!(
                "SELECT {FIELD_COLS} FROM custom_fields WHERE org = $1 AND queue_id = {q} \
                 ORDER BY ord, id"
            ),
        };
        self.find_all::<FieldRecord, _>(&sql, (org,)).await
    }

    async fn update_field(&self, f: &FieldRecord) -> Result<WriteOutcome> {
        let r = sqlx::query(
            "UPDATE custom_fields SET name_en = $1, name_ru = $2, description = $3, \
               category = $4, options = $5, ord = $6, readonly = $7, visible = $8, hidden = $9, \
               version = version + 1 \
             WHERE org = $10 AND id = $11 AND version = $12",
        )
        .bind(&f.name_en)
        .bind(&f.name_ru)
        .bind(&f.description)
        .bind(&f.category)
        .bind(&f.options)
        .bind(f.ord)
        .bind(f.readonly)
        .bind(f.visible)
        .bind(f.hidden)
        .bind(f.org)
        .bind(&f.id)
        .bind(f.version)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(if D::rows_affected(&r) == 0 {
            WriteOutcome::VersionConflict
        } else {
            WriteOutcome::Written
        })
    }

    async fn create_field_category(&self, c: &FieldCategoryRecord) -> Result<FieldCategoryRecord> {
        sqlx::query(
            "INSERT INTO field_categories (org, id, name_en, name_ru, description, ord, version) \
             VALUES ($1, $2, $3, $4, $5, $6, 1)",
        )
        .bind(c.org)
        .bind(&c.id)
        .bind(&c.name_en)
        .bind(&c.name_ru)
        .bind(&c.description)
        .bind(c.ord)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(FieldCategoryRecord {
            version: 1,
            ..c.clone()
        })
    }

    async fn field_category(&self, org: i64, id: &str) -> Result<Option<FieldCategoryRecord>> {
        let sql =
            format!("SELECT {CATEGORY_COLS} FROM field_categories WHERE org = $1 AND id = $2");
        self.find::<FieldCategoryRecord, _>(&sql, (org, id)).await
    }

    async fn list_field_categories(&self, org: i64) -> Result<Vec<FieldCategoryRecord>> {
        let sql =
            format!("SELECT {CATEGORY_COLS} FROM field_categories WHERE org = $1 ORDER BY ord, id");
        self.find_all::<FieldCategoryRecord, _>(&sql, (org,)).await
    }
}
