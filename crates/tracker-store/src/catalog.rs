//! A queue's components and versions: named things issues refer to by id
//! (`components`, `fixVersions`, `affectedVersions`). Which ones an issue
//! refers to is part of the issue ([`crate::IssueRecord`]) and written with
//! it; the things themselves are written here.

use async_trait::async_trait;

use crate::{Result, WriteOutcome};

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ComponentRecord {
    /// Also the public id: Tracker's component ids are numbers.
    pub pk: i64,
    pub org: i64,
    pub queue_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub lead_uid: Option<i64>,
    pub assign_auto: bool,
    pub archived: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct VersionRecord {
    /// Also the public id.
    pub pk: i64,
    pub org: i64,
    pub queue_id: i64,
    pub name: String,
    pub description: Option<String>,
    /// `YYYY-MM-DD`, as the API sends and answers it.
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub released: bool,
    pub archived: bool,
    pub version: i64,
}

/// What deleting a component came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Issues still refer to it (how many).
    InUse(i64),
}

#[async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    /// Fails with `Conflict` when the queue has a component of that name
    /// (names compare ignoring case).
    async fn create_component(&self, new: &ComponentRecord) -> Result<ComponentRecord>;
    async fn component(&self, org: i64, pk: i64) -> Result<Option<ComponentRecord>>;
    /// The organization's components (or one queue's), by id.
    async fn list_components(
        &self,
        org: i64,
        queue_id: Option<i64>,
    ) -> Result<Vec<ComponentRecord>>;
    /// Saves the component if it is still at `c.version`; `Conflict` on a
    /// taken name.
    async fn update_component(&self, c: &ComponentRecord) -> Result<WriteOutcome>;
    /// Deletes the component unless an issue refers to it.
    async fn delete_component(&self, org: i64, pk: i64) -> Result<DeleteOutcome>;

    async fn create_version(&self, new: &VersionRecord) -> Result<VersionRecord>;
    async fn version(&self, org: i64, pk: i64) -> Result<Option<VersionRecord>>;
    async fn list_versions(&self, org: i64, queue_id: Option<i64>) -> Result<Vec<VersionRecord>>;
    async fn update_version(&self, v: &VersionRecord) -> Result<WriteOutcome>;
}
