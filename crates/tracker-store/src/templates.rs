//! Issue and comment templates: what Tracker serves at `/issueTemplates`
//! and `/commentTemplates`, organization-wide or bound to a queue; boards and
//! saved filters are kept the same way (kinds `board` and `filter`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct TemplateRecord {
    /// Also the public id: Tracker's template ids are numbers.
    pub pk: i64,
    pub org: i64,
    /// `issue` or `comment`.
    pub kind: String,
    /// The queue the template belongs to; `None` for the whole organization.
    pub queue_id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    /// The kind's own content as a JSON object.
    pub body: String,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TemplateRecord {
    /// A new, empty object of `kind`, made by `created_by` at `now`.
    pub fn new(org: i64, kind: &str, created_by: i64, now: DateTime<Utc>) -> Self {
        TemplateRecord {
            pk: 0,
            org,
            kind: kind.to_owned(),
            queue_id: None,
            name: String::new(),
            description: None,
            body: "{}".into(),
            version: 1,
            created_by,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The kind of the templates that are a queue's triggers, counted with
/// every queue read ([`QueueRecord::triggers`](crate::QueueRecord::triggers)).
pub const TRIGGER_KIND: &str = "trigger";

#[async_trait]
pub trait TemplateStore: Send + Sync + 'static {
    /// A page of the organization's templates of `kind`, oldest first, and
    /// their total. With `queue`, those of that queue and those of none.
    async fn list_templates(
        &self,
        org: i64,
        kind: &str,
        queue: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<TemplateRecord>, i64)>;
    /// The templates of `kind` that belong to the queue itself (not the
    /// organization's), oldest first, all of them: what a write to one of
    /// its issues fires. One statement, no total: it runs on every write.
    async fn queue_templates(
        &self,
        org: i64,
        kind: &str,
        queue: i64,
    ) -> Result<Vec<TemplateRecord>>;
    async fn template(&self, org: i64, kind: &str, pk: i64) -> Result<Option<TemplateRecord>>;
    /// Inserts the template (`pk` and `version` are assigned).
    async fn create_template(&self, t: &TemplateRecord) -> Result<TemplateRecord>;
    /// Saves the template if it is still at `t.version`, bumping it; `None`
    /// when someone changed or removed it first.
    async fn update_template(&self, t: &TemplateRecord) -> Result<Option<TemplateRecord>>;
    /// False when there was no such template.
    async fn delete_template(&self, org: i64, kind: &str, pk: i64) -> Result<bool>;
}
