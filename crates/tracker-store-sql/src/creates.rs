//! Group commit of issue creates: creates that arrive while another batch
//! is being written share the next transaction, so a burst of N creates
//! costs one `BEGIN`/`COMMIT` (and on SQLite one write-lock hand-over and
//! one WAL append of the touched pages) instead of N, and one counter
//! update per queue instead of one per issue.
//!
//! - No waiting for company: a create that finds no batch running starts
//!   one at once, alone. Only creates arriving while a batch is written
//!   wait, for the next one (at most [`MAX_BATCH`] each).
//! - Each create is answered after the commit of the transaction holding
//!   it, never before.
//! - A create that fails inside a batch (a taken `unique`, an attachment
//!   another request attached first, a queue deleted meanwhile) must fail
//!   alone: the batch is rolled back whole and written again split, around
//!   the create at fault when that is known, else in halves, until the one
//!   at fault is written alone and answered with its own outcome. Keys stay
//!   gapless because the counters roll back with it.
//! - The issues of a batch are written a statement for all of them, their
//!   changelog entries another, each kind of set another
//!   (`SqlStore::insert_many`): a few round trips for the batch, not a few
//!   per issue.
//! - The batch runs in a task of its own, not in any request's future: a
//!   client hanging up cannot cut a transaction in half or leave the
//!   committer stuck; its create is written and the answer dropped.
//! - Several nodes on one PostgreSQL: counters are taken with the queue's
//!   row locked until commit (as a lone create does), queues in id order so
//!   two nodes' batches never deadlock over two queues.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::handoff::Handoff;
use crate::{db, Engine, SqlStore};

/// The most creates one transaction holds: bounds the time the first of a
/// batch waits for the last, and the locks one transaction holds.
pub const MAX_BATCH: usize = 64;

/// The creates waiting for the next batch, and whether a batch task runs.
#[derive(Debug, Default)]
pub(crate) struct Creates {
    waiting: Handoff<Pending>,
    /// Transactions that wrote creates (a batch or one alone): what the
    /// tests compare with the number of creates.
    transactions: AtomicU64,
}

#[derive(Debug)]
struct Pending {
    new: NewIssue,
    reply: oneshot::Sender<Result<IssueRecord>>,
}

impl Creates {
    #[cfg(test)]
    pub(crate) fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }
}

fn gone() -> StoreError {
    StoreError::Database("the create's batch ended without an answer".into())
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Creates the issue in the next batch (see the module's note).
    pub(crate) async fn create_grouped(&self, new: &NewIssue) -> Result<IssueRecord> {
        let (reply, answer) = oneshot::channel();
        let start = self.creates.waiting.push(Pending {
            new: new.clone(),
            reply,
        });
        if start {
            let store = self.clone();
            tokio::spawn(async move { store.run_batches().await });
        }
        answer.await.map_err(|_| gone())?
    }

    async fn run_batches(self) {
        let running = self.creates.waiting.running();
        while let Some(batch) = self.creates.waiting.take(MAX_BATCH) {
            self.commit_batch(batch).await;
        }
        running.finished();
    }

    async fn commit_batch(&self, batch: Vec<Pending>) {
        // Groups to write in order; a failed batch splits into the creates
        // before the one that failed (a batch again), that one alone, and
        // those after it (a batch again): creation order is kept.
        let mut groups = VecDeque::from([batch]);
        while let Some(mut group) = groups.pop_front() {
            if group.len() == 1 {
                for p in group {
                    let r = self.import_issue(&p.new, None).await;
                    self.creates.transactions.fetch_add(1, Ordering::Relaxed);
                    let _ = p.reply.send(r);
                }
                continue;
            }
            let news: Vec<&NewIssue> = group.iter().map(|p| &p.new).collect();
            match self.write_batch(&news).await {
                Ok(Ok(created)) => {
                    for (p, issue) in group.into_iter().zip(created) {
                        // A client gone by now still has its issue.
                        let _ = p.reply.send(Ok(issue));
                    }
                }
                Ok(Err(commit)) => {
                    // Written or not is unknown after a failed COMMIT:
                    // writing them again could create each twice.
                    tracing::warn!(error = %commit, n = group.len(), "committing a batch of creates failed");
                    let message = commit.to_string();
                    for p in group {
                        let _ = p
                            .reply
                            .send(Err(StoreError::Database(message.clone().into())));
                    }
                }
                Err((failed, e)) => {
                    tracing::debug!(error = %e, n = group.len(), "a batch of creates failed; splitting it");
                    match failed {
                        Some(k) => {
                            let after = group.split_off(k + 1);
                            let alone = group.split_off(k);
                            for g in [after, alone, group] {
                                if !g.is_empty() {
                                    groups.push_front(g);
                                }
                            }
                        }
                        // Whose fault is unknown: a statement written for
                        // them all failed (a `unique` taken), or something
                        // of none of them (the counters, BEGIN). Halved, the
                        // creates without fault are still written in
                        // batches, and the one at fault is found alone in a
                        // few rounds.
                        None => {
                            let second = group.split_off(group.len() / 2);
                            groups.push_front(second);
                            groups.push_front(group);
                        }
                    }
                }
            }
        }
    }

    /// Writes the creates in one transaction: `Err` when something failed
    /// before the commit (nothing written), with the index of the create
    /// that failed if it was one's; `Ok(Err)` when the commit failed
    /// (outcome unknown).
    async fn write_batch(
        &self,
        news: &[&NewIssue],
    ) -> Result<Result<Vec<IssueRecord>>, (Option<usize>, StoreError)> {
        let mut per_queue: BTreeMap<(i64, i64), i64> = BTreeMap::new();
        for n in news {
            *per_queue
                .entry((n.issue.queue_id, n.issue.org))
                .or_default() += 1;
        }
        let mut tx = self.begin().await.map_err(|e| (None, e))?;
        // (queue, org) → (queue key, next number)
        let mut next: BTreeMap<(i64, i64), (String, i64)> = BTreeMap::new();
        for (&(queue_id, org), &count) in &per_queue {
            let (last, key) = Self::take_numbers(&mut tx, org, queue_id, count)
                .await
                .map_err(|e| (None, e))?;
            next.insert((queue_id, org), (key, last - count + 1));
        }
        let mut keyed = Vec::with_capacity(news.len());
        for n in news {
            let i = &n.issue;
            let (queue_key, number) = next
                .get_mut(&(i.queue_id, i.org))
                .ok_or((None, StoreError::NotFound("queue")))?;
            keyed.push((*n, format!("{queue_key}-{number}")));
            *number += 1;
        }
        let written: Vec<(&NewIssue, &str)> = keyed.iter().map(|(n, k)| (*n, k.as_str())).collect();
        let pks = Self::insert_many(&mut tx, &written).await?;
        let created: Vec<IssueRecord> = keyed
            .into_iter()
            .zip(pks)
            .map(|((n, key), pk)| {
                crate::issues::created_record(&n.issue, pk, key, D::DIALECT.microsecond_times())
            })
            .collect();
        let committed = tx.commit().await;
        self.creates.transactions.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = committed {
            return Ok(Err(db(e)));
        }
        for _ in &created {
            self.issue_created().await;
        }
        Ok(Ok(created))
    }
}
