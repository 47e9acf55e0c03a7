//! Background jobs: periodic jobs that must run on one node at a time
//! (leases by name), and bulk changes and whatever else runs in the background,
//! one row per job and one per object it changes ("items"). Items are
//! claimed with a lease by whichever node asks first; an item that changes
//! an issue is marked done inside the issue's own write
//! ([`crate::IssueWrite::job_item`]), so an issue is changed exactly once
//! however many nodes work on a job and whichever of them dies.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// What a job was asked to do, and by whom.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct JobSpec {
    /// The public id.
    pub id: String,
    pub org: i64,
    /// What the job does, e.g. `issues.update`.
    pub kind: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    /// The job's parameters, JSON.
    pub payload: String,
}

/// A job to create with its items, in one transaction.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub spec: JobSpec,
    /// What each item names, in order (issue keys or ids as sent).
    pub targets: Vec<String>,
}

/// A job and how far it has come.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct JobRecord {
    pub pk: i64,
    #[cfg_attr(feature = "sqlx", sqlx(flatten))]
    pub spec: JobSpec,
    pub total: i64,
    /// Items done (changed) and failed so far.
    pub done: i64,
    pub failed: i64,
}

impl JobRecord {
    /// Items finished either way.
    pub fn finished(&self) -> i64 {
        self.done + self.failed
    }
}

/// An item a node has claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedItem {
    pub pk: i64,
    pub job_pk: i64,
    pub seq: i64,
    pub target: String,
}

/// A failed item, as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedItem {
    pub seq: i64,
    pub target: String,
    pub issue_pk: Option<i64>,
    /// The error envelope, JSON.
    pub error: String,
}

/// The claim an issue write completes: the item is marked done in the
/// write's transaction, and the write is undone unless `owner` still holds
/// the item's lease (another node took it over after the lease expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobItemDone {
    pub pk: i64,
    pub owner: String,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`:
    /// `true` when `holder` has it (it was free, expired, or already
    /// `holder`'s), `false` when another holder's lease is still running.
    /// A lease of `holder`'s with more than half of `ttl_ms` still to run is
    /// left as it is (nothing is written: see the SQL store's note).
    async fn claim_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64)
        -> Result<bool>;

    async fn create_job(&self, new: &NewJob) -> Result<JobRecord>;
    /// The organization's job with this public id, with its progress.
    async fn job(&self, org: i64, id: &str) -> Result<Option<JobRecord>>;
    /// A job by internal key (for the worker), with its progress.
    async fn job_by_pk(&self, pk: i64) -> Result<Option<JobRecord>>;
    /// A page of the job's failed items in order, and how many there are.
    async fn failed_items(
        &self,
        job_pk: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<FailedItem>, i64)>;
    /// Leases up to `limit` pending items whose lease is free or expired at
    /// `now_ms` to `owner` until `until_ms`, oldest jobs first. Two nodes
    /// asking at once never get the same item.
    async fn claim_items(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedItem>>;
    /// Extends the leases `owner` holds on pending items.
    async fn renew_items(&self, owner: &str, until_ms: i64) -> Result<()>;
    /// Gives up `owner`'s leases (a node shutting down), so another node can
    /// take the items at once.
    async fn release_items(&self, owner: &str) -> Result<()>;
    /// Finishes the item without an issue write if `owner` still holds it:
    /// failed with `error` (an envelope, JSON), or done with nothing to
    /// change (an edit that leaves the issue as it was). Whether it did.
    async fn close_item(
        &self,
        item_pk: i64,
        owner: &str,
        issue_pk: Option<i64>,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool>;
}
