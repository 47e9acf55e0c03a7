//! Projects, portfolios and goals ("entities"): their fields are one JSON
//! document, and every change is one [`EntityWrite`] (the entity at the
//! version read, its events, and the comment, link or attachment the change
//! makes), written in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Result, WriteOutcome};

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EntityRecord {
    pub pk: i64,
    pub org: i64,
    /// The public id (24 hex digits).
    pub id: String,
    /// `project`, `portfolio` or `goal`.
    pub entity_type: String,
    /// The number the organization's entities of one type are counted by;
    /// a project's id in the older `/v2/projects` API.
    pub short_id: i64,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A JSON object: every field by its key (`summary`, `lead`, …).
    pub fields: String,
}

/// One change in an entity's events log.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EntityEventRecord {
    pub pk: i64,
    pub entity_pk: i64,
    pub id: String,
    pub author: i64,
    pub created_at: DateTime<Utc>,
    pub display: String,
    /// A JSON array of the changed fields.
    pub changes: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EntityCommentRecord {
    pub pk: i64,
    pub entity_pk: i64,
    pub id: String,
    pub text: String,
    /// Stored as one string (see tracker-store-sql's `EntityCommentRow`).
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub summonees: Vec<i64>,
    pub author: i64,
    pub updated_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct EntityLinkRecord {
    pub pk: i64,
    /// The entity the link was made on.
    pub entity_pk: i64,
    pub target_pk: i64,
    /// As seen from `entity_pk`.
    pub relationship: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum EntityCommentWrite {
    Insert(EntityCommentRecord),
    Update(EntityCommentRecord),
    Delete(i64),
}

#[derive(Debug, Clone)]
pub enum EntityLinkWrite {
    Insert(EntityLinkRecord),
    Delete(i64),
}

#[derive(Debug, Clone)]
pub enum EntityAttachmentWrite {
    /// A temporary upload of `uploader` becomes the entity's; fails with
    /// `Invalid` (writing nothing) when it is not one.
    Attach {
        uploader: i64,
        pk: i64,
    },
    Delete(i64),
}

/// An event as a write records it.
#[derive(Debug, Clone)]
pub struct NewEntityEvent {
    pub id: String,
    pub author: i64,
    pub created_at: DateTime<Utc>,
    pub display: String,
    pub changes: String,
}

/// The next state of an entity (`entity.version` is the version it was
/// read at), with what the change adds.
#[derive(Debug, Clone)]
pub struct EntityWrite {
    pub entity: EntityRecord,
    pub events: Vec<NewEntityEvent>,
    pub comment: Option<EntityCommentWrite>,
    pub links: Vec<EntityLinkWrite>,
    pub attachment: Option<EntityAttachmentWrite>,
    /// The bulk-change item this write completes, marked done in the same
    /// transaction (as [`crate::IssueWrite::job_item`]).
    pub job_item: Option<crate::JobItemDone>,
}

#[async_trait]
pub trait EntityStore: Send + Sync + 'static {
    /// Creates the entity with the next short id of its type in the
    /// organization, and its first event.
    async fn create_entity(&self, e: &EntityRecord, event: &NewEntityEvent)
        -> Result<EntityRecord>;
    /// Applies the change if the entity is still at `w.entity.version`,
    /// bumping it by one.
    async fn write_entity(&self, w: &EntityWrite) -> Result<(WriteOutcome, Option<EntityRecord>)>;
    /// Removes the entity and everything of it; false when it was gone.
    async fn delete_entity(&self, org: i64, pk: i64) -> Result<bool>;

    async fn entity(&self, org: i64, id: &str) -> Result<Option<EntityRecord>>;
    async fn entity_by_pk(&self, org: i64, pk: i64) -> Result<Option<EntityRecord>>;
    async fn entity_by_short_id(
        &self,
        org: i64,
        entity_type: &str,
        short_id: i64,
    ) -> Result<Option<EntityRecord>>;
    /// The organization's entities of a type, by short id.
    async fn list_entities(&self, org: i64, entity_type: &str) -> Result<Vec<EntityRecord>>;

    /// The entity's events, oldest first.
    async fn entity_events(&self, entity_pk: i64) -> Result<Vec<EntityEventRecord>>;
    /// The entity's comments after `after_pk`, oldest first, at most `limit`.
    async fn entity_comments(
        &self,
        entity_pk: i64,
        after_pk: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EntityCommentRecord>>;
    async fn entity_comment(&self, entity_pk: i64, pk: i64) -> Result<Option<EntityCommentRecord>>;
    /// Links made on the entity or pointing at it.
    async fn entity_links(&self, entity_pk: i64) -> Result<Vec<EntityLinkRecord>>;
    /// The pks of the attachments of the entity, oldest first.
    async fn entity_attachments(&self, entity_pk: i64) -> Result<Vec<i64>>;
    /// The entity an attachment belongs to, if any.
    async fn entity_of_attachment(
        &self,
        org: i64,
        attachment_pk: i64,
    ) -> Result<Option<EntityRecord>>;
}
