//! Search scrolls: the snapshot a scrolled `_search` walks, kept in the
//! database rather than in a node's memory, so that the next page can be
//! asked of any node behind a load balancer.

use async_trait::async_trait;
use tracker_domain::TokenHash;

use crate::Result;

/// A snapshot to keep: the matching issues in scroll order.
#[derive(Debug, Clone)]
pub struct NewScroll {
    /// The public id (random).
    pub id: String,
    pub org: i64,
    pub uid: i64,
    /// The scroll token handed to the client, which clearing must present.
    pub token_hash: TokenHash,
    /// Issues per page: the snapshot is stored split into pages of this size.
    pub per: i64,
    pub ttl_ms: i64,
    pub pks: Vec<i64>,
}

/// One page of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrollPage {
    pub pks: Vec<i64>,
    /// Issues in the whole snapshot.
    pub total: i64,
    pub per: i64,
    pub ttl_ms: i64,
    /// This was the last page; the snapshot is gone.
    pub last: bool,
}

#[async_trait]
pub trait ScrollStore: Send + Sync + 'static {
    /// Keeps the snapshot until `now_ms + ttl_ms`; forgets expired snapshots
    /// (of anyone) on the way.
    async fn open_scroll(&self, new: &NewScroll, now_ms: i64) -> Result<()>;
    /// The page at `offset` (a multiple of the page size) of the caller's
    /// snapshot, which then lives
    /// `ttl_ms` (the new one if given) from `now_ms`. `None` when there is no
    /// such live snapshot of this caller, or no such page. Reading the last
    /// page closes the snapshot.
    async fn scroll_page(
        &self,
        id: &str,
        org: i64,
        uid: i64,
        offset: i64,
        now_ms: i64,
        ttl_ms: Option<i64>,
    ) -> Result<Option<ScrollPage>>;
    /// Forgets the caller's snapshot if the token is its own; whether it did.
    async fn close_scroll(
        &self,
        id: &str,
        org: i64,
        uid: i64,
        token_hash: &TokenHash,
    ) -> Result<bool>;
}
