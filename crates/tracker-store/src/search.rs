//! What issue search needs from storage: the issues a search may look at.
//!
//! The query language is evaluated in memory by the server (crate
//! `tracker-query`); the store only narrows the candidates by the criteria
//! every backend indexes (organization, queue, keys). A trait of its own so
//! that each backend implements it in its own file.

use async_trait::async_trait;

use crate::{IssueRecord, Result};

#[async_trait]
pub trait SearchStore: Send + Sync + 'static {
    /// The organization's issues, only those of `queue` when given and only
    /// those named by `keys` (current keys or keys they had before a move)
    /// when given, in creation order. Deleted queues' issues are included:
    /// the caller decides what a search may show.
    async fn search_candidates(
        &self,
        org: i64,
        queue: Option<i64>,
        keys: Option<&[String]>,
    ) -> Result<Vec<IssueRecord>>;
}
