//! `GET /v2/issues/{key}` answers kept between requests, each with the data
//! stamp ([`tracker_store::AccessStore::data_stamp`]) taken before it was
//! rendered. A read takes the stamp first and serves a kept answer only
//! while the stamp still reads the same: nothing was committed since, by
//! this node, another node or an admin command, so the answer is exactly
//! what rendering afresh would give. One short statement then stands in for
//! the issue's lookup, the access checks' lookups and the rendering (a
//! profile of an issue read put four fifths of its cost there).
//!
//! An answer is kept per caller (the access decision is the caller's), per
//! link base and API version, and per `expand` / `fields`; only answers that
//! did not depend on the time (a checklist deadline's `isExceeded` does) and
//! only successes. Nothing here can change an answer, so several nodes with
//! caches of their own still answer as one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::auth::Principal;
use crate::extract::Links;
use crate::render::GetParams;

/// What a kept answer is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    org: i64,
    uid: i64,
    org_admin: bool,
    /// The issue as the path names it (key, old key or id).
    issue: String,
    base: String,
    version: &'static str,
    expand: Option<String>,
    fields: Option<String>,
}

impl AnswerKey {
    pub fn new(principal: &Principal, links: &Links, issue: &str, params: &GetParams) -> Self {
        Self {
            org: principal.org.id,
            uid: principal.user.uid,
            org_admin: principal.org_admin,
            issue: issue.to_owned(),
            base: links.base.clone(),
            version: links.version,
            expand: params.expand.clone(),
            fields: params.fields.clone(),
        }
    }
}

struct Answer {
    stamp: String,
    body: Bytes,
}

pub struct Answers {
    /// `None` when `answers.max_bytes` is 0.
    kept: Option<moka::sync::Cache<AnswerKey, Arc<Answer>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Answers {
    /// Answers of at most `max_bytes` in all (0: none are kept).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            kept: (max_bytes > 0).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(max_bytes)
                    .weigher(|k: &AnswerKey, a: &Arc<Answer>| {
                        let size = k.issue.len() + k.base.len() + a.stamp.len() + a.body.len();
                        u32::try_from(size + 128).unwrap_or(u32::MAX)
                    })
                    .build()
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.kept.is_some()
    }

    /// The kept answer for `key`, if it was rendered at `stamp`.
    pub fn get(&self, key: &AnswerKey, stamp: &str) -> Option<Bytes> {
        let kept = self.kept.as_ref()?;
        let hit = kept
            .get(key)
            .filter(|a| a.stamp == stamp)
            .map(|a| a.body.clone());
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Keeps `body`, rendered from data read after `stamp` was taken.
    pub fn put(&self, key: AnswerKey, stamp: String, body: Bytes) {
        if let Some(kept) = &self.kept {
            kept.insert(key, Arc::new(Answer { stamp, body }));
        }
    }

    /// (hits, misses) so far, for `/metrics` and the tests.
    pub fn lookups(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}
