//! Periodic jobs that must run on one node at a time, whichever nodes share
//! the database.

use async_trait::async_trait;

use crate::Result;

#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`:
    /// `true` when `holder` has it (it was free, expired, or already
    /// `holder`'s), `false` when another holder's lease is still running.
    async fn claim_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64)
        -> Result<bool>;
}
