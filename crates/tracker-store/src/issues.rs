//! Issues and everything hanging off them: comments, links, the changelog.
//!
//! Every change to an issue goes through [`IssueStore::write_issue`]: the
//! caller computes the issue's next state, and the store writes it together
//! with its side effects (a comment, a link, a remote link, attachments, changelog entries) in one
//! transaction, only if the issue is still at the version the caller read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

// The lists are read from their own tables (see tracker-store-sql's
// `IssueRow`), hence `skip`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct IssueRecord {
    /// Internal key; never leaves the server.
    pub pk: i64,
    /// The public id: 24 hex digits.
    pub id: String,
    pub org: i64,
    pub queue_id: i64,
    pub key: String,
    pub version: i64,
    pub summary: String,
    pub description: Option<String>,
    pub issue_type: String,
    pub priority: String,
    pub status: String,
    pub previous_status: Option<String>,
    pub resolution: Option<String>,
    pub assignee: Option<i64>,
    pub author: i64,
    pub updated_by: i64,
    pub parent_pk: Option<i64>,
    #[cfg_attr(feature = "sqlx", sqlx(rename = "unique_key"))]
    pub unique: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub status_start_time: DateTime<Utc>,
    pub last_comment_updated_at: Option<DateTime<Utc>>,
    pub comment_count: i64,
    pub votes: i64,
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub followers: Vec<i64>,
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub tags: Vec<String>,
    /// Components of the issue's queue ([`crate::ComponentRecord`] pks).
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub components: Vec<i64>,
    /// Versions of the issue's queue ([`crate::VersionRecord`] pks).
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub fix_versions: Vec<i64>,
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub affected_versions: Vec<i64>,
    /// Fields without a column of their own, as a JSON object.
    pub extra: String,
    /// Keys the issue had in queues it was moved out of.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub aliases: Vec<String>,
}

impl IssueRecord {
    /// A new issue of `queue` as its author leaves it before any field is
    /// set: the queue's default type and priority, the initial status, made
    /// and last changed by `author` at `at`.
    pub fn fresh(
        id: String,
        org: i64,
        queue: &crate::QueueRecord,
        author: i64,
        at: DateTime<Utc>,
        unique: Option<String>,
    ) -> Self {
        IssueRecord {
            pk: 0,
            id,
            org,
            queue_id: queue.id,
            key: String::new(),
            version: 1,
            summary: String::new(),
            description: None,
            issue_type: queue.default_type.clone(),
            priority: queue.default_priority.clone(),
            status: tracker_domain::dictionaries::INITIAL_STATUS.to_owned(),
            previous_status: None,
            resolution: None,
            assignee: None,
            author,
            updated_by: author,
            parent_pk: None,
            unique,
            created_at: at,
            updated_at: at,
            resolved_at: None,
            status_start_time: at,
            last_comment_updated_at: None,
            comment_count: 0,
            votes: 0,
            followers: Vec::new(),
            tags: Vec::new(),
            components: Vec::new(),
            fix_versions: Vec::new(),
            affected_versions: Vec::new(),
            extra: "{}".into(),
            aliases: Vec::new(),
        }
    }
}

/// A new issue; its key and number come from the queue's counter.
#[derive(Debug, Clone)]
pub struct NewIssue {
    /// The issue as it will be, except `pk`, `key` and `version`.
    pub issue: IssueRecord,
    pub changelog: NewChangelog,
    /// Temporary uploads that become the new issue's.
    pub attachments: Option<crate::AttachmentWrite>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct CommentRecord {
    pub pk: i64,
    pub id: String,
    pub issue_pk: i64,
    pub text: String,
    /// Stored as one string (see tracker-store-sql's `CommentRow`).
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
pub struct LinkRecord {
    pub pk: i64,
    pub org: i64,
    pub type_id: String,
    /// The issue the link was created on: it sees the outward side.
    pub source_pk: i64,
    pub target_pk: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    /// The same as the creation unless the link was imported with its own.
    pub updated_by: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ChangelogRecord {
    pub pk: i64,
    pub issue_pk: i64,
    #[cfg_attr(feature = "sqlx", sqlx(flatten))]
    pub entry: NewChangelog,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct NewChangelog {
    pub id: String,
    pub kind: String,
    pub updated_by: i64,
    pub updated_at: DateTime<Utc>,
    /// `[{"field": "status", "from": …, "to": …}, …]` with raw values.
    pub fields: String,
    /// Extra data: the comment or link the entry is about, as JSON.
    pub data: String,
}

#[derive(Debug, Clone)]
pub enum CommentWrite {
    Insert(CommentRecord),
    Update(CommentRecord),
    Delete(i64),
}

#[derive(Debug, Clone)]
pub enum LinkWrite {
    Insert(LinkRecord),
    Delete(i64),
}

/// One change to an issue and its side effects, applied atomically.
#[derive(Debug, Clone)]
pub struct IssueWrite {
    /// The issue's next state; `version` is the one the caller read.
    pub issue: IssueRecord,
    pub changelog: Vec<(i64, NewChangelog)>,
    pub comment: Option<CommentWrite>,
    pub link: Option<LinkWrite>,
    pub worklog: Option<crate::WorklogWrite>,
    pub remote_link: Option<crate::RemoteLinkWrite>,
    pub attachments: Option<crate::AttachmentWrite>,
    /// When the issue moves to another queue: its new queue's id. The store
    /// allocates the new key and keeps the old one as an alias.
    pub move_to_queue: Option<(i64, String)>,
    /// The background job item this write completes (a bulk change's issue):
    /// marked done in the same transaction, or nothing is written.
    pub job_item: Option<crate::JobItemDone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// Someone else changed the issue first.
    VersionConflict,
    /// The job item ([`IssueWrite::job_item`]) is no longer this node's to
    /// complete: another node took it over, or finished it. Nothing was
    /// written.
    ItemTaken,
}

#[derive(Debug, Clone, Default)]
pub struct ChangelogQuery {
    /// Entries after this id (cursor).
    pub after: Option<String>,
    pub limit: i64,
    pub field: Option<String>,
    pub kind: Option<String>,
}

#[async_trait]
pub trait IssueStore: Send + Sync + 'static {
    /// Creates the issue with the queue's next key. Fails with `Conflict`
    /// when `unique` is taken in the organization.
    async fn create_issue(&self, new: &NewIssue) -> Result<IssueRecord>;
    /// Creates an imported issue: with `key`, under that key (its number is
    /// taken from the queue's counter, which moves past it), else as
    /// [`IssueStore::create_issue`]. Fails with `Conflict` when the key (or
    /// a former key) or `unique` is taken in the organization.
    async fn import_issue(&self, new: &NewIssue, key: Option<(&str, i64)>) -> Result<IssueRecord>;
    /// The issue with this key (current or former) or public id.
    async fn issue_by_key_or_id(&self, org: i64, key_or_id: &str) -> Result<Option<IssueRecord>>;
    async fn issue_by_pk(&self, org: i64, pk: i64) -> Result<Option<IssueRecord>>;
    async fn issue_by_unique(&self, org: i64, unique: &str) -> Result<Option<IssueRecord>>;
    /// Applies the change if the issue is still at `write.issue.version`,
    /// bumping it by one.
    async fn write_issue(&self, write: &IssueWrite) -> Result<(WriteOutcome, Option<IssueRecord>)>;

    async fn list_comments(
        &self,
        issue_pk: i64,
        after_pk: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CommentRecord>>;
    async fn comment(&self, issue_pk: i64, id_or_pk: &str) -> Result<Option<CommentRecord>>;

    /// Links where the issue is either end.
    async fn list_links(&self, issue_pk: i64) -> Result<Vec<LinkRecord>>;
    async fn link(&self, issue_pk: i64, pk: i64) -> Result<Option<LinkRecord>>;

    async fn list_changelog(
        &self,
        issue_pk: i64,
        q: &ChangelogQuery,
    ) -> Result<Vec<ChangelogRecord>>;

    /// Marks the queue deleted at `at`, or restores it (`None`). False when
    /// it already was in that state.
    async fn set_queue_deleted(
        &self,
        org: i64,
        queue_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool>;
    async fn issue_count_in_queue(&self, queue_id: i64) -> Result<i64>;
    /// Saves the queue's editable settings if it is still at `q.version`.
    async fn update_queue(&self, q: &crate::QueueRecord) -> Result<WriteOutcome>;
    /// Tags used by the queue's issues, sorted.
    async fn queue_tags(&self, queue_id: i64) -> Result<Vec<String>>;
    /// The pks of the queue's issues that carry `tag`, in order.
    async fn issues_with_tag(&self, queue_id: i64, tag: &str) -> Result<Vec<i64>>;
}
