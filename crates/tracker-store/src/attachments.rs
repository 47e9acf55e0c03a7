//! Files attached to issues and comments. The bytes live in a blob store
//! outside the database; a row names its blob. An upload is first a
//! temporary attachment (no issue) of its uploader, then becomes an
//! issue's (and maybe a comment's) inside that issue's write
//! ([`crate::IssueWrite::attachments`]), so the issue's version and
//! changelog move with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AttachmentRecord {
    /// Also the public id: Tracker's attachment ids are numbers.
    pub pk: i64,
    pub org: i64,
    /// `None` while the upload is temporary.
    pub issue_pk: Option<i64>,
    /// The comment it is attached to, if any (a comment's pk).
    pub comment_pk: Option<i64>,
    pub name: String,
    pub mimetype: String,
    pub size: i64,
    /// The blob's key in the blob store.
    pub blob: String,
    /// An image's `WIDTHxHEIGHT`.
    pub image_size: Option<String>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum AttachmentWrite {
    /// Temporary uploads of `uploader` become the issue's; with
    /// `to_comment`, also the comment this write inserts or updates. Fails
    /// with `Invalid` (and writes nothing) when one of them is not a
    /// temporary upload of `uploader` in the issue's organization.
    Attach {
        uploader: i64,
        pks: Vec<i64>,
        to_comment: bool,
    },
    /// A file uploaded straight to the issue (or, with `comment_pk`, to one
    /// of its comments).
    Insert(AttachmentRecord),
    Delete(i64),
}

#[async_trait]
pub trait AttachmentStore: Send + Sync + 'static {
    /// Records a temporary upload; its pk is assigned.
    async fn insert_temporary_attachment(&self, a: &AttachmentRecord) -> Result<AttachmentRecord>;
    /// The organization's attachment with this pk, temporary or not.
    async fn attachment(&self, org: i64, pk: i64) -> Result<Option<AttachmentRecord>>;
    /// The issue's attachments (its comments' too), oldest first.
    async fn list_attachments(&self, issue_pk: i64) -> Result<Vec<AttachmentRecord>>;
    /// Forgets up to `limit` temporary uploads (of any organization) made
    /// before `before`, answering their blobs' keys.
    async fn expire_temporary_attachments(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>>;
    /// Which of these blob keys a row names.
    async fn known_blobs(&self, keys: &[String]) -> Result<Vec<String>>;
}
