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
//! - The statements run in a task of their own (src/handoff.rs): a caller
//!   hanging up cannot leave the others waiting on a statement nobody
//!   drives.
//! - A failed statement is not shared: each of its callers runs the
//!   statement again alone and gets its own answer, error or not.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::handoff::Handoff;
use crate::{Engine, SqlStore};

#[derive(Debug, Default)]
pub(crate) struct Stamps {
    /// Callers waiting for the next statement (none runs yet for them).
    waiting: Handoff<oneshot::Sender<Option<String>>>,
    /// Stamp statements run for shared reads: what the tests compare with
    /// the number of callers.
    statements: AtomicU64,
}

impl Stamps {
    #[cfg(test)]
    pub(crate) fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// The data stamp, from a statement that started after this call (see
    /// the module's note).
    pub(crate) async fn shared_data_stamp(&self) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        if self.stamps.waiting.push(reply) {
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
        let running = self.stamps.waiting.running();
        // Every caller waiting is answered by the next statement.
        while let Some(callers) = self.stamps.waiting.take(usize::MAX) {
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
        running.finished();
    }
}
