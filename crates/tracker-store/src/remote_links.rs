//! Links from issues to objects of external applications (Tracker's "remote
//! links"), and the organization's register of those applications. A link
//! is written only together with its issue ([`crate::IssueWrite::remote_link`]),
//! so the issue's version and changelog move with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// An external application of an organization: what a remote link's
/// `origin` names. Registered by the seed or the admin command, never
/// through the API (Tracker has no endpoint to create one either).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ApplicationRecord {
    pub org: i64,
    /// The public id, e.g. `ru.yandex.bitbucket`.
    pub id: String,
    pub app_type: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RemoteLinkRecord {
    /// Also the public id: Tracker's remote link ids are numbers.
    pub pk: i64,
    pub org: i64,
    pub issue_pk: i64,
    /// A link type of `tracker_domain::dictionaries`.
    pub type_id: String,
    /// `outward` or `inward`, seen from the issue.
    pub direction: String,
    /// The application's id.
    pub application: String,
    /// The object's key in the application.
    pub object_key: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum RemoteLinkWrite {
    Insert(RemoteLinkRecord),
    Delete(i64),
}

#[async_trait]
pub trait RemoteLinkStore: Send + Sync + 'static {
    /// The issue's remote links, oldest first.
    async fn list_remote_links(&self, issue_pk: i64) -> Result<Vec<RemoteLinkRecord>>;
    async fn remote_link(&self, issue_pk: i64, pk: i64) -> Result<Option<RemoteLinkRecord>>;

    /// The organization's applications, by id.
    async fn list_applications(&self, org: i64) -> Result<Vec<ApplicationRecord>>;
    async fn application(&self, org: i64, id: &str) -> Result<Option<ApplicationRecord>>;
    /// Creates the application, or updates its type and name.
    async fn put_application(&self, app: &ApplicationRecord) -> Result<ApplicationRecord>;
    /// False when there was no such application. Fails with `Invalid` while
    /// remote links point into it.
    async fn delete_application(&self, org: i64, id: &str) -> Result<bool>;
}
