//! The background worker: every node runs one. It claims pending items of
//! background jobs (bulk changes) from the database under a lease, applies
//! each through the same path a single-issue request takes
//! ([`crate::access::changes`], [`crate::access::issues::write_outcome`]) as
//! the job's creator, and records each item's end. An issue's change and
//! its item's "done" mark are one transaction that only commits while this
//! node still holds the item, so each issue is changed once however many
//! nodes work on a job; a node that dies leaves leases that expire, and
//! whichever node claims the items next goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracker_domain::permissions::Perm;
use tracker_domain::{Scope, Scopes, TokenKind};
use tracker_store::{ClaimedItem, JobItemDone, JobRecord, WriteOutcome};

use crate::access;
use crate::access::changes::{self, Edit};
use crate::access::issues::{find_queue, load_for, pause, too_fast, write_outcome, ATTEMPTS};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The kinds of job this worker runs; the `kind` column of a job.
pub const BULK_UPDATE: &str = "issues.update";
pub const BULK_TRANSITION: &str = "issues.transition";
pub const BULK_MOVE: &str = "issues.move";
/// `/v2/entities/{type}/bulkchange/_update`.
pub const ENTITIES_UPDATE: &str = "entities.update";
/// Every kind, for the bulk-change endpoints that report them.
pub const KINDS: [&str; 4] = [BULK_UPDATE, BULK_TRANSITION, BULK_MOVE, ENTITIES_UPDATE];

/// A bulk change's parameters, kept with the job (its `payload`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPayload {
    /// The organization's public id, to act in it as its member again.
    pub org_id: String,
    /// The token the change was asked with (for the record).
    pub token_id: i64,
    #[serde(default)]
    pub values: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<String>,
    /// The target queue's key (a move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default)]
    pub move_all_fields: bool,
    #[serde(default)]
    pub initial_status: bool,
    /// An entity bulk change: the kind of entity, the comment and the links
    /// each gets (`values` then holds its fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
}

/// Stops the worker: it finishes the item in hand, gives up its leases and
/// ends.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker, unless the configuration leaves it off.
    pub fn spawn(state: AppState) -> Option<Self> {
        if !state.config.jobs.worker {
            return None;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(state, stopped));
        Some(Worker { stop, task })
    }

    /// Asks the worker to stop and waits for it, at most `deadline`.
    pub async fn stop(mut self, deadline: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(deadline, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("the job worker did not stop in time: aborting it");
            self.task.abort();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(state: AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let cfg = state.config.jobs.clone();
    // A fresh owner name per run: a restarted node does not mistake the
    // leases of its former life for its own.
    let owner = format!("{:016x}", rand::random::<u64>());
    let poll = Duration::from_millis(cfg.poll_interval_ms);
    let lease = i64::try_from(cfg.lease_ms).unwrap_or(i64::MAX / 2);
    let batch = i64::try_from(cfg.batch_size).unwrap_or(100);
    while !*stopped.borrow() {
        let now = state.clock.now().timestamp_millis();
        let claimed = state
            .store
            .claim_items(&owner, now, now.saturating_add(lease), batch)
            .await;
        match claimed {
            Ok(items) if !items.is_empty() => {
                run_batch(&state, &owner, lease, items, &stopped).await;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "claiming job items failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => {}
        }
    }
    if let Err(e) = state.store.release_items(&owner).await {
        tracing::warn!(error = %e, "releasing job items failed; their leases will expire");
    }
}

/// A job as the worker acts on it: its creator (or why they can no longer
/// act) and its parameters.
struct JobCx {
    job: JobRecord,
    payload: BulkPayload,
    creator: Result<Principal, String>,
}

async fn run_batch(
    state: &AppState,
    owner: &str,
    lease: i64,
    items: Vec<ClaimedItem>,
    stopped: &tokio::sync::watch::Receiver<bool>,
) {
    let mut jobs: HashMap<i64, Option<Arc<JobCx>>> = HashMap::new();
    let mut renewed = Instant::now();
    let renew_every = Duration::from_millis(u64::try_from(lease / 3).unwrap_or(1).max(1));
    for item in items {
        if *stopped.borrow() {
            return;
        }
        if renewed.elapsed() >= renew_every {
            let until = state.clock.now().timestamp_millis().saturating_add(lease);
            if let Err(e) = state.store.renew_items(owner, until).await {
                tracing::warn!(error = %e, "renewing job leases failed");
            }
            renewed = Instant::now();
        }
        let cx = match jobs.get(&item.job_pk) {
            Some(cx) => cx.clone(),
            None => {
                let cx = match job_cx(state, item.job_pk).await {
                    Ok(cx) => cx.map(Arc::new),
                    Err(e) => {
                        tracing::warn!(error = %e, job = item.job_pk, "reading a job failed");
                        continue;
                    }
                };
                jobs.insert(item.job_pk, cx.clone());
                cx
            }
        };
        let Some(cx) = cx else { continue };
        finish(state, owner, &cx, &item).await;
    }
}

async fn job_cx(state: &AppState, pk: i64) -> ApiResult<Option<JobCx>> {
    let Some(job) = state.store.job_by_pk(pk).await? else {
        return Ok(None);
    };
    let payload: BulkPayload = serde_json::from_str(&job.spec.payload)
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e).context("a job's payload")))?;
    let creator = creator(state, &job, &payload).await?;
    Ok(Some(JobCx {
        job,
        payload,
        creator,
    }))
}

/// The job's creator as a caller writing in the job's organization, as
/// they are now: someone who left the organization (or was disabled) since
/// changes nothing more.
async fn creator(
    state: &AppState,
    job: &JobRecord,
    payload: &BulkPayload,
) -> ApiResult<Result<Principal, String>> {
    let gone = || Err("The author of the bulk change can no longer change issues".to_owned());
    let Some(user) = state.store.user_by_uid(job.spec.created_by).await? else {
        return Ok(gone());
    };
    let Some(org) = state.store.organization_by_org_id(&payload.org_id).await? else {
        return Ok(gone());
    };
    let Some(membership) = state.store.membership(org.id, user.uid).await? else {
        return Ok(gone());
    };
    if user.dismissed || org.id != job.spec.org {
        return Ok(gone());
    }
    Ok(Ok(Principal {
        user: Arc::new(user),
        org: Arc::new(org),
        scopes: Scopes::READ_WRITE,
        org_admin: membership.admin,
        token_id: payload.token_id,
        token_kind: TokenKind::OAuth,
        wanted: Scope::Write,
        authenticated: None,
    }))
}

/// What became of one item.
enum End {
    /// Changed (or left as it was: nothing to change), and marked done.
    Done,
    /// Another node holds it now.
    Taken,
}

/// One claimed item as this node works on it.
struct Work<'a> {
    state: &'a AppState,
    owner: &'a str,
    item: &'a ClaimedItem,
}

impl Work<'_> {
    /// Closes the item (see `close_item`): for the issue or entity
    /// `target_pk` when known, and failed with `error` or done.
    async fn close(
        &self,
        target_pk: Option<i64>,
        error: Option<&str>,
    ) -> tracker_store::Result<bool> {
        let at = self.state.clock.now();
        self.state
            .store
            .close_item(self.item.pk, self.owner, target_pk, error, at)
            .await
    }

    /// The item's "done" mark, dated now, committed with its target's change.
    fn done(&self) -> JobItemDone {
        JobItemDone {
            pk: self.item.pk,
            owner: self.owner.to_owned(),
            at: self.state.clock.now(),
        }
    }
}

async fn finish(state: &AppState, owner: &str, cx: &JobCx, item: &ClaimedItem) {
    let work = Work { state, owner, item };
    let outcome = match &cx.creator {
        Ok(principal) => apply(&work, cx, principal).await,
        Err(why) => Err((None, ApiError::Forbidden(why.clone()))),
    };
    let count = |outcome| {
        if let Some(metrics) = &state.metrics {
            metrics.job_item(outcome);
        }
    };
    let (issue_pk, error) = match outcome {
        Ok(End::Done) => return count("done"),
        Ok(End::Taken) => return count("taken"),
        // The database failed, not the change: the item stays pending and
        // is tried again once its lease expires.
        Err((_, e @ ApiError::Internal(_))) => {
            tracing::warn!(error = %e, job = %cx.job.spec.id, "a job item failed; it will be retried");
            return count("retry");
        }
        Err((pk, e)) => (pk, e),
    };
    count("failed");
    let envelope = serde_json::to_string(&error.envelope()).unwrap_or_default();
    if let Err(e) = work.close(issue_pk, Some(&envelope)).await {
        tracing::warn!(error = %e, "recording a failed job item failed; it will be retried");
    }
}

type ItemError = (Option<i64>, ApiError);

/// Applies one item as the creator would by hand: the issue loaded through
/// the access rules, the change computed by the single-issue logic, written
/// together with the item's completion (again on a lost race).
async fn apply(work: &Work<'_>, cx: &JobCx, principal: &Principal) -> Result<End, ItemError> {
    if cx.job.spec.kind == ENTITIES_UPDATE {
        return apply_entity(work, cx, principal).await;
    }
    let (state, item) = (work.state, work.item);
    let p = &cx.payload;
    for attempt in 0..ATTEMPTS {
        let issue = load_for(state, principal, &item.target, Perm::Write)
            .await
            .map_err(|e| (None, e))?;
        let pk = issue.pk;
        let failed = |e| (Some(pk), e);
        let w = match cx.job.spec.kind.as_str() {
            BULK_UPDATE => match changes::update(state, principal, issue, &p.values, &[])
                .await
                .map_err(failed)?
            {
                Edit::Write(w) => *w,
                Edit::Unchanged(_) => {
                    work.close(Some(pk), None)
                        .await
                        .map_err(|e| failed(e.into()))?;
                    return Ok(End::Done);
                }
            },
            BULK_TRANSITION => {
                let id = p.transition.as_deref().unwrap_or_default();
                changes::transition(state, principal, issue, id, &p.values)
                    .await
                    .map_err(failed)?
            }
            BULK_MOVE => {
                let key = Value::String(p.queue.clone().unwrap_or_default());
                let queue = find_queue(state, principal.org.id, &key)
                    .await
                    .map_err(failed)?
                    .map_err(|e| failed(ApiError::field("queue", e)))?;
                changes::move_to(state, principal, issue, &queue, &p.values)
                    .await
                    .map_err(failed)?
            }
            other => {
                return Err(failed(ApiError::internal(anyhow::anyhow!(
                    "a job of unknown kind {other}"
                ))))
            }
        };
        let mut w = w;
        w.job_item = Some(work.done());
        match write_outcome(state, w).await.map_err(failed)? {
            Ok(_) => return Ok(End::Done),
            Err(WriteOutcome::ItemTaken) => return Ok(End::Taken),
            Err(_) => pause(attempt).await,
        }
    }
    Err((None, too_fast()))
}

/// Applies one entity of an entity bulk change as its creator's edit
/// request would (the same [`access::entities::edit`]), completing the item in the
/// entity's write.
async fn apply_entity(
    work: &Work<'_>,
    cx: &JobCx,
    principal: &Principal,
) -> Result<End, ItemError> {
    let (state, item) = (work.state, work.item);
    let p = &cx.payload;
    let kind = p.entity_type.as_deref().unwrap_or_default();
    for attempt in 0..ATTEMPTS {
        let e = access::entities::load_for(state, principal, kind, &item.target, Perm::Write)
            .await
            .map_err(|e| (None, e))?;
        let pk = e.pk;
        let failed = |e| (Some(pk), e);
        let links = match &p.links {
            Some(l) => access::entities::parse_links(state, principal, &e, l)
                .await
                .map_err(failed)?,
            None => Vec::new(),
        };
        let mut w =
            access::entities::edit(state, principal, e, &p.values, p.comment.clone(), links)
                .await
                .map_err(failed)?;
        if w.events.is_empty() {
            work.close(Some(pk), None)
                .await
                .map_err(|e| failed(e.into()))?;
            return Ok(End::Done);
        }
        w.job_item = Some(work.done());
        match state
            .store
            .write_entity(&w)
            .await
            .map_err(|e| failed(e.into()))?
        {
            (WriteOutcome::Written, _) => return Ok(End::Done),
            (WriteOutcome::ItemTaken, _) => return Ok(End::Taken),
            (WriteOutcome::VersionConflict, _) => pause(attempt).await,
        }
    }
    Err((None, too_fast()))
}
