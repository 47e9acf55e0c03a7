//! Records of time spent on issues. They are written only together with
//! their issue ([`crate::IssueWrite::worklog`]), so the issue's `spent` and
//! changelog move with them in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct WorklogRecord {
    /// Also the public id: Tracker's worklog ids are numbers.
    pub pk: i64,
    pub org: i64,
    pub issue_pk: i64,
    pub comment: String,
    /// When the work started.
    pub start: DateTime<Utc>,
    /// Business seconds spent (see `tracker_domain::duration`).
    pub seconds: i64,
    pub created_by: i64,
    pub updated_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub enum WorklogWrite {
    Insert(WorklogRecord),
    Update(WorklogRecord),
    Delete(i64),
}

/// The organization-wide worklog search: records by author and by when they
/// were created, oldest first, after a cursor.
#[derive(Debug, Clone, Default)]
pub struct WorklogQuery {
    pub org: i64,
    pub created_by: Option<i64>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created at or before.
    pub to: Option<DateTime<Utc>>,
    /// Records with a greater pk.
    pub after_pk: i64,
    pub limit: i64,
}

#[async_trait]
pub trait WorklogStore: Send + Sync + 'static {
    /// The issue's records, oldest first.
    async fn list_worklog(&self, issue_pk: i64) -> Result<Vec<WorklogRecord>>;
    async fn worklog(&self, issue_pk: i64, pk: i64) -> Result<Option<WorklogRecord>>;
    async fn search_worklog(&self, q: &WorklogQuery) -> Result<Vec<WorklogRecord>>;
}
