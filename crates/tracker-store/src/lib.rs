//! The storage interface of trackerd.
//!
//! The server talks only to [`Store`]; each backend (SQLite, PostgreSQL) is a
//! crate of its own with its own migrations. Every method that touches
//! organization data takes the organization's internal id, so a caller cannot
//! reach across organizations by accident.

mod attachments;
mod automation;
mod catalog;
mod emulator;
mod entities;
mod federation;
mod fields;
mod issues;
mod jobs;
mod model;
mod oauth;
mod permissions;
mod remote_links;
mod scrolls;
mod search;
mod sprints;
mod templates;
mod worklog;

use async_trait::async_trait;
pub use attachments::*;
pub use automation::*;
pub use catalog::*;
pub use emulator::*;
pub use entities::*;
pub use federation::*;
pub use fields::*;
pub use issues::*;
pub use jobs::*;
pub use model::*;
pub use oauth::*;
pub use permissions::*;
pub use remote_links::*;
pub use scrolls::*;
pub use search::*;
pub use sprints::*;
pub use templates::*;
use tracker_domain::TokenHash;
pub use worklog::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Lets code converting rows treat a conversion that cannot fail like one
/// that can.
impl From<std::convert::Infallible> for StoreError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// Declares [`Store`] over the area traits and implements it for every type
/// that has them all: the list of areas is written once.
macro_rules! store {
    ($($area:ident),+ $(,)?) => {
        /// Everything a backend provides. Each area of the model is a trait of
        /// its own, implemented in its own file of each backend; callers hold
        /// an `Arc<dyn Store>` and call any area's methods on it.
        pub trait Store: $($area +)+ {}

        impl<T> Store for T where T: $($area +)+ {}
    };
}

store!(
    AccessStore,
    IssueStore,
    PermissionStore,
    SearchStore,
    OAuthStore,
    WorklogStore,
    CatalogStore,
    RemoteLinkStore,
    ScrollStore,
    AttachmentStore,
    FieldStore,
    TemplateStore,
    JobStore,
    AutomationStore,
    EntityStore,
    SprintStore,
    FederationStore,
    EmulatorStore,
);

/// A connection pool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, in use or idle.
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Organizations, accounts, tokens and the first queue calls.
#[async_trait]
pub trait AccessStore: Send + Sync + 'static {
    /// A short name for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Brings the schema up to date. Safe to call from several nodes at once.
    async fn migrate(&self) -> Result<()>;

    /// A round trip to the database (readiness probes).
    async fn ping(&self) -> Result<()>;

    /// The connection pool's state now (metrics).
    fn pool_stats(&self) -> PoolStats;

    /// Closes the pool: every later call fails. Waits for the connections
    /// in use to be given back.
    async fn close(&self);

    // Organizations.
    async fn organization_count(&self) -> Result<i64>;
    async fn create_organization(&self, new: &NewOrganization) -> Result<Organization>;
    /// Creates the organization, or updates its name and cloud id.
    async fn upsert_organization(&self, new: &NewOrganization) -> Result<Organization>;
    async fn organization_by_org_id(&self, org_id: &str) -> Result<Option<Organization>>;
    async fn organization_by_cloud_id(&self, cloud_id: &str) -> Result<Option<Organization>>;
    async fn list_organizations(&self) -> Result<Vec<Organization>>;

    // Users (accounts) and their memberships.
    async fn create_user(&self, new: &NewUser) -> Result<User>;
    /// Creates the account, or updates its profile fields.
    async fn upsert_user(&self, new: &NewUser) -> Result<User>;
    async fn user_by_login(&self, login: &str) -> Result<Option<User>>;
    async fn user_by_uid(&self, uid: i64) -> Result<Option<User>>;
    /// Adds the account to the organization, or updates its admin flag.
    async fn put_membership(&self, org: i64, uid: i64, admin: bool) -> Result<()>;
    async fn membership(&self, org: i64, uid: i64) -> Result<Option<Membership>>;
    /// Every organization the account belongs to.
    async fn memberships_of(&self, uid: i64) -> Result<Vec<Membership>>;
    /// A page of the organization's members ordered by uid, and their total.
    async fn list_members(&self, org: i64, offset: i64, limit: i64) -> Result<(Vec<User>, i64)>;
    async fn record_login(&self, uid: i64, at: chrono::DateTime<chrono::Utc>) -> Result<()>;

    // Tokens.
    async fn insert_token(&self, new: &NewToken) -> Result<TokenRecord>;
    /// Inserts the token, or updates the scopes and expiry of the token with
    /// that hash (seeds are applied again and again).
    async fn upsert_token(&self, new: &NewToken) -> Result<TokenRecord>;
    /// The token with this hash together with the state of its parent.
    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>>;
    async fn list_tokens(&self, uid: i64) -> Result<Vec<TokenRecord>>;
    /// Revokes a token and all tokens derived from it; bumps the auth epoch.
    /// Returns false when there was no live token with that id.
    async fn revoke_token(&self, id: i64, at: chrono::DateTime<chrono::Utc>) -> Result<bool>;

    /// A counter every change that can take access away increases; nodes
    /// compare it to drop their cached authentications.
    async fn auth_epoch(&self) -> Result<i64>;
    async fn bump_auth_epoch(&self) -> Result<i64>;

    /// A mark of the data's state as of now: equal marks mean nothing was
    /// committed in between, by this process or any other (another node, an
    /// admin command). Taken before a read, it tells later whether what that
    /// read saw is still what the database holds.
    async fn data_stamp(&self) -> Result<String>;

    // Queues.
    async fn create_queue(&self, org: i64, new: &NewQueue) -> Result<QueueRecord>;
    /// Creates the queue, or updates its name and lead.
    async fn upsert_queue(&self, org: i64, new: &NewQueue) -> Result<QueueRecord>;
    async fn queue_by_key(&self, org: i64, key: &str) -> Result<Option<QueueRecord>>;
    async fn queue_by_id(&self, org: i64, id: i64) -> Result<Option<QueueRecord>>;
    async fn list_queues(
        &self,
        org: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<QueueRecord>, i64)>;
}
