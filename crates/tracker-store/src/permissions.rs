//! Groups, queue grants and issue access lists.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracker_domain::permissions::{Grants, Perm, Role, Subject};

use crate::{Result, StoreError, WriteOutcome};

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    pub id: i64,
    pub org: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub members: Vec<i64>,
}

/// A grant as stored: permission, subject kind, subject.
pub fn encode_grant((perm, subject): &(Perm, Subject)) -> (String, String, String) {
    let (kind, value) = match subject {
        Subject::User(u) => ("user", u.to_string()),
        Subject::Group(g) => ("group", g.to_string()),
        Subject::Role(r) => ("role", r.as_str().to_owned()),
    };
    (perm.as_str().to_owned(), kind.to_owned(), value)
}

pub fn decode_grant(perm: &str, kind: &str, value: &str) -> Result<(Perm, Subject)> {
    let bad = || StoreError::Invalid(format!("grant {perm}/{kind}/{value}"));
    let perm: Perm = perm.parse().map_err(|_| bad())?;
    let subject = match kind {
        "user" => Subject::User(value.parse().map_err(|_| bad())?),
        "group" => Subject::Group(value.parse().map_err(|_| bad())?),
        "role" => Subject::Role(Role::parse(value).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    Ok((perm, subject))
}

#[async_trait]
pub trait PermissionStore: Send + Sync + 'static {
    async fn create_group(
        &self,
        org: i64,
        name: &str,
        members: &[i64],
        at: DateTime<Utc>,
    ) -> Result<GroupRecord>;
    async fn list_groups(&self, org: i64) -> Result<Vec<GroupRecord>>;
    async fn group(&self, org: i64, id: i64) -> Result<Option<GroupRecord>>;
    async fn set_group_members(&self, org: i64, id: i64, members: &[i64]) -> Result<bool>;
    /// The groups of the organization the account is in.
    async fn groups_of(&self, org: i64, uid: i64) -> Result<Vec<i64>>;

    /// The queue's grants and their version.
    async fn queue_grants(&self, queue_id: i64) -> Result<(Grants, i64)>;
    /// Replaces the queue's grants if they are still at `version`.
    async fn set_queue_grants(
        &self,
        queue_id: i64,
        grants: &Grants,
        version: i64,
    ) -> Result<WriteOutcome>;

    async fn issue_access(&self, issue_pk: i64) -> Result<Vec<i64>>;
    async fn set_issue_access(&self, issue_pk: i64, uids: &[i64]) -> Result<()>;
}
