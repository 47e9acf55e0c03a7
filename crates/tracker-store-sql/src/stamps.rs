//! Shared reads of the data stamp ([`tracker_store::AccessStore::data_stamp`]).
//!
//! Every `GET /v2/issues/{key}` takes the stamp before anything else, so
//! under load most of what a kept answer costs is that statement: on
//! PostgreSQL a round trip and a backend's work per read. Reads asking at
//! the same time share one statement instead, and stay exact:
//!
//! - A caller is only ever given the result of a statement that *started
//!   after it asked*. A statement already running when it arrives may have
//!   taken its snapshot before a commit the caller has seen (its own write,
//!   answered a moment ago), so the caller waits for the next one, which
//!   every caller arriving meanwhile shares.
//! - So at most one statement runs at a time per store, and a caller waits
//!   at most for the end of the one running and the whole of the next.
//! - The statements run in a task of their own: a caller hanging up cannot
//!   leave the others waiting on a statement nobody drives.
//! - A failed statement is not shared: each of its callers runs the
//!   statement again alone and gets its own answer, error or not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

#[derive(Debug, Default)]
pub(crate) struct Stamps {
    state: Mutex<Round>,
    /// Stamp statements run for shared reads: what the tests compare with
    /// the number of callers.
    statements: AtomicU64,
}

#[derive(Debug, Default)]
struct Round {
    /// Callers waiting for the next statement (none runs yet for them).
    next: Vec<oneshot::Sender<Option<String>>>,
    running: bool,
}

impl Stamps {
    #[cfg(test)]
    pub(crate) fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Round> {
        // Nothing held under this lock can be left half-changed by a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins the next statement; true when the caller must start the task.
    fn join(&self, reply: oneshot::Sender<Option<String>>) -> bool {
        let mut r = self.lock();
        r.next.push(reply);
        !std::mem::replace(&mut r.running, true)
    }

    /// The callers the next statement answers; `None` (and the task ends)
    /// when nobody waits.
    fn take(&self) -> Option<Vec<oneshot::Sender<Option<String>>>> {
        let mut r = self.lock();
        if r.next.is_empty() {
            r.running = false;
            return None;
        }
        Some(std::mem::take(&mut r.next))
    }
}

/// Should the task die (a panic), the callers waiting are answered `None`
/// (their senders dropped), each then runs the statement alone, and the next
/// caller starts a new task.
struct Stopped<'a> {
    stamps: &'a Stamps,
    armed: bool,
}

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut r = self.stamps.lock();
            r.next.clear();
            r.running = false;
        }
    }
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// The data stamp, from a statement that started after this call (see
    /// the module's note).
    pub(crate) async fn shared_data_stamp(&self) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        if self.stamps.join(reply) {
            let store = self.clone();
            tokio::spawn(async move { store.run_stamps().await });
        }
        match answer.await {
            Ok(Some(stamp)) => Ok(stamp),
            _ => self.read_data_stamp().await,
        }
    }

    pub(crate) async fn read_data_stamp(&self) -> Result<String> {
        self.scalar(D::DIALECT.data_stamp_sql(), ()).await
    }

    async fn run_stamps(self) {
        let mut stopped = Stopped {
            stamps: &self.stamps,
            armed: true,
        };
        while let Some(callers) = self.stamps.take() {
            self.stamps.statements.fetch_add(1, Ordering::Relaxed);
            let stamp = match self.read_data_stamp().await {
                Ok(stamp) => Some(stamp),
                Err(e) => {
                    tracing::debug!(error = %e, "a shared data stamp read failed; its callers read alone");
                    None
                }
            };
            for caller in callers {
                // A caller gone by now needs no answer.
                let _ = caller.send(stamp.clone());
            }
        }
        stopped.armed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller arriving while a statement runs is not among those that
    /// statement answers (its snapshot may predate what the caller saw
    /// committed): it waits for the next one, and starts no second task.
    #[test]
    fn a_caller_arriving_while_a_statement_runs_waits_for_the_next_one() {
        let stamps = Stamps::default();
        let (a, _a) = oneshot::channel();
        let (b, _b) = oneshot::channel();
        let (c, _c) = oneshot::channel();
        assert!(stamps.join(a), "the first caller starts the task");
        let running = stamps.take().unwrap();
        assert_eq!(running.len(), 1);
        assert!(!stamps.join(b), "a task already runs");
        assert!(!stamps.join(c));
        let next = stamps.take().unwrap();
        assert_eq!(next.len(), 2, "the next statement answers both");
        assert!(stamps.take().is_none(), "nobody waits: the task ends");
        let (d, _d) = oneshot::channel();
        assert!(stamps.join(d), "the next caller starts a new task");
    }
}
