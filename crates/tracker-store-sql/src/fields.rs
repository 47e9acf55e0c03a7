//! Global and local field definitions and field categories.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const FIELD_COLS: &str = "org, id, queue_id, key, name_en, name_ru, description, category, \
    field_type, container, options, ord, readonly, visible, hidden, version";
const CATEGORY_COLS: &str = "org, id, name_en, name_ru, description, ord, version";

#[sql_bounds]
#[async_trait]
impl<D: Engine> FieldStore for SqlStore<D> {
    async fn create_field(&self, f: &FieldRecord) -> Result<FieldRecord> {
        // The stored record comes back: the given one at version 1.
        self.one::<FieldRecord, _>(
            &format!(
                "INSERT INTO custom_fields (org, id, queue_id, key, name_en, name_ru, \
                   description, category, field_type, container, options, ord, readonly, \
                   visible, hidden, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1) \
                 RETURNING {FIELD_COLS}"
            ),
            (
                f.org,
                &f.id,
                f.queue_id,
                &f.key,
                &f.name_en,
                &f.name_ru,
                &f.description,
                &f.category,
                &f.field_type,
                f.container,
                &f.options,
                f.ord,
                f.readonly,
                f.visible,
                f.hidden,
            ),
        )
        .await
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
        self.update_versioned(
            "UPDATE custom_fields SET name_en = $1, name_ru = $2, description = $3, \
               category = $4, options = $5, ord = $6, readonly = $7, visible = $8, hidden = $9, \
               version = version + 1 \
             WHERE org = $10 AND id = $11 AND version = $12",
            (
                &f.name_en,
                &f.name_ru,
                &f.description,
                &f.category,
                &f.options,
                f.ord,
                f.readonly,
                f.visible,
                f.hidden,
                f.org,
                &f.id,
                f.version,
            ),
        )
        .await
    }

    async fn create_field_category(&self, c: &FieldCategoryRecord) -> Result<FieldCategoryRecord> {
        let sql = format!(
            "INSERT INTO field_categories (org, id, name_en, name_ru, description, ord, version) \
             VALUES ($1, $2, $3, $4, $5, $6, 1) RETURNING {CATEGORY_COLS}"
        );
        let binds = (c.org, &c.id, &c.name_en, &c.name_ru, &c.description, c.ord);
        self.one::<FieldCategoryRecord, _>(&sql, binds).await
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
