//! The one place that decides whether the caller may touch a queue or an
//! issue: token scope (checked by the [`Principal`] extractor) ∩ the
//! account's rights on the object (checked here). Every handler reaches
//! queues and issues through these checks.

pub mod attachments;
pub mod changes;
pub mod entities;
pub mod entity_fields;
pub mod issue_types;
pub mod issues;
pub mod queues;

use std::collections::HashMap;

use tracker_domain::permissions::{allows, Caller, Grants, IssueRoles, Perm};
use tracker_store::{IssueRecord, QueueRecord};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Per-request memory of the caller's groups and the queues' grants, so a
/// list of issues costs one lookup per queue.
pub struct Guard<'a> {
    state: &'a AppState,
    principal: &'a Principal,
    groups: Option<Vec<i64>>,
    grants: HashMap<i64, Grants>,
    queues: HashMap<i64, Option<QueueRecord>>,
}

impl<'a> Guard<'a> {
    pub fn new(state: &'a AppState, principal: &'a Principal) -> Self {
        Self {
            state,
            principal,
            groups: None,
            grants: HashMap::new(),
            queues: HashMap::new(),
        }
    }

    async fn facts(&mut self, queue_id: i64) -> ApiResult<(Vec<i64>, Grants)> {
        if self.groups.is_none() {
            self.groups = Some(
                self.state
                    .store
                    .groups_of(self.principal.org.id, self.principal.user.uid)
                    .await?,
            );
        }
        if !self.grants.contains_key(&queue_id) {
            let (g, _) = self.state.store.queue_grants(queue_id).await?;
            self.grants.insert(queue_id, g);
        }
        Ok((
            self.groups.clone().unwrap_or_default(),
            self.grants.get(&queue_id).cloned().unwrap_or_default(),
        ))
    }

    /// The queues this guard has read so far: a page of the issues it
    /// checked renders from them rather than looking each up again.
    pub fn queues_read(&self) -> Vec<QueueRecord> {
        self.queues.values().flatten().cloned().collect()
    }

    async fn queue(&mut self, id: i64) -> ApiResult<Option<QueueRecord>> {
        if !self.queues.contains_key(&id) {
            let q = self
                .state
                .store
                .queue_by_id(self.principal.org.id, id)
                .await?;
            self.queues.insert(id, q);
        }
        Ok(self.queues.get(&id).cloned().flatten())
    }

    pub async fn queue_allows(&mut self, queue: &QueueRecord, perm: Perm) -> ApiResult<bool> {
        if self.principal.org_admin {
            return Ok(true);
        }
        let (groups, grants) = self.facts(queue.id).await?;
        let caller = Caller {
            uid: self.principal.user.uid,
            org_admin: false,
            groups: &groups,
        };
        Ok(allows(
            &grants,
            perm,
            &caller,
            queue.lead_uid == self.principal.user.uid,
            IssueRoles::default(),
        ))
    }

    pub async fn issue_allows(&mut self, issue: &IssueRecord, perm: Perm) -> ApiResult<bool> {
        if self.principal.org_admin {
            return Ok(true);
        }
        let Some(queue) = self.queue(issue.queue_id).await? else {
            return Ok(false);
        };
        let (groups, grants) = self.facts(queue.id).await?;
        let uid = self.principal.user.uid;
        let caller = Caller {
            uid,
            org_admin: false,
            groups: &groups,
        };
        let lead = queue.lead_uid == uid;
        let mut roles = IssueRoles {
            author: issue.author == uid,
            assignee: issue.assignee == Some(uid),
            follower: issue.followers.contains(&uid),
            access: false,
        };
        if allows(&grants, perm, &caller, lead, roles) {
            return Ok(true);
        }
        // Only now is the access list worth a query: it can grant through
        // the `access` role, and it always opens the issue for reading.
        let access_counts = perm == Perm::Read
            || grants.subjects(perm).any(|s| {
                *s == tracker_domain::permissions::Subject::Role(
                    tracker_domain::permissions::Role::Access,
                )
            });
        if !access_counts
            || !self
                .state
                .store
                .issue_access(issue.pk)
                .await?
                .contains(&uid)
        {
            return Ok(false);
        }
        roles.access = true;
        Ok(perm == Perm::Read || allows(&grants, perm, &caller, lead, roles))
    }

    pub async fn require_queue(&mut self, queue: &QueueRecord, perm: Perm) -> ApiResult<()> {
        if self.queue_allows(queue, perm).await? {
            Ok(())
        } else {
            Err(forbidden(perm, &format!("queue {}", queue.key)))
        }
    }

    pub async fn require_issue(&mut self, issue: &IssueRecord, perm: Perm) -> ApiResult<()> {
        if self.issue_allows(issue, perm).await? {
            Ok(())
        } else {
            Err(forbidden(perm, &format!("issue {}", issue.key)))
        }
    }
}

fn forbidden(perm: Perm, what: &str) -> ApiError {
    let action = match perm {
        Perm::Create => "create issues in",
        Perm::Read => "read",
        Perm::Write => "change",
        Perm::Grant => "change the settings of",
    };
    ApiError::Forbidden(format!("You do not have permission to {action} {what}"))
}

/// The permission a request needs on the issue it names: reading for reads,
/// writing for everything else (as with token scopes).
pub fn wanted(principal: &Principal) -> Perm {
    match principal.wanted {
        tracker_domain::Scope::Read => Perm::Read,
        tracker_domain::Scope::Write => Perm::Write,
    }
}

/// The row a write just stored, found among `rows`: the write
/// succeeded, so a missing one is the server's fault, not the request's.
pub fn written<T>(
    rows: impl IntoIterator<Item = T>,
    what: &str,
    is_it: impl FnMut(&T) -> bool,
) -> ApiResult<T> {
    rows.into_iter()
        .find(is_it)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("{what} vanished after its write")))
}

/// An object the path names by its number, read by `get`: text that is not
/// a number names nothing, so it is as missing as an unknown number
/// (`{what} {id} not found`).
pub async fn by_number<T, Fut>(what: &str, id: &str, get: impl FnOnce(i64) -> Fut) -> ApiResult<T>
where
    Fut: std::future::Future<Output = tracker_store::Result<Option<T>>>,
{
    let missing = || ApiError::NotFound(format!("{what} {id} not found"));
    let pk = id.parse::<i64>().map_err(|_| missing())?;
    get(pk).await?.ok_or_else(missing)
}
