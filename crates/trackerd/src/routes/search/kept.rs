//! What every search of an organization reads before its own statements
//! (the queues with their grants, to know what the caller may read; the
//! members, when the query names people), kept per organization with the
//! data stamp ([`tracker_store::AccessStore::data_stamp`]) taken before
//! they were read. A search takes the stamp first and uses what is kept
//! only while the stamp still reads the same: nothing was committed since,
//! by this node or another, so it is exactly what reading afresh would give
//! (the rule [`crate::answers`] keeps issue answers by). One short
//! statement, shared by the searches that ask at the same time, then
//! stands in for reading every grant of every queue (a profile of
//! `Queue: INFRA Status: open` at 1 000 000 issues put a tenth of the
//! request's CPU there: 20 queues, 320 grants).

use std::future::Future;
use std::sync::Arc;

use tracker_domain::permissions::Grants;
use tracker_store::QueueRecord;

use super::plan::Person;
use crate::error::ApiResult;

/// Organizations whose facts a node keeps at most; the least used go first.
const ORGS_KEPT: u64 = 1024;

/// One kind of fact, per organization.
pub(super) struct Kept<T> {
    by_org: moka::sync::Cache<i64, Arc<(String, Arc<T>)>>,
}

impl<T: Send + Sync + 'static> Kept<T> {
    fn new() -> Self {
        Self {
            by_org: moka::sync::Cache::new(ORGS_KEPT),
        }
    }

    /// What is kept for `org` under `stamp`, or what `read` (run after the
    /// stamp was taken) gives, then kept under it.
    pub(super) async fn get<F, Fut>(&self, org: i64, stamp: &str, read: F) -> ApiResult<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        if let Some(kept) = self.by_org.get(&org) {
            if kept.0 == stamp {
                return Ok(kept.1.clone());
            }
        }
        let fresh = Arc::new(read().await?);
        self.by_org
            .insert(org, Arc::new((stamp.to_owned(), fresh.clone())));
        Ok(fresh)
    }
}

/// The facts searches keep (see the module's comment).
pub struct SearchFacts {
    pub(super) queues: Kept<Vec<(QueueRecord, Grants)>>,
    pub(super) people: Kept<Vec<Person>>,
}

impl SearchFacts {
    pub fn new() -> Self {
        Self {
            queues: Kept::new(),
            people: Kept::new(),
        }
    }
}

impl Default for SearchFacts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kept_fact_is_used_under_its_stamp_and_read_again_under_another() {
        let kept: Kept<u32> = Kept::new();
        let reads = std::sync::atomic::AtomicU32::new(0);
        let read = || async { Ok(reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1) };
        assert_eq!(*kept.get(7, "s1", read).await.unwrap(), 1);
        assert_eq!(
            *kept.get(7, "s1", read).await.unwrap(),
            1,
            "same stamp: kept"
        );
        assert_eq!(
            *kept.get(8, "s1", read).await.unwrap(),
            2,
            "another organization"
        );
        assert_eq!(
            *kept.get(7, "s2", read).await.unwrap(),
            3,
            "the stamp moved"
        );
        assert_eq!(*kept.get(7, "s2", read).await.unwrap(), 3);
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
