//! Fields an organization defines beyond Tracker's system fields: global
//! fields, a queue's local fields, and the categories fields belong to.
//! Issues keep their values in `extra` under the field's id; a definition
//! says which values are valid.

use async_trait::async_trait;

use crate::{Result, WriteOutcome};

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FieldRecord {
    pub org: i64,
    /// The public id: the key for a global field, `<prefix>--<key>` for a
    /// local one.
    pub id: String,
    /// The queue of a local field; `None` for a global one.
    pub queue_id: Option<i64>,
    pub key: String,
    pub name_en: String,
    pub name_ru: String,
    pub description: Option<String>,
    /// A category id: one of Tracker's built-in ones or the organization's.
    pub category: String,
    /// Tracker's type class, e.g. `ru.yandex.startrek.core.fields.StringFieldType`.
    pub field_type: String,
    /// Whether the field holds a list of values.
    pub container: bool,
    /// The `optionsProvider` object as JSON text.
    pub options: Option<String>,
    pub ord: i64,
    pub readonly: bool,
    pub visible: bool,
    pub hidden: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FieldCategoryRecord {
    pub org: i64,
    pub id: String,
    pub name_en: String,
    pub name_ru: String,
    pub description: Option<String>,
    pub ord: i64,
    pub version: i64,
}

#[async_trait]
pub trait FieldStore: Send + Sync + 'static {
    /// Fails with `Conflict` when the id, or the key among the same
    /// fields (global, or the queue's local ones), is taken.
    async fn create_field(&self, new: &FieldRecord) -> Result<FieldRecord>;
    async fn field(&self, org: i64, id: &str) -> Result<Option<FieldRecord>>;
    /// The organization's global fields (`queue_id: None`) or one queue's
    /// local fields, in their order.
    async fn list_fields(&self, org: i64, queue_id: Option<i64>) -> Result<Vec<FieldRecord>>;
    /// Saves the field if it is still at `f.version`.
    async fn update_field(&self, f: &FieldRecord) -> Result<WriteOutcome>;

    async fn create_field_category(&self, new: &FieldCategoryRecord)
        -> Result<FieldCategoryRecord>;
    async fn field_category(&self, org: i64, id: &str) -> Result<Option<FieldCategoryRecord>>;
    async fn list_field_categories(&self, org: i64) -> Result<Vec<FieldCategoryRecord>>;
}
