//! Scroll snapshots: kept in this process's memory (a scroll is served by
//! the node that opened it), and the links that lead from page to page.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PER_SCROLL: usize = 100;
pub const MAX_PER_SCROLL: usize = 1000;
pub const DEFAULT_SCROLL_TTL_MS: i64 = 60_000;
/// A scroll lives at most this long between two pages, whatever it asks for.
pub const MAX_SCROLL_TTL_MS: i64 = 3_600_000;

pub(super) fn scroll_ttl(v: Option<i64>) -> ApiResult<i64> {
    match v {
        None => Ok(DEFAULT_SCROLL_TTL_MS),
        Some(n) if (1..=MAX_SCROLL_TTL_MS).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "scrollTTLMillis must be between 1 and {MAX_SCROLL_TTL_MS}, not {n}"
        ))),
    }
}

/// The request's query without `drop`ped parameters, plus `add`.
pub(super) fn link_query(raw: Option<&str>, drop: &[&str], add: &[(&str, String)]) -> String {
    let mut kept: Vec<(String, String)> = raw
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .collect();
    kept.extend(add.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    serde_urlencoded::to_string(&kept).unwrap_or_default()
}

pub(super) fn next_link(url: &str, raw: Option<&str>, id: &str, token: &str, ttl: i64) -> String {
    let q = link_query(
        raw,
        &[
            "scrollType",
            "perScroll",
            "scrollId",
            "scrollToken",
            "scrollTTLMillis",
            "page",
            "perPage",
        ],
        &[
            ("scrollTTLMillis", ttl.to_string()),
            ("scrollId", id.to_owned()),
            ("scrollToken", token.to_owned()),
        ],
    );
    format!("<{url}?{q}>; rel=\"next\"")
}

pub struct Scroll {
    pub org: i64,
    pub uid: i64,
    pub token: String,
    /// The snapshot: matching issues in scroll order.
    pub pks: Vec<i64>,
    pub per: usize,
    pub ttl_ms: i64,
    pub expires: DateTime<Utc>,
}

#[derive(Default)]
pub struct Scrolls(Mutex<HashMap<String, Scroll>>);

pub(super) fn random_hex() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..2)
        .map(|_| format!("{:016x}", rng.gen::<u64>()))
        .collect()
}

impl Scrolls {
    /// Stores a snapshot; answers its id and token. Expired snapshots are
    /// dropped on the way.
    pub(super) fn open(&self, s: Scroll, now: DateTime<Utc>) -> (String, String) {
        let id = random_hex();
        let token = s.token.clone();
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, v| v.expires > now);
            map.insert(id.clone(), s);
        }
        (id, token)
    }

    /// The issues of the page at `offset`, the page size, the total, the
    /// token, the TTL and whether this is the last page (which closes it).
    #[allow(clippy::type_complexity)]
    pub(super) fn page(
        &self,
        ctx: &str,
        org: i64,
        uid: i64,
        offset: usize,
        now: DateTime<Utc>,
        ttl: Option<i64>,
    ) -> Option<(Vec<i64>, usize, usize, String, i64, bool)> {
        let mut map = self.0.lock().ok()?;
        let s = map.get_mut(ctx)?;
        if s.org != org || s.uid != uid {
            return None;
        }
        if s.expires <= now {
            map.remove(ctx);
            return None;
        }
        if offset > s.pks.len() {
            return None;
        }
        if let Some(t) = ttl {
            s.ttl_ms = t;
        }
        s.expires = now + chrono::TimeDelta::milliseconds(s.ttl_ms);
        let end = (offset + s.per).min(s.pks.len());
        let out = (
            s.pks[offset..end].to_vec(),
            s.per,
            s.pks.len(),
            s.token.clone(),
            s.ttl_ms,
            end >= s.pks.len(),
        );
        if out.5 {
            map.remove(ctx);
        }
        Some(out)
    }

    pub(super) fn close(&self, ctx: &str, org: i64, uid: i64, token: &str) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return false;
        };
        let owned = map
            .get(ctx)
            .is_some_and(|s| s.org == org && s.uid == uid && s.token == token);
        if owned {
            map.remove(ctx);
        }
        owned
    }

    /// How many snapshots are held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_up_scroll_page_closes_the_snapshot() {
        let s = Scrolls::default();
        let now = Utc::now();
        let (id, token) = s.open(
            Scroll {
                org: 1,
                uid: 2,
                token: "t".into(),
                pks: vec![1, 2, 3],
                per: 2,
                ttl_ms: 1000,
                expires: now + chrono::TimeDelta::seconds(1),
            },
            now,
        );
        assert_eq!(token, "t");
        assert!(s.page(&id, 1, 3, 2, now, None).is_none(), "another user");
        let (pks, _, total, _, _, last) = s.page(&id, 1, 2, 2, now, None).unwrap();
        assert_eq!((pks, total, last), (vec![3], 3, true));
        assert!(s.is_empty());
    }
}
